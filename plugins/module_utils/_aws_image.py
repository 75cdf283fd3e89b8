# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An AMI from the EBS snapshot an AWS prepare produced: RegisterImage (bring your own licence) or
ImportImage with DiskContainers[].SnapshotId (licence included, AWS adapts the OS).

boto3 is imported only when this runs. Everything is found again by name, so a re-run changes nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible_collections.citrix_community.ips.plugins.module_utils import _aws_auth, _waiter
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError

try:
    import boto3  # noqa: F401 pylint: disable=unused-import
    from botocore.config import Config
    from botocore.exceptions import ClientError
    HAS_BOTO3 = True
    BOTO3_IMPORT_ERROR = None
except ImportError:
    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR = traceback.format_exc()

BOOT_MODES = {"uefi": "uefi", "bios": "legacy-bios"}
# The tag an import task and its image carry, so a re-run finds them by the requested name.
NAME_TAG = "ips-ansible-image"


# How ips_aws_image names each sign-in setting in messages.
OPTION_NAMES = {"access_key_id": "aws_access_key_id", "secret_access_key": "aws_secret_access_key", "session_token": "aws_session_token",
                "profile": "aws_profile", "region": "region (or aws_region)"}


class AwsImageError(IPSError):
    """An EC2 call failed; the message names the call and AWS's reason."""


def client(params):
    cfg = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=15, read_timeout=60)
    session, region = _aws_auth.session(params["aws_access_key_id"], params["aws_secret_access_key"], params["aws_session_token"],
                                        params.get("aws_profile"), params["region"], names=OPTION_NAMES)
    return session.client("ec2", region_name=region, endpoint_url=params["endpoint_url"], config=cfg)


def call(ec2, operation, **kwargs):
    try:
        return getattr(ec2, operation)(**kwargs)
    except ClientError as exc:
        err = exc.response.get("Error", {})
        raise AwsImageError("EC2 %s failed: %s %s" % (operation, err.get("Code", "?"), err.get("Message", "")))
    except Exception as exc:  # BotoCoreError, and botocore's ResponseParserError on a non-XML 500 answer
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AwsImageError("EC2 %s failed: %s" % (operation, reason))


def find_image(ec2, name):
    """The AMI (owned by this account) named `name` or tagged with it by an import, or None."""
    for filters in ([{"Name": "name", "Values": [name]}], [{"Name": "tag:%s" % NAME_TAG, "Values": [name]}]):
        images = [i for i in call(ec2, "describe_images", Owners=["self"], Filters=filters)["Images"] if i.get("State") != "deregistered"]
        if images:
            return sorted(images, key=lambda i: i.get("CreationDate", ""))[-1]
    return None


def check_snapshot(ec2, snapshot_id):
    try:
        snaps = call(ec2, "describe_snapshots", SnapshotIds=[snapshot_id])["Snapshots"]
    except AwsImageError as exc:
        raise AwsImageError("The snapshot %s could not be found (%s); give the snapshot_id an ips_prepare on AWS returned." % (snapshot_id, exc))
    if not snaps:
        raise AwsImageError("The snapshot %s does not exist in this region." % snapshot_id)
    if snaps[0]["State"] != "completed":
        raise AwsImageError("The snapshot %s is %s; wait until it is completed." % (snapshot_id, snaps[0]["State"]))
    return snaps[0]


def tag_list(params):
    tags = dict(params["tags"] or {})
    tags[NAME_TAG] = params["name"]
    return [{"Key": str(k), "Value": str(v)} for k, v in sorted(tags.items())]


def register_request(params):
    """The RegisterImage arguments for the BYOL route."""
    mapping = {"DeviceName": params["root_device_name"],
               "Ebs": {"SnapshotId": params["snapshot_id"], "VolumeType": params["volume_type"], "DeleteOnTermination": True}}
    kwargs = dict(Name=params["name"], Architecture=params["architecture"], RootDeviceName=params["root_device_name"],
                  BlockDeviceMappings=[mapping], VirtualizationType="hvm", EnaSupport=params["ena_support"],
                  BootMode=BOOT_MODES[params["boot_mode"]], TagSpecifications=[{"ResourceType": "image", "Tags": tag_list(params)}])
    if params["description"]:
        kwargs["Description"] = params["description"]
    return kwargs


def import_request(params):
    """The ImportImage arguments for the licence-included route."""
    return dict(Description=params["description"] or params["name"], DiskContainers=[{"SnapshotId": params["snapshot_id"]}],
                LicenseType="AWS", Platform="Windows", Architecture=params["architecture"], BootMode=BOOT_MODES[params["boot_mode"]],
                TagSpecifications=[{"ResourceType": "import-image-task", "Tags": tag_list(params)}])


def find_import_task(ec2, name):
    tasks = call(ec2, "describe_import_image_tasks", Filters=[{"Name": "tag:%s" % NAME_TAG, "Values": [name]}]).get("ImportImageTasks", [])
    active = [t for t in tasks if t.get("Status") in ("active", "pending")]
    return active[0] if active else None


def wait_import(ec2, task_id, waiter):
    """Wait for the import task to complete; returns the new image id."""
    def look():
        task = call(ec2, "describe_import_image_tasks", ImportTaskIds=[task_id])["ImportImageTasks"][0]
        if task.get("Status") in ("deleted", "deleting"):
            raise AwsImageError("The import task %s ended %s: %s" % (task_id, task.get("Status"), task.get("StatusMessage", "")))
        return task

    def status(task):
        progress = task.get("Progress")
        return _waiter.Status(task_id, task.get("Status"), int(progress) if str(progress or "").isdigit() else None, task.get("StatusMessage"))

    return waiter.until("The import task", look, lambda t: t.get("Status") == "completed", status)["ImageId"]


def wait_available(ec2, image_id, waiter, first=None):
    """Wait for the image to become available; returns it."""
    def look():
        image = call(ec2, "describe_images", ImageIds=[image_id])["Images"][0]
        if image["State"] in ("failed", "error", "invalid"):
            raise AwsImageError("The image %s became %s: %s" % (image_id, image["State"], image.get("StateReason", {}).get("Message", "")))
        return image

    return waiter.until("The image", look, lambda i: i["State"] == "available",
                        lambda i: _waiter.Status(image_id, i["State"], None, None), first=first)


def shape(image, params):
    if not image:
        return {}
    tags = dict((t["Key"], t["Value"]) for t in image.get("Tags") or [])
    return dict(image_id=image["ImageId"], name=image.get("Name"), state=image.get("State"), boot_mode=image.get("BootMode"),
                ena_support=image.get("EnaSupport"), architecture=image.get("Architecture"), tags=tags,
                root_snapshot_id=next((m["Ebs"].get("SnapshotId") for m in image.get("BlockDeviceMappings") or [] if m.get("Ebs")), None))

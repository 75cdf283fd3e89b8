"""The prepare job's real work: check that the target disk exists in the platform's stand-in, then
produce the output artifact there.

One checker per platform. Each gets the job's parameters, the wallet look-up and the lab's cloud
endpoints, and returns the artifacts it produced (or raises WorkFailed naming what is missing):

  aws     moto (IPS_LAB_MOTO_URL): the target snapshot or volume must exist (a snapshot must be
          completed); the prepared result is a new EBS volume and a snapshot of it, tagged with the
          job's tags and Name = outputDiskName (or the target).
  azure   the lab's Azure plane (clouds `azure`): the target managed disk (targetDiskName; a
          targetSnapshotName is looked up as a disk too, the plane has no snapshots) must exist in
          the job's resource group (targetDiskResourceGroupName, else targetResourceGroup) of its
          subscription (azureSubscriptionId), be Unattached (an upload revoked with a valid VHD
          footer, or a copy of one). The output (outputDiskName, or outputSnapshotName made as a
          disk) is a new managed disk copied from it (createOption Copy) in the same resource group,
          tagged with the job's tags; without an output name the target is prepared in place.
  gcp     the lab's GCE plane (clouds `gce`): the target image (targetImageName; a prepare-and-publish
          names it targetDiskName) must exist in the project of the wallet's service-account key and
          be READY; the output is a disk (outputDiskName, else the image's name) made from it in
          gcpZone (disks.insert, waited for).
  vsphere, xen, ahv: the hypervisors have no disk model in the lab; no check.

An existing output disk is replaced only when the body sets overwriteTargetFile; otherwise the job
fails with OutputExists (so a re-run after the service forgot the job cannot clobber it).
The lab signs in to the planes with their own principal/token (the cloud config), not with the
wallet's secrets: the wallet credential must exist and have the platform's type.
Without a configured endpoint (the lab's in-process tests), a checker skips its check.
"""

import json
import re
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request

from ..common import rules
from .errors import WorkFailed

ARM_API = "2024-03-02"
AZURE_SCOPE = "https://management.azure.com/.default"


def outputs(parameters):
    """The names a prepare reports whatever the platform: its output, or the target prepared in place."""
    found = {k: parameters[k] for k in rules.PREPARE_OUTPUTS if parameters.get(k)}
    if not found:
        found["outputDiskName"] = target_of(parameters)[1]
    return found


def target_of(parameters):
    """(field, value) of the selector naming the disk."""
    return next((f, parameters[f]) for f in rules.ALL_SELECTORS if parameters.get(f))


def _aws_client(parameters, credential_of, clouds):
    import boto3
    from botocore.config import Config

    cred_type, secrets = credential_of(parameters["platformCredentialId"])
    if cred_type != "Aws":
        raise WorkFailed("CredentialNotFound", "The AWS credential '%s' is no longer in the wallet." % parameters["platformCredentialId"])
    return boto3.client("ec2", endpoint_url=clouds["moto_url"], region_name=parameters.get("awsRegion") or "us-east-1",
                        aws_access_key_id=secrets["accessKeyId"], aws_secret_access_key=secrets["secretAccessKey"],
                        aws_session_token=secrets.get("sessionToken"),
                        config=Config(retries={"max_attempts": 2}, connect_timeout=10, read_timeout=30))


def check_aws(parameters, credential_of, clouds):
    if not clouds.get("moto_url"):
        return {}
    from botocore.exceptions import BotoCoreError, ClientError

    field, target = target_of(parameters)
    region = parameters.get("awsRegion") or "us-east-1"
    ec2 = _aws_client(parameters, credential_of, clouds)
    name = parameters.get("outputDiskName") or target
    tags = [{"Key": k, "Value": v} for k, v in sorted((parameters.get("tags") or {}).items())] + [{"Key": "Name", "Value": name}]
    try:
        if field == "targetSnapshotId":
            snaps = ec2.describe_snapshots(SnapshotIds=[target])["Snapshots"]
            if not snaps or snaps[0]["State"] != "completed":
                state = snaps[0]["State"] if snaps else "missing"
                raise WorkFailed("TargetNotReady", "The snapshot '%s' in %s is not completed (state %s)." % (target, region, state))
            volume = ec2.create_volume(SnapshotId=target, AvailabilityZone=region + "a",
                                       TagSpecifications=[{"ResourceType": "volume", "Tags": tags}])["VolumeId"]
        else:
            ec2.describe_volumes(VolumeIds=[target])
            volume = target
        snapshot = ec2.create_snapshot(VolumeId=volume, Description="Prepared by IPS (lab) from %s" % target,
                                       TagSpecifications=[{"ResourceType": "snapshot", "Tags": tags}])["SnapshotId"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code.startswith(("InvalidSnapshot", "InvalidVolume")) or code == "InvalidParameterValue":
            kind = "snapshot" if field == "targetSnapshotId" else "volume"
            raise WorkFailed("TargetNotFound", "The %s '%s' (%s) does not exist in AWS region %s." % (kind, target, field, region))
        raise WorkFailed("CloudError", "AWS answered %s: %s" % (code, exc.response.get("Error", {}).get("Message", "")))
    except BotoCoreError as exc:
        raise WorkFailed("CloudUnreachable", "AWS could not be reached: %s" % exc)
    return {"volumeId": volume, "snapshotId": snapshot, "outputDiskName": name}


def _http(method, url, body=None, headers=None, context=None, form=False, timeout=600):
    """(status, parsed JSON or None) of one call to a plane; WorkFailed CloudUnreachable when it cannot be reached.
    The plane copies a disk inside its PUT (Azurite's Copy Blob): with 20 prepares at once on a loaded machine that
    took over a minute, and a 60 s timeout failed jobs the real service would finish (bench/migrations.py, N=20)."""
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = urllib.parse.urlencode(body).encode() if form else json.dumps(body).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded" if form else "application/json"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with opener.open(request, timeout=timeout) as answer:
            raw, status = answer.read(), answer.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    except (OSError, ValueError) as exc:
        raise WorkFailed("CloudUnreachable", "The cloud could not be reached: %s" % exc)
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def _platform_credential(parameters, credential_of, wanted):
    cred_type, secrets = credential_of(parameters["platformCredentialId"])
    if cred_type != wanted:
        raise WorkFailed("CredentialNotFound", "The %s credential '%s' is no longer in the wallet." % (wanted, parameters["platformCredentialId"]))
    return secrets


class _Arm(object):
    """ARM calls to the lab's Azure plane with a client-credentials token."""

    def __init__(self, cfg):
        self.base = cfg["url"].rstrip("/")
        self.context = ssl.create_default_context(cafile=cfg["ca_path"])
        status, token = _http("POST", "%s/%s/oauth2/v2.0/token" % (self.base, cfg["tenant_id"]), {
            "grant_type": "client_credentials", "client_id": cfg["client_id"], "client_secret": cfg["client_secret"],
            "scope": AZURE_SCOPE}, context=self.context, form=True)
        if status != 200 or not token or "access_token" not in token:
            raise WorkFailed("CloudAuthenticationFailed", "Signing in to Azure failed (HTTP %s: %s)." % (status, (token or {}).get("error")))
        self.headers = {"Authorization": "Bearer " + token["access_token"], "Accept": "application/json"}

    def call(self, method, path, body=None):
        url = "%s%s?api-version=%s" % (self.base, path, ARM_API)
        status, answer = _http(method, url, body, self.headers, self.context)
        error = (answer or {}).get("error") if isinstance(answer, dict) else None
        return status, answer, (error or {}).get("code"), (error or {}).get("message")


def check_azure(parameters, credential_of, clouds):
    cfg = clouds.get("azure")
    if not cfg:
        return {}
    _platform_credential(parameters, credential_of, "Azure")
    field, target = target_of(parameters)
    subscription = parameters.get("azureSubscriptionId") or cfg["subscription_id"]
    group = parameters.get("targetDiskResourceGroupName") or parameters.get("targetResourceGroup")
    if not group:
        raise WorkFailed("InvalidParameter", "The job names no resource group (targetResourceGroup), so the target disk '%s' cannot be found."
                         % target)
    arm = _Arm(cfg)
    disks = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/disks/" % (subscription, group)
    status, disk, code, message = arm.call("GET", disks + urllib.parse.quote(target))
    kind = "disk" if field == "targetDiskName" else "snapshot (looked up as a managed disk)"
    if code == "SubscriptionNotFound":
        raise WorkFailed("TargetNotFound", "The subscription '%s' (azureSubscriptionId) was not found." % subscription)
    if code == "ResourceGroupNotFound":
        raise WorkFailed("TargetNotFound", "The resource group '%s' was not found in subscription %s." % (group, subscription))
    if status == 404:
        raise WorkFailed("TargetNotFound", "The target %s '%s' was not found in resource group '%s'." % (kind, target, group))
    if status != 200:
        raise WorkFailed("CloudError", "Azure answered %s %s: %s" % (status, code, message))
    props = disk["properties"]
    state, option = props.get("diskState"), props.get("creationData", {}).get("createOption")
    if option not in ("Upload", "Copy"):
        raise WorkFailed("InvalidImage", "The target %s '%s' in resource group '%s' was created with createOption %s; it holds no uploaded "
                         "image." % (kind, target, group, option))
    if state != "Unattached":
        raise WorkFailed("TargetNotReady", "The target %s '%s' in resource group '%s' is %s; it must be Unattached (upload finished and "
                         "access revoked)." % (kind, target, group, state))
    name = parameters.get("outputDiskName") or parameters.get("outputSnapshotName")
    if not name:
        return {"outputDiskName": target, "outputDiskId": disk["id"]}
    status, existing, code, message = arm.call("GET", disks + urllib.parse.quote(name))
    if status == 200:
        if not parameters.get("overwriteTargetFile"):
            raise WorkFailed("OutputExists", "The output disk '%s' already exists in resource group '%s'; the job does not replace it unless "
                             "'overwriteTargetFile' is true." % (name, group))
        status, _gone, code, message = arm.call("DELETE", disks + urllib.parse.quote(name))
        if status not in (200, 202, 204):
            raise WorkFailed("CloudError", "Deleting the old output disk '%s' failed: %s %s" % (name, code, message))
    tags = dict((k, v) for k, v in (parameters.get("tags") or {}).items())
    body = {"location": disk["location"], "tags": tags, "sku": disk.get("sku") or {"name": "Standard_LRS"},
            "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": disk["id"]}}}
    for key in ("osType", "hyperVGeneration"):
        if props.get(key):
            body["properties"][key] = props[key]
    status, made, code, message = arm.call("PUT", disks + urllib.parse.quote(name), body)
    if status not in (200, 201):
        raise WorkFailed("CloudError", "Creating the output disk '%s' in resource group '%s' failed: %s %s" % (name, group, code, message))
    artifacts = {"outputDiskName": name, "outputDiskId": made["id"]}
    if parameters.get("outputSnapshotName"):
        artifacts["outputSnapshotName"] = name
    return artifacts


def _gcp_label(text):
    text = re.sub(r"[^a-z0-9_-]", "-", str(text).lower())[:63]
    return text if re.match(r"^[a-z]", text) else ("x" + text)[:63]


def check_gcp(parameters, credential_of, clouds):
    cfg = clouds.get("gce")
    if not cfg:
        return {}
    key = _platform_credential(parameters, credential_of, "Gcp")["serviceAccountKey"]
    project = (key if isinstance(key, dict) else json.loads(key)).get("project_id")
    _field, image_name = target_of(parameters)
    zone = parameters.get("gcpZone")
    if not zone:
        raise WorkFailed("InvalidParameter", "The job names no zone (gcpZone), so the prepared disk cannot be made.")
    base = "%s/compute/v1/projects/%s" % (cfg["url"].rstrip("/"), urllib.parse.quote(project))
    headers = {"Authorization": "Bearer " + cfg["token"], "Accept": "application/json"}

    def call(method, path, body=None):
        status, answer = _http(method, base + path, body, headers)
        message = ((answer or {}).get("error") or {}).get("message") if isinstance(answer, dict) else None
        return status, answer, message

    status, image, message = call("GET", "/global/images/" + urllib.parse.quote(image_name))
    if status == 404:
        raise WorkFailed("TargetNotFound", "The target image '%s' was not found in GCP project '%s'." % (image_name, project))
    if status != 200:
        raise WorkFailed("CloudError", "GCP answered %s: %s" % (status, message))
    if image.get("status") != "READY":
        raise WorkFailed("TargetNotReady", "The target image '%s' in GCP project '%s' is %s; it must be READY."
                         % (image_name, project, image.get("status")))
    name = parameters.get("outputDiskName") or image_name
    disk_path = "/zones/%s/disks/%s" % (urllib.parse.quote(zone), urllib.parse.quote(name))
    status, _existing, message = call("GET", disk_path)
    if status == 200:
        if not parameters.get("overwriteTargetFile"):
            raise WorkFailed("OutputExists", "The output disk '%s' already exists in zone %s of GCP project '%s'; the job does not replace "
                             "it unless 'overwriteTargetFile' is true." % (name, zone, project))
        status, op, message = call("DELETE", disk_path)
        if status != 200:
            raise WorkFailed("CloudError", "Deleting the old output disk '%s' failed: %s" % (name, message))
    elif status == 404 and message and "zones/%s'" % zone in message:
        raise WorkFailed("InvalidParameter", "The zone '%s' (gcpZone) does not exist." % zone)
    labels = dict((_gcp_label(k), _gcp_label(v)) for k, v in (parameters.get("tags") or {}).items())
    status, op, message = call("POST", "/zones/%s/disks" % urllib.parse.quote(zone),
                               {"name": name, "sourceImage": "global/images/" + image_name, "labels": labels})
    if status != 200:
        raise WorkFailed("CloudError", "Creating the disk '%s' from image '%s' failed: %s" % (name, image_name, message))
    deadline = time.monotonic() + 120
    while op.get("status") != "DONE" and time.monotonic() < deadline:
        status, op, message = call("POST", "/zones/%s/operations/%s/wait" % (urllib.parse.quote(zone), op["name"]))
        if status != 200:
            raise WorkFailed("CloudError", "Waiting for the disk '%s' failed: %s" % (name, message))
    if op.get("error"):
        raise WorkFailed("CloudError", "Creating the disk '%s' failed: %s" % (name, op["error"]["errors"][0]["message"]))
    status, disk, message = call("GET", disk_path)
    if status != 200:
        raise WorkFailed("CloudError", "The disk '%s' is not there after its creation: %s" % (name, message))
    return {"outputDiskName": name, "outputDiskId": disk["id"], "outputDiskSelfLink": disk["selfLink"]}


CHECKERS = {"aws": check_aws, "azure": check_azure, "gcp": check_gcp}


def run_prepare(parameters, credential_of, clouds):
    """Do one prepare; returns its artifacts or raises WorkFailed."""
    artifacts = outputs(parameters)
    checker = CHECKERS.get(parameters["platform"])
    if checker is not None:
        artifacts.update(checker(parameters, credential_of, clouds))
    return artifacts

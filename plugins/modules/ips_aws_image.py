#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ips_aws_image
short_description: Make an AMI from the EBS snapshot an AWS prepare produced
version_added: 0.1.0
description:
  - Registers an Amazon Machine Image from the snapshot that M(citrix_community.ips.ips_prepare) made on AWS (its C(snapshot_id) result),
    with UEFI or BIOS boot mode, ENA support and tags. Idempotent by O(name); an AMI of that name (or an import tagged with it)
    means nothing to do.
  - With O(license=byol) (the default) the AMI is registered straight from the snapshot (EC2 C(RegisterImage)).
  - With O(license=aws) the image is imported instead (EC2 C(ImportImage) with C(DiskContainers[].SnapshotId)), which gives the AMI
    the Windows licence-included billing code and lets AWS adapt drivers. Imports take minutes to hours.
  - Talks to AWS only, not to Citrix Cloud. Needs the C(boto3) Python library.
author:
  - citrix_community.ips maintainers (@citrix-community)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Check mode verifies the snapshot exists and predicts the change; nothing is registered.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  action_group:
    description: Use C(group/citrix_community.ips.aws) in C(module_defaults) to set the AWS sign-in once (with ips_upload).
    support: full
    membership:
      - citrix_community.ips.aws
options:
  name:
    description: The AMI name; also how a re-run finds the image.
    type: str
    required: true
  state:
    description:
      - V(present) makes the AMI if no image of that name exists. V(absent) deregisters it (its snapshots stay).
    type: str
    choices: [present, absent]
    default: present
  snapshot_id:
    description: The EBS snapshot of the prepared disk. Required when O(state=present).
    type: str
  license:
    description:
      - V(byol) registers the snapshot as it is; you bring the Windows licence (for example dedicated hosts with BYOL).
      - V(aws) imports it with the licence-included Windows billing code.
    type: str
    choices: [byol, aws]
    default: byol
  boot_mode:
    description: The boot mode of the image. Use V(uefi) for GPT disks (see M(citrix_community.ips.ips_pvs_image) to convert).
    type: str
    choices: [uefi, bios]
    default: uefi
  ena_support:
    description: Mark the image as supporting the Elastic Network Adapter (the prepared image must have the ENA driver).
    type: bool
    default: true
  architecture:
    description: The CPU architecture.
    type: str
    choices: [x86_64, arm64]
    default: x86_64
  root_device_name:
    description: The root device name of the image.
    type: str
    default: /dev/sda1
  volume_type:
    description: The EBS volume type of the root volume of instances launched from the image.
    type: str
    default: gp3
  description:
    description: The image description.
    type: str
  tags:
    description: Tags put on the image. The module adds C(ips-ansible-image) with O(name).
    type: dict
    default: {}
  region:
    description:
      - The AWS region, else the profile's region. There is no built-in default - without one the task fails naming the
        option and the variables.
      - Falls back to E(AWS_REGION), E(AWS_DEFAULT_REGION) or E(EC2_REGION).
    type: str
    aliases: [aws_region]
  aws_profile:
    description:
      - A named profile of the shared AWS config and credentials files, instead of keys.
      - Falls back to E(AWS_PROFILE) or E(AWS_DEFAULT_PROFILE).
    type: str
    aliases: [profile]
  endpoint_url:
    description:
      - The EC2 endpoint, for private endpoints and tests. If not set, the value of E(AWS_ENDPOINT_URL) is used.
    type: str
  aws_access_key_id:
    description:
      - The access key id. Without keys or a profile, boto3 finds credentials itself (instance or task role, web identity, SSO).
      - Falls back to E(AWS_ACCESS_KEY_ID), E(AWS_ACCESS_KEY) or E(EC2_ACCESS_KEY).
    type: str
  aws_secret_access_key:
    description:
      - The secret access key.
      - Falls back to E(AWS_SECRET_ACCESS_KEY), E(AWS_SECRET_KEY) or E(EC2_SECRET_KEY).
    type: str
  aws_session_token:
    description:
      - The session token of temporary credentials (E(AWS_SECURITY_TOKEN) is what AWX's AWS credential injects).
      - Falls back to E(AWS_SESSION_TOKEN), E(AWS_SECURITY_TOKEN) or E(EC2_SECURITY_TOKEN).
    type: str
  wait:
    description: Wait until the image is available (and, with O(license=aws), the import has finished).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait, from 1 to 604800. When they run out the task fails; the work goes on in AWS and a re-run resumes waiting.
    type: int
    default: 3600
  wait_sleep:
    description: Seconds between two looks while waiting, from 1 to 3600.
    type: int
    default: 15
notes:
  - B(Windows licensing.) An AMI registered from a snapshot (O(license=byol)) carries no Windows billing product code.
    AWS then does not bill the Windows licence, and instances from it need licences you bring (BYOL, usually on dedicated
    hosts); older AWS documentation says such Windows instances may fail to launch on shared tenancy.
    Use O(license=aws) for a licence-included Windows AMI (EC2 ImportImage from the snapshot).
requirements:
  - boto3
seealso:
  - module: citrix_community.ips.ips_prepare
"""

EXAMPLES = r"""
- name: Prepare the uploaded snapshot for MCS on AWS
  citrix_community.ips.ips_prepare:
    platform: aws
    aws: {credential_id: aws-ips, region: us-east-2}
    target_snapshot: "{{ upload.snapshot_id }}"
    output_disk_name: win11-prepared
  register: prepared

- name: Register a UEFI AMI from it (bring your own licence)
  citrix_community.ips.ips_aws_image:
    name: win11-2501
    snapshot_id: "{{ prepared.snapshot_id }}"
    region: us-east-2
    boot_mode: uefi
    tags: {owner: euc-team}
  register: ami

- name: Or import it as a licence-included Windows AMI
  citrix_community.ips.ips_aws_image:
    name: win11-2501-li
    snapshot_id: "{{ prepared.snapshot_id }}"
    region: us-east-2
    license: aws
    wait_timeout: 10800

- name: Remove an old AMI
  citrix_community.ips.ips_aws_image:
    name: win11-2410
    state: absent
    region: us-east-2
"""

RETURN = r"""
image_id:
  description: The AMI id.
  returned: when the image exists (or was deregistered by this run)
  type: str
  sample: ami-0123456789abcdef0
image:
  description: The AMI as EC2 describes it (id, name, state, boot mode, ENA support, architecture, tags, root snapshot).
  returned: when the image exists
  type: dict
  sample:
    image_id: ami-0123456789abcdef0
    name: win11-2501
    state: available
    boot_mode: uefi
    ena_support: true
    architecture: x86_64
    tags:
      owner: euc-team
    root_snapshot_id: snap-0fedcba9876543210
request:
  description: The EC2 C(RegisterImage) or C(ImportImage) arguments sent (or that would be sent in check mode).
  returned: when an image is made
  type: dict
  sample:
    Name: win11-2501
    Architecture: x86_64
    BootMode: uefi
    EnaSupport: true
    RootDeviceName: /dev/sda1
    VirtualizationType: hvm
    BlockDeviceMappings:
    - DeviceName: /dev/sda1
      Ebs:
        SnapshotId: snap-0fedcba9876543210
        VolumeType: gp3
import_task_id:
  description: With O(license=aws), the EC2 import task.
  returned: when an import ran or was found running
  type: str
  sample: "import-ami-0123456789abcdef0"
"""

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.citrix_community.ips.plugins.module_utils import _aws_image
from ansible_collections.citrix_community.ips.plugins.module_utils._aws_auth import ENV as AWS_ENV
from ansible_collections.citrix_community.ips.plugins.module_utils import _waiter
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError


def argument_spec():
    return dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        snapshot_id=dict(type="str"),
        license=dict(type="str", default="byol", choices=["byol", "aws"]),
        boot_mode=dict(type="str", default="uefi", choices=["uefi", "bios"]),
        ena_support=dict(type="bool", default=True),
        architecture=dict(type="str", default="x86_64", choices=["x86_64", "arm64"]),
        root_device_name=dict(type="str", default="/dev/sda1"),
        volume_type=dict(type="str", default="gp3"),
        description=dict(type="str"),
        tags=dict(type="dict", default={}),
        region=dict(type="str", aliases=["aws_region"], fallback=(env_fallback, AWS_ENV["region"])),
        aws_profile=dict(type="str", aliases=["profile"], fallback=(env_fallback, AWS_ENV["profile"])),
        endpoint_url=dict(type="str", fallback=(env_fallback, ["AWS_ENDPOINT_URL"])),
        aws_access_key_id=dict(type="str", no_log=False, fallback=(env_fallback, AWS_ENV["access_key_id"])),
        aws_secret_access_key=dict(type="str", no_log=True, fallback=(env_fallback, AWS_ENV["secret_access_key"])),
        aws_session_token=dict(type="str", no_log=True, fallback=(env_fallback, AWS_ENV["session_token"])),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=3600),
        wait_sleep=dict(type="int", default=15),
    )


def main():
    module = AnsibleModule(argument_spec(), supports_check_mode=True, required_if=[("state", "present", ["snapshot_id"])])
    if not _aws_image.HAS_BOTO3:
        module.fail_json(msg=missing_required_lib("boto3"), exception=_aws_image.BOTO3_IMPORT_ERROR)
    try:
        module.exit_json(**run(module))
    except IPSError as err:
        module.fail_json(msg=str(err))


def run(module):
    p = module.params
    ec2 = _aws_image.client(p)
    # one budget for the whole task: the import and the image's availability share wait_timeout
    waiter = _waiter.Waiter(p["wait_timeout"], p["wait_sleep"])
    # Find what exists, by name.
    image = _aws_image.find_image(ec2, p["name"])
    if p["state"] == "absent":
        if image and not module.check_mode:
            _aws_image.call(ec2, "deregister_image", ImageId=image["ImageId"])
        return dict(changed=image is not None, image_id=image["ImageId"] if image else None, image={})
    task = None
    if image is None and p["license"] == "aws":
        task = _aws_image.find_import_task(ec2, p["name"])
    if image is not None:
        if p["wait"] and image["State"] == "pending":
            image = _aws_image.wait_available(ec2, image["ImageId"], waiter, first=image)
        return dict(changed=False, image_id=image["ImageId"], image=_aws_image.shape(image, p))
    # Decide; check mode stops after checking the snapshot.
    _aws_image.check_snapshot(ec2, p["snapshot_id"])
    if module.check_mode:
        return dict(changed=True, image_id=None, image={},
                    request=_aws_image.import_request(p) if p["license"] == "aws" else _aws_image.register_request(p))
    request = _aws_image.import_request(p) if p["license"] == "aws" else _aws_image.register_request(p)
    result = dict(changed=True, request=request)
    if p["license"] == "aws":
        task_id = task["ImportTaskId"] if task else _aws_image.call(ec2, "import_image", **request)["ImportTaskId"]
        result.update(import_task_id=task_id, image_id=None, image={})
        if not p["wait"]:
            return result
        image_id = _aws_image.wait_import(ec2, task_id, waiter)
    else:
        image_id = _aws_image.call(ec2, "register_image", **request)["ImageId"]
    # Tags again on the image itself: not every EC2 implementation applies TagSpecifications (moto does not).
    _aws_image.call(ec2, "create_tags", Resources=[image_id], Tags=_aws_image.tag_list(p))
    image = _aws_image.call(ec2, "describe_images", ImageIds=[image_id])["Images"][0]
    if p["wait"]:
        image = _aws_image.wait_available(ec2, image_id, waiter, first=image)
    result.update(image_id=image_id, image=_aws_image.shape(image, p))
    return result


if __name__ == "__main__":
    main()

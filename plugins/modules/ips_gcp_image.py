#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ips_gcp_image
short_description: Make a Compute Engine image of a prepared GCP disk, for MCS
version_added: 0.2.0
description:
  - Create a Compute Engine image (C(images.insert) with C(sourceDisk)) from the disk an IPS prepare produced in a
    zone, and wait until it is C(READY). MCS on Google Cloud provisions from such a disk image
    (C(images.folder\<name>.image) in the hosting unit; the C(gcp_image) option of M(citrix_community.ips.ips_mcs_catalog_image)).
  - Idempotent by name. An image with that name made from that disk returns C(changed=false) (one still being made
    is waited for); an image with that name made from another source is an error naming both.
  - Signs in to Google Cloud itself, like M(citrix_community.ips.ips_upload) does.
extends_documentation_fragment:
  - citrix_community.ips.gcp
author:
  - citrix_community.ips maintainers (@citrix-community)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Check mode reads the disk and the image and reports whether the image would be created.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  action_group:
    description: Use C(group/citrix_community.ips.gcp) in C(module_defaults) to set the C(gcp_*) options once.
    support: full
    membership:
      - citrix_community.ips.gcp
options:
  name:
    description: The image's name.
    type: str
    required: true
  source_disk:
    description: The prepared disk's name.
    type: str
    required: true
  zone:
    description: The disk's zone, for example V(us-east4-a).
    type: str
    required: true
  description:
    description: The image's description.
    type: str
  family:
    description: The image family to put the image in.
    type: str
  labels:
    description: Labels of the image.
    type: dict
  wait_timeout:
    description:
      - Seconds to wait for the image. When they run out the task fails with the operation id; nothing is cancelled, and
        running the task again waits for the same image. From 1 to 604800 (a week).
    type: int
    default: 3600
  wait_sleep:
    description: Seconds between two looks at the operation. From 1 to 3600.
    type: int
    default: 5
seealso:
  - module: citrix_community.ips.ips_mcs_catalog_image
  - module: citrix_community.ips.ips_aws_image
"""

EXAMPLES = r"""
- name: An image of the prepared disk
  citrix_community.ips.ips_gcp_image:
    name: win11-mcs
    source_disk: win11-mcs
    zone: us-east4-a
    gcp_project: my-project
    gcp_service_account_file: /secure/key.json
  register: gcp_image

- name: The catalog runs it
  citrix_community.ips.ips_mcs_catalog_image:
    catalog: Win11-GCP
    gcp_image: "{{ gcp_image.image.name }}"
"""

RETURN = r"""
image:
  description: The image (name, id, self_link, status, disk_size_gb, source_disk); null in check mode when it would be created.
  returned: always
  type: dict
  sample:
    name: win11-mcs
    id: "7000000000000001000"
    self_link: https://compute.googleapis.com/compute/v1/projects/my-project/global/images/win11-mcs
    status: READY
    disk_size_gb: "64"
    source_disk: https://compute.googleapis.com/compute/v1/projects/my-project/zones/us-east4-a/disks/win11-mcs
"""

import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError
from ansible_collections.citrix_community.ips.plugins.module_utils._gcp_auth import module_options
from ansible_collections.citrix_community.ips.plugins.module_utils._option_ranges import range_problems
from ansible_collections.citrix_community.ips.plugins.module_utils._waiter import Status, Waiter


def shape(image):
    if not image:
        return None
    return {"name": image.get("name"), "id": image.get("id"), "self_link": image.get("selfLink"), "status": image.get("status"),
            "disk_size_gb": image.get("diskSizeGb"), "source_disk": image.get("sourceDisk")}


def same_disk(image, zone, disk):
    return (image.get("sourceDisk") or "").endswith("/zones/%s/disks/%s" % (zone, disk))


def main(module):
    from ansible_collections.citrix_community.ips.plugins.module_utils._gce import from_module

    p = module.params
    gce = from_module(module, "the disk and the image")
    disk_path = "zones/%s/disks/%s" % (p["zone"], p["source_disk"])
    waiter = Waiter(p["wait_timeout"], p["wait_sleep"], resume="run the task again to wait for the same image")
    # find what exists: the image by name
    image = gce.call("GET", "global/images/%s" % p["name"], doing="read the image %s" % p["name"], ok404=True)
    if image is not None and not same_disk(image, p["zone"], p["source_disk"]):
        raise IPSError("The image %s exists already, made from %s, not from the disk %s: choose another name (name) or delete it."
                       % (p["name"], image.get("sourceDisk") or (image.get("rawDisk") or {}).get("source") or "another source", disk_path))
    if image is not None and image.get("status") == "READY":
        return dict(changed=False, image=shape(image))
    if image is None:
        disk = gce.call("GET", disk_path, doing="read the disk", ok404=True)
        if disk is None:
            raise IPSError("The disk %s (source_disk) is not in zone %s (zone) of project %s: check the names, or run the prepare first."
                           % (p["source_disk"], p["zone"], p["gcp_project"]))
        if module.check_mode:
            return dict(changed=True, image=None)
        body = {"name": p["name"], "sourceDisk": disk_path}
        for key in ("description", "family", "labels"):
            if p[key]:
                body[key] = p[key]
        op = gce.call("POST", "global/images", body, doing="create the image %s" % p["name"])
        gce.wait(op, waiter, "create the image %s" % p["name"])
    elif module.check_mode:
        return dict(changed=True, image=shape(image))
    # made (or being made by an earlier run): READY is what MCS needs
    image = waiter.until("The image", lambda: gce.call("GET", "global/images/%s" % p["name"], doing="read the image"),
                         lambda img: img.get("status") != "PENDING", lambda img: Status(p["name"], img.get("status"), None, None))
    if image.get("status") != "READY":
        raise IPSError("The image %s is %s, not READY; look at it in the console and run the task again." % (p["name"], image.get("status")))
    return dict(changed=True, image=shape(image))


def run():
    module = AnsibleModule(
        argument_spec=dict(
            module_options(),
            name=dict(type="str", required=True),
            source_disk=dict(type="str", required=True),
            zone=dict(type="str", required=True),
            description=dict(type="str"),
            family=dict(type="str"),
            labels=dict(type="dict"),
            wait_timeout=dict(type="int", default=3600),
            wait_sleep=dict(type="int", default=5),
        ),
        supports_check_mode=True,
    )
    problems = range_problems(module.params)
    if problems:
        module.fail_json(msg="; ".join(problems))
    try:
        import google.auth  # noqa: F401 pylint: disable=unused-import
    except ImportError as exc:
        module.fail_json(msg=missing_required_lib("google-auth"), exception=str(exc))
    started = time.monotonic()
    try:
        result = main(module)
    except IPSError as err:
        module.fail_json(msg=str(err))
    result["elapsed"] = round(time.monotonic() - started, 3)
    module.exit_json(**result)


if __name__ == "__main__":
    run()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ips_gcp_instance_template
short_description: Make a Compute Engine instance template of the prepared image, for MCS
version_added: 0.2.0
description:
  - Create a global Compute Engine instance template (C(instanceTemplates.insert)) whose boot disk is made from the
    image of the prepared disk (O(source_image), what M(citrix_community.ips.ips_gcp_image) makes) or is the prepared
    disk itself (O(source_disk)), and wait for the operation. MCS on Google Cloud lists such a template in the hosting
    unit as C(instanceTemplates.folder\<name>.template) and takes it as a catalog's machine profile, never as its master
    image; the C(gcp_machine_profile) option of M(citrix_community.ips.ips_mcs_catalog) and
    M(citrix_community.ips.ips_mcs_catalog_image) names it.
  - Idempotent by name. A template with that name and the same machine type, boot disk source, disk type and size,
    network, labels and description returns C(changed=false). GCE cannot change a template, so one that differs is an
    error naming each difference, unless O(overwrite=true) replaces it (deleted, then made again).
  - Signs in to Google Cloud itself, like M(citrix_community.ips.ips_gcp_image) does.
extends_documentation_fragment:
  - citrix_community.ips.gcp
author:
  - citrix_community.ips maintainers (@citrix-community)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Check mode reads the template and its source and reports whether the template would be created or replaced.
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
    description: The template's name (lowercase letters, digits and hyphens, at most 63 characters).
    type: str
    required: true
  source_image:
    description:
      - The image the boot disk is made from, by name (V(win11-mcs)), V(family/NAME), or a partial or full URL.
      - Exactly one of O(source_image) and O(source_disk).
    type: str
  source_disk:
    description:
      - An existing disk to boot from instead, by name (a template names a zonal disk by its name).
    type: str
  machine_type:
    description: The machine type of the instances, by name, for example V(n2-standard-4) (a template takes a name, not a zonal URL).
    type: str
    required: true
  disk_type:
    description: The boot disk's type, by name (with O(source_image)); GCE's default (V(pd-standard)) when not set.
    type: str
    choices: [pd-standard, pd-balanced, pd-ssd, pd-extreme, hyperdisk-balanced, hyperdisk-extreme, hyperdisk-throughput]
  disk_size_gb:
    description: The boot disk's size in GB (with O(source_image)); the image's size when not set. From 10 to 65536.
    type: int
  network:
    description: The VPC network of the instances' interface (V(default), or a partial URL such as V(global/networks/vdi)).
    type: str
  subnetwork:
    description: The subnetwork of the interface (a partial URL such as V(regions/us-east4/subnetworks/vdi)).
    type: str
  description:
    description: The template's description.
    type: str
  labels:
    description: Labels of the instances made from the template.
    type: dict
  overwrite:
    description: Replace a template of that name that differs from the one asked for (GCE cannot change a template in place).
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for the template's operation. When they run out the task fails with the operation id; nothing is
        cancelled, and running the task again finds the template. From 1 to 604800 (a week).
    type: int
    default: 3600
  wait_sleep:
    description: Seconds between two looks at the operation. From 1 to 3600.
    type: int
    default: 5
notes:
  - Machine images are not made, because Compute Engine makes a machine image only from an instance and the
    prepared artifact is a disk.
seealso:
  - module: citrix_community.ips.ips_gcp_image
  - module: citrix_community.ips.ips_mcs_catalog_image
"""

EXAMPLES = r"""
- name: An image of the prepared disk
  citrix_community.ips.ips_gcp_image:
    name: win11-mcs
    source_disk: win11-mcs
    zone: us-east4-a
  register: gcp_image

- name: A template booting from it
  citrix_community.ips.ips_gcp_instance_template:
    name: win11-mcs
    source_image: "{{ gcp_image.image.name }}"
    machine_type: n2-standard-4
    disk_type: pd-balanced
    network: default
  register: gcp_template

- name: The catalog on the image, with the template as its machine profile
  citrix_community.ips.ips_mcs_catalog_image:
    catalog: Win11-GCP
    gcp_image: "{{ gcp_image.image.name }}"
    gcp_machine_profile: "{{ gcp_template.template.name }}"
"""

RETURN = r"""
template:
  description:
    - The template (name, id, self_link, machine_type, source_image, source_disk, disk_type, disk_size_gb, network,
      subnetwork, labels, description); in check mode, what would be made (without id and self_link).
  returned: always
  type: dict
  sample:
    name: win11-mcs
    id: "7000000000000001000"
    self_link: https://compute.googleapis.com/compute/v1/projects/my-project/global/instanceTemplates/win11-mcs
    machine_type: n2-standard-4
    source_image: win11-mcs
    source_disk: null
    disk_type: pd-balanced
    disk_size_gb: null
    network: default
    subnetwork: null
    labels: {}
    description: null
replaced:
  description: Whether a different template of that name was (or, in check mode, would be) deleted and made again.
  returned: always
  type: bool
"""

import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.citrix_community.ips.plugins.module_utils import _gce_template as T
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError
from ansible_collections.citrix_community.ips.plugins.module_utils._gcp_auth import module_options
from ansible_collections.citrix_community.ips.plugins.module_utils._option_ranges import range_problems
from ansible_collections.citrix_community.ips.plugins.module_utils._waiter import Status, Waiter


def main(module):
    from ansible_collections.citrix_community.ips.plugins.module_utils._gce import GceError, from_module

    p = module.params
    gce = from_module(module, "the image and the template")
    waiter = Waiter(p["wait_timeout"], p["wait_sleep"], resume="run the task again to find the same template")
    path = "global/instanceTemplates/%s" % p["name"]
    # the template wanted
    want = T.wanted(p)
    # find what exists: the template by name
    existing = gce.call("GET", path, doing="read the template %s" % p["name"], ok404=True)
    replace = False
    if existing is not None:
        diffs = T.differences(T.summary(existing), want)
        if not diffs:
            return dict(changed=False, template=T.summary(existing), replaced=False)
        if not p["overwrite"]:
            raise IPSError("The instance template %s exists already and differs from the one asked for (%s). GCE cannot change a template: "
                           "choose another name (name), or set overwrite: true to replace it."
                           % (p["name"], "; ".join("%s is %r, not %r" % d for d in diffs)))
        replace = True
    # its source must be there, READY
    if p["source_image"]:
        ref = want["source_image"]
        image = gce.call("GET", "global/images/" + ref, doing="read the image %s" % ref, ok404=True)
        if image is None or image.get("status") not in (None, "READY"):
            raise IPSError("The image %s (source_image) is %s in project %s: make it first (ips_gcp_image), or check the name."
                           % (ref, "not READY" if image else "not", p["gcp_project"]))
    if module.check_mode:
        return dict(changed=True, template=dict(want, name=p["name"]), replaced=replace)
    if replace:
        op = gce.call("DELETE", path, doing="delete the template %s to replace it" % p["name"])
        gce.wait(op, waiter, "delete the template %s" % p["name"])
    try:
        op = gce.call("POST", "global/instanceTemplates", T.body(p), doing="create the template %s" % p["name"])
        gce.wait(op, waiter, "create the template %s" % p["name"])
    except GceError as err:
        if err.status != 409:
            raise
        # made by an earlier, interrupted run: it is there once its operation ends; compared below
    made = waiter.until("The instance template", lambda: gce.call("GET", path, doing="read the template", ok404=True),
                        lambda found: found is not None, lambda found: Status(p["name"], "being made", None, None))
    diffs = T.differences(T.summary(made), want)
    if diffs:
        raise IPSError("The instance template %s was made by someone else meanwhile and differs (%s): run the task again with overwrite: true."
                       % (p["name"], "; ".join("%s is %r, not %r" % d for d in diffs)))
    return dict(changed=True, template=T.summary(made), replaced=replace)


def run():
    module = AnsibleModule(
        argument_spec=dict(
            module_options(),
            name=dict(type="str", required=True),
            source_image=dict(type="str"),
            source_disk=dict(type="str"),
            machine_type=dict(type="str", required=True),
            disk_type=dict(type="str", choices=["pd-standard", "pd-balanced", "pd-ssd", "pd-extreme", "hyperdisk-balanced",
                                                "hyperdisk-extreme", "hyperdisk-throughput"]),
            disk_size_gb=dict(type="int"),
            network=dict(type="str"),
            subnetwork=dict(type="str"),
            description=dict(type="str"),
            labels=dict(type="dict"),
            overwrite=dict(type="bool", default=False),
            wait_timeout=dict(type="int", default=3600),
            wait_sleep=dict(type="int", default=5),
        ),
        required_one_of=[("source_image", "source_disk")],
        mutually_exclusive=[("source_image", "source_disk"), ("source_disk", "disk_type"), ("source_disk", "disk_size_gb")],
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

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ips_mcs_catalog_image
short_description: Point an existing MCS machine catalog at a prepared image
version_added: 0.2.0
description:
  - Update the master image of an existing Citrix DaaS machine catalog (Machine Creation Services) to the artifact a
    prepare produced (an Azure managed disk, an AWS AMI, a GCP image or instance template), or to a prepared image
    version of Citrix image management, through the DaaS REST API (C($UpdateProvisioningScheme)).
  - Idempotent. A catalog already on that image returns C(changed=false); an update of the same catalog to the same
    image that is still running is attached to (RV(resumed)).
  - The DaaS job is followed until it ends. C(Complete) is a change; C(CompleteWithWarning) is a change with the
    service's warning shown; C(Failed) or C(Canceled) fail the task with the job's own message.
  - With O(rollback) the catalog goes back to the image it had before (kept when the update set O(store_old_image)).
  - Catalogs that Provisioning Services streams (PVS) are refused; their image is the vDisk.
author:
  - citrix_community.ips maintainers (@citrix-community)
extends_documentation_fragment:
  - citrix_community.ips.auth
  - citrix_community.ips.daas
  - citrix_community.ips.daas.ARTIFACT
  - citrix_community.ips.daas.PROFILE
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads the catalog and looks the image up, then reports whether the catalog would change; it submits
        nothing.
  diff_mode:
    support: full
    details:
      - The diff shows the catalog's master image path before and after.
options:
  catalog:
    description:
      - The machine catalog, by name or id (a catalog in a folder as C(Folder1|Folder2|Name)).
    type: str
    required: true
  image_version:
    description:
      - A prepared image version of Citrix image management to assign instead of an image path
        (see M(citrix_community.ips.ips_mcs_image_version)). It must be in status C(Success) and shared to the
        catalog's resource pool.
    type: dict
    suboptions:
      definition:
        description: The image definition, by name or id.
        type: str
        required: true
      version:
        description: The version number or id.
        type: str
        required: true
  rollback:
    description:
      - Put the catalog back on its previous image (C($RollbackProvisioningScheme)) instead of a new one.
      - Always a change; it fails when the catalog kept no previous image.
    type: bool
    default: false
  store_old_image:
    description:
      - Keep the current image in the catalog's history, so O(rollback) can return to it.
    type: bool
    default: true
  note:
    description:
      - The master image note shown in Studio.
    type: str
  minimum_functional_level:
    description:
      - The minimum VDA functional level of the catalog with the new image, for example V(L7_34).
    type: str
  reboot:
    description:
      - How the machines restart onto the new image. Without it, machines take the image at their next restart.
    type: dict
    suboptions:
      duration:
        description: Minutes over which all machines restart (V(0) at once, V(-1) at their next shutdown). From -1 to 10080.
        type: int
      warning_duration:
        description: Minutes before its restart that a user is warned. From 0 to 10080.
        type: int
      warning_title:
        description: The title of the warning.
        type: str
      warning_message:
        description: The warning text; C(%m%) is replaced by the minutes left.
        type: str
      warning_repeat_interval:
        description: Minutes between two warnings. From 0 to 10080.
        type: int
  extra_body:
    description:
      - Fields of the request the module does not know yet, sent as they are (DaaS JSON names).
      - They are part of the request only; they play no part in deciding whether the catalog changes.
    type: dict
  wait:
    description:
      - Follow the DaaS job until it ends. With V(false) the task returns once the job is submitted.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the job. When they run out the task fails with the job id and status; the job is never
        cancelled, and running the task again attaches to it. From 1 to 604800 (a week).
    type: int
    default: 7200
  wait_sleep:
    description:
      - Seconds between two looks at the job. From 1 to 3600.
    type: int
    default: 30
seealso:
  - module: citrix_community.ips.ips_mcs_info
  - module: citrix_community.ips.ips_mcs_image_version
  - module: citrix_community.ips.ips_mcs_catalog
"""

EXAMPLES = r"""
- name: Point the catalog at the disk the Azure prepare produced
  citrix_community.ips.ips_mcs_catalog_image:
    catalog: Win11-Pooled
    azure_disk:
      resource_group: rg-images
      name: win11-prepared
    note: "Migrated with Image Portability ({{ ansible_date_time.date }})"
    reboot:
      duration: 120
      warning_duration: 15
      warning_message: Your desktop restarts in %m% minutes for an update.

- name: Use the AMI made from the prepared snapshot
  citrix_community.ips.ips_mcs_catalog_image:
    catalog: Win11-AWS
    aws_ami: "{{ ami.image_id }}"

- name: Go back to the previous image
  citrix_community.ips.ips_mcs_catalog_image:
    catalog: Win11-Pooled
    rollback: true
"""

RETURN = r"""
catalog:
  description: The catalog as it is after the task (in check mode, as it is now).
  returned: always
  type: dict
  sample:
    id: 3f1e0a7c-2b8c-4c55-9d3e-0a1b2c3d4e5f
    name: Win11-Pooled
    provisioning_type: MCS
    session_support: SingleSession
    hypervisor_connection: azure-conn
    resource_pool: azure-unit
    master_image_path: XDHyp:\HostingUnits\azure-unit\image.folder\rg-images.resourcegroup\win11-prepared.manageddisk
    master_image_name: win11-prepared.manageddisk
    master_image_note: Migrated with Image Portability
    machine_profile_path: null
    image_definition: null
    image_version: null
master_image_path:
  description: The image the catalog was asked to use (the XDPath found in the hosting unit); null for a rollback.
  returned: always
  type: str
  sample: XDHyp:\HostingUnits\azure-unit\image.folder\rg-images.resourcegroup\win11-prepared.manageddisk
previous_master_image_path:
  description: The catalog's image before the task.
  returned: always
  type: str
  sample: XDHyp:\HostingUnits\azure-unit\image.folder\rg-images.resourcegroup\win11-old.manageddisk
machine_profile_path:
  description:
    - The machine profile the catalog was asked to use (the XDPath found in the hosting unit). It is null without
      O(machine_profile_path) or O(gcp_machine_profile); the catalog then keeps its profile.
    - With a profile, the task changes nothing only when the catalog is on both the image and the profile.
  returned: always
  type: str
previous_machine_profile_path:
  description: The catalog's machine profile before the task (C(MachineProfile) in the catalog, an inferred name).
  returned: always
  type: str
job:
  description: The DaaS job that changed the catalog; null when nothing was submitted.
  returned: always
  type: dict
  contains:
    id:
      description: The job id.
      type: str
    type:
      description: The DaaS job type, for example C(UpdateMachineCatalogProvisioningScheme).
      type: str
    status:
      description: The status as DaaS reports it (C(Complete), C(CompleteWithWarning), C(Failed), C(Canceled), C(InProgress), ...).
      type: str
    state:
      description: The status normalised to V(running), V(complete), V(warning) or V(failed).
      type: str
    progress:
      description: Overall progress in percent.
      type: int
    error:
      description: The job's message when it failed.
      type: str
    warning:
      description: The job's message when it completed with a warning.
      type: str
    parameters:
      description: The job's parameters by name.
      type: dict
resumed:
  description: Whether the task attached to an update that was already running.
  returned: always
  type: bool
  sample: false
"""

from ansible_collections.citrix_community.ips.plugins.module_utils import _daas_wire as W
from ansible_collections.citrix_community.ips.plugins.module_utils import _mcs
from ansible_collections.citrix_community.ips.plugins.module_utils._daas_client import daas_argument_spec, from_params
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError
from ansible_collections.citrix_community.ips.plugins.module_utils._waiter import for_options
from ansible_collections.citrix_community.ips.plugins.module_utils.ips_module import IPSModule


def desired_body(p, path, profile=None):
    """The $UpdateProvisioningScheme request (JSON names from _daas_wire only)."""
    f = W.UPDATE_IMAGE_FIELDS
    body = dict(p["extra_body"] or {})
    if p["image_version"]:
        v = W.ASSIGN_VERSION_FIELDS
        body[f["image_version"].json] = {v["definition"].json: p["image_version"]["definition"], v["version"].json: p["image_version"]["version"]}
        if p["note"]:
            body[f["image_version"].json][v["note"].json] = p["note"]
    else:
        body[f["master_image_path"].json] = path
        if p["note"] is not None:
            body[f["note"].json] = p["note"]
    if profile:
        body[f["machine_profile_path"].json] = profile
    body[f["store_old_image"].json] = p["store_old_image"]
    if p["minimum_functional_level"]:
        body[f["minimum_functional_level"].json] = p["minimum_functional_level"]
    if p["reboot"]:
        body[f["reboot"].json] = dict((W.REBOOT_FIELDS[k].json, v) for k, v in p["reboot"].items() if v is not None)
    return body


def main(mod):
    p = mod.params
    client = mod.client
    # find what exists: the catalog, where it provisions from, and the image in that hosting unit
    raw = client.get("catalog", {"catalog": p["catalog"]})
    if raw is None:
        raise IPSError("The machine catalog '%s' (catalog) does not exist in DaaS site %s; create it with "
                       "citrix_community.ips.ips_mcs_catalog or check the name." % (p["catalog"], client.site_id))
    _mcs.refuse_unless_mcs(raw)
    before = _mcs.catalog_summary(raw)
    connection, pool, pool_name = _mcs.pool_and_connection(raw)
    path = profile = None
    if not p["rollback"] and not p["image_version"]:
        path = _mcs.resolve(client, connection, pool_name or pool, p)
    if not p["rollback"]:
        profile = _mcs.resolve_profile(client, connection, pool_name or pool, p)
    result = {"previous_master_image_path": before["master_image_path"], "master_image_path": path,
              "previous_machine_profile_path": before["machine_profile_path"], "machine_profile_path": profile, "resumed": False, "job": None}
    # decide
    version = p["image_version"] or {}
    # an update of this catalog still running: to this image, attach to it; to another one, the catalog is not settled,
    # so submit and let the service say it is busy
    running = _mcs.running_update(client, before["id"])
    job = running if running and path and not p["rollback"] and \
        (running["parameters"].get(W.JOB_PARAM_IMAGE_PATH) or "").lower() == path.lower() else None
    if running is None and not p["rollback"] and _mcs.on_target(before, path, version.get("definition"), version.get("version"), profile):
        mod.exit(changed=False, catalog=before, **result)
    if mod.diff_mode:
        result["diff"] = {"before": {"master_image_path": before["master_image_path"], "machine_profile_path": before["machine_profile_path"]},
                          "after": {"master_image_path": path or "(rollback)", "machine_profile_path": profile or before["machine_profile_path"]}}
    if mod.check_mode:
        mod.exit(changed=True, catalog=before, **result)
    # submit (or attach), wait, shape
    if job is not None:
        result["resumed"] = True
    elif p["rollback"]:
        job = client.submit("catalog_rollback_image", {"catalog": before["id"]}, dict(p["extra_body"] or {}))
    else:
        job = client.submit_image_change("catalog_update_image", {"catalog": before["id"]}, desired_body(p, path, profile), path)
    waiter = for_options(p["wait"], p["wait_timeout"], p["wait_sleep"])
    job = client.wait(job, waiter, "The image update of catalog '%s'" % before["name"])
    if job["state"] == "warning":
        mod.warn("DaaS completed the image update of catalog '%s' with a warning: %s" % (before["name"], job["warning"]))
    after = _mcs.catalog_summary(client.call("catalog", {"catalog": before["id"]}).data)
    result["job"] = job
    mod.exit(changed=True, catalog=after, **result)


def run():
    spec = dict(
        catalog=dict(type="str", required=True),
        image_version=dict(type="dict", options=dict(definition=dict(type="str", required=True), version=dict(type="str", required=True))),
        rollback=dict(type="bool", default=False),
        store_old_image=dict(type="bool", default=True),
        note=dict(type="str"),
        minimum_functional_level=dict(type="str"),
        reboot=dict(type="dict", options=dict(duration=dict(type="int"), warning_duration=dict(type="int"), warning_title=dict(type="str"),
                                              warning_message=dict(type="str"), warning_repeat_interval=dict(type="int"))),
        extra_body=dict(type="dict"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=7200),
        wait_sleep=dict(type="int", default=30),
    )
    spec.update(daas_argument_spec())
    spec.update(_mcs.artifact_spec())
    spec.update(_mcs.profile_spec())
    images = list(_mcs.ARTIFACT_OPTIONS) + ["image_version"]
    mod = IPSModule(spec, client_factory=from_params, supports_check_mode=True, mutually_exclusive=[images, list(_mcs.PROFILE_OPTIONS)])
    named = [o for o in images if mod.params[o]]
    if mod.params["rollback"] and named:
        mod.fail("rollback returns the catalog to its previous image; it takes no %s. Remove one of them." % named[0])
    if not mod.params["rollback"] and not named:
        mod.fail("Name the image: one of %s, or set rollback." % ", ".join(images))
    mod.run(main)


if __name__ == "__main__":
    run()

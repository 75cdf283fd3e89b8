#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ips_mcs_image_version
short_description: Make a prepared image version (Citrix image management) from a prepared artifact
version_added: 0.2.0
description:
  - In Citrix DaaS image management, make sure an image definition exists (it is created when missing), make an image
    version of it from the artifact a prepare produced, require it to reach status C(Success), share it to resource
    pools and, optionally, assign it to an MCS machine catalog, in one task.
  - Idempotent. A version of the definition made from the same image is reused (one still being made is waited for;
    a failed one is made again); sharing and assignment are skipped when already done.
  - Each step's DaaS job is followed; C(Failed) or C(Canceled) fail the task with the job's own message, and
    C(CompleteWithWarning) is a change with the warning shown.
author:
  - citrix_community.ips maintainers (@citrix-community)
extends_documentation_fragment:
  - citrix_community.ips.auth
  - citrix_community.ips.daas
  - citrix_community.ips.daas.ARTIFACT
attributes:
  check_mode:
    support: full
    details:
      - Check mode looks everything up and reports what would be created, shared or assigned; it submits nothing.
  diff_mode:
    support: none
options:
  definition:
    description: The image definition's name (or id of an existing one).
    type: str
    required: true
  os_type:
    description: The operating system of a definition that is created.
    type: str
    choices: [Windows, Linux]
    default: Windows
  session_support:
    description: The session support of a definition that is created; it must match the catalogs that use it.
    type: str
    choices: [SingleSession, MultiSession]
    default: SingleSession
  resource_pool:
    description:
      - The resource pool (hosting unit) the version is made in, by name or id; the image is looked up there. A created
        definition is assigned to that pool's hosting connection.
    type: str
    required: true
  description:
    description: The version's description.
    type: str
  image_scheme:
    description:
      - The version's C(ImageScheme) as DaaS names it (for example C(MachineProfile), C(CpuCount), C(MemoryMB),
        C(NetworkMapping), C(CustomProperties)), sent as is.
    type: dict
    default: {}
  share_to:
    description:
      - More resource pools, by name or id, the version is shared to (it is always usable in O(resource_pool)).
    type: list
    elements: str
    default: []
  catalog:
    description:
      - An MCS machine catalog, by name or id, to assign the version to once it is ready and shared.
    type: str
  note:
    description: The image assignment note on the catalog.
    type: str
  wait_timeout:
    description:
      - Seconds to wait for all the task's jobs together. When they run out the task fails with the job id and status;
        nothing is cancelled, and a re-run picks up where this one stopped. From 1 to 604800 (a week).
    type: int
    default: 7200
  wait_sleep:
    description: Seconds between two looks at a job. From 1 to 3600.
    type: int
    default: 30
seealso:
  - module: citrix_community.ips.ips_mcs_catalog_image
  - module: citrix_community.ips.ips_mcs_info
"""

EXAMPLES = r"""
- name: Version the prepared disk and assign it to the pooled catalog
  citrix_community.ips.ips_mcs_image_version:
    definition: win11-golden
    resource_pool: azure-unit
    azure_disk: {resource_group: rg-images, name: win11-prepared}
    image_scheme:
      CustomProperties:
        - {Name: StorageType, Value: Premium_LRS}
    catalog: Win11-Pooled
"""

RETURN = r"""
definition:
  description: The image definition (id, name, created).
  returned: always
  type: dict
version:
  description: The image version (id, number, status, description, master_image_path, resource_pools); null in check mode before it exists.
  returned: always
  type: dict
catalog:
  description: The catalog after the assignment (shape of M(citrix_community.ips.ips_mcs_info)); null without O(catalog).
  returned: always
  type: dict
jobs:
  description: The DaaS jobs the task submitted or followed, in order.
  returned: always
  type: list
  elements: dict
steps:
  description:
    - What was done (or, in check mode, would be done) per step - C(definition), C(version), C(share), C(assign) - each
      V(created), V(done), V(exists) or V(skipped).
  returned: always
  type: dict
"""

from ansible_collections.citrix_community.ips.plugins.module_utils import _daas_wire as W
from ansible_collections.citrix_community.ips.plugins.module_utils import _mcs
from ansible_collections.citrix_community.ips.plugins.module_utils._daas_client import daas_argument_spec, from_params
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError
from ansible_collections.citrix_community.ips.plugins.module_utils._waiter import Status, Waiter
from ansible_collections.citrix_community.ips.plugins.module_utils.ips_module import IPSModule

_IN_PROGRESS = "InProgress"  # the ImageVersionStatus of a version being made (SEEN)


def definition_body(p, connection):
    d = W.DEFINITION_FIELDS
    body = {d["name"].json: p["definition"], d["os_type"].json: p["os_type"], d["session_support"].json: p["session_support"],
            d["connection"].json: {d["connection_name"].json: connection}}
    if p["description"]:
        body[d["description"].json] = p["description"]
    return body


def version_body(p, pool_name, path):
    v = W.VERSION_FIELDS
    body = {v["master_image_path"].json: path, v["resource_pool"].json: pool_name, v["image_scheme"].json: p["image_scheme"]}
    if p["description"]:
        body[v["description"].json] = p["description"]
    return body


def find_version(client, definition_id, path):
    """The newest version made from `path` that is not Failed, or None."""
    found = None
    for raw in client.items("image_versions", {"definition": definition_id}):
        summary = _mcs.version_summary(raw)
        if (summary["master_image_path"] or "").lower() == path.lower() and summary["status"] != "Failed":
            found = summary if found is None or summary["number"] > found["number"] else found
    return found


def main(mod):
    p = mod.params
    client = mod.client
    steps, jobs = {}, []
    result = {"steps": steps, "jobs": jobs, "version": None, "catalog": None}
    waiter = Waiter(p["wait_timeout"], p["wait_sleep"])
    # find what exists: the pool, the image in it, the definition and a version from that image
    pool = client.find_pool(p["resource_pool"])
    if pool is None:
        raise IPSError("The resource pool '%s' (resource_pool) is not in any hosting connection of DaaS site %s." % (p["resource_pool"], client.site_id))
    connection, pool_id, pool_name = pool
    path = _mcs.resolve(client, connection, pool_id, p)
    catalog = None
    if p["catalog"]:
        catalog = client.get("catalog", {"catalog": p["catalog"]})
        if catalog is None:
            raise IPSError("The machine catalog '%s' (catalog) does not exist in DaaS site %s." % (p["catalog"], client.site_id))
        _mcs.refuse_unless_mcs(catalog)
    definition = client.get("image_definition", {"definition": p["definition"]})
    steps["definition"] = "exists" if definition else "created"
    version = find_version(client, definition[W.ID.json], path) if definition else None
    steps["version"] = "exists" if version and version["status"] == W.VERSION_SUCCESS else "created"
    if mod.check_mode:
        if version:
            wanted = set(x.lower() for x in [pool_name] + p["share_to"])
            steps["share"] = "done" if wanted - set(x.lower() for x in version["resource_pools"]) else "exists"
        else:
            steps["share"] = "done" if p["share_to"] else "skipped"
        if catalog is not None:
            on = version and _mcs.on_target(_mcs.catalog_summary(catalog), definition=p["definition"], version=version["number"])
            steps["assign"] = "exists" if on else "done"
        result["definition"] = {"id": definition[W.ID.json] if definition else None, "name": p["definition"], "created": not definition}
        result["version"] = version
        mod.exit(changed=any(s in ("created", "done") for s in steps.values()), **result)
    # the definition
    if definition is None:
        definition = client.call("image_definition_create", body=definition_body(p, connection)).data
    definition_id = definition[W.ID.json]
    result["definition"] = {"id": definition_id, "name": definition[W.NAME.json], "created": steps["definition"] == "created"}
    # the version: made (or waited for while it is being made), and it must reach Success
    if version is None:
        job = client.submit_image_change("image_version_create", {"definition": definition_id}, version_body(p, pool_name, path), path)
        jobs.append(client.wait(job, waiter, "The image version of '%s'" % p["definition"]))
        version = find_version(client, definition_id, path)
    if version is None:
        raise IPSError("DaaS reported the image version of '%s' from %s as made, but it is not listed; run the task again." % (p["definition"], path))
    if version["status"] == _IN_PROGRESS:
        def look():
            return _mcs.version_summary(client.call("image_version", {"definition": definition_id, "version": version["id"]}).data)
        version = waiter.until("Image version", look, lambda v: v["status"] != _IN_PROGRESS,
                               lambda v: Status(v["id"], v["status"], None, None), first=version)
    if version["status"] != W.VERSION_SUCCESS:
        raise IPSError("The image version %s of '%s' is %s, not Success, so it cannot be used; look at its errors in Studio (Image "
                       "management), fix the image, and run the task again to make a new version." % (version["number"], p["definition"], version["status"]))
    # shared to every pool asked for
    wanted = [pool_name] + [x for x in p["share_to"] if x.lower() != pool_name.lower()]
    if set(x.lower() for x in wanted) - set(x.lower() for x in version["resource_pools"]):
        body = {W.SHARE_POOLS.json: [{W.SHARE_POOL.json: x} for x in wanted]}
        job = client.submit("image_version_share", {"definition": definition_id, "version": version["id"]}, body)
        jobs.append(client.wait(job, waiter, "Sharing image version %s of '%s'" % (version["number"], p["definition"])))
        steps["share"] = "done"
        version = _mcs.version_summary(client.call("image_version", {"definition": definition_id, "version": version["id"]}).data)
    else:
        steps["share"] = "exists"
    result["version"] = version
    # assigned to the catalog
    if catalog is not None:
        summary = _mcs.catalog_summary(catalog)
        if _mcs.on_target(summary, definition=definition[W.NAME.json], version=version["number"]):
            steps["assign"] = "exists"
        else:
            v = W.ASSIGN_VERSION_FIELDS
            assign = {v["definition"].json: definition_id, v["version"].json: version["id"]}
            if p["note"]:
                assign[v["note"].json] = p["note"]
            body = {W.UPDATE_IMAGE_FIELDS["image_version"].json: assign, W.UPDATE_IMAGE_FIELDS["store_old_image"].json: True}
            job = client.submit("catalog_update_image", {"catalog": summary["id"]}, body)
            jobs.append(client.wait(job, waiter, "Assigning the image version to catalog '%s'" % summary["name"]))
            steps["assign"] = "done"
        result["catalog"] = _mcs.catalog_summary(client.call("catalog", {"catalog": summary["id"]}).data)
    for job in jobs:
        if job["state"] == "warning":
            mod.warn("DaaS job %s (%s) completed with a warning: %s" % (job["id"], job["type"], job["warning"]))
    mod.exit(changed=any(s in ("created", "done") for s in steps.values()), **result)


def run():
    spec = dict(
        definition=dict(type="str", required=True),
        os_type=dict(type="str", default="Windows", choices=["Windows", "Linux"]),
        session_support=dict(type="str", default="SingleSession", choices=["SingleSession", "MultiSession"]),
        resource_pool=dict(type="str", required=True),
        description=dict(type="str"),
        image_scheme=dict(type="dict", default={}),
        share_to=dict(type="list", elements="str", default=[]),
        catalog=dict(type="str"),
        note=dict(type="str"),
        wait_timeout=dict(type="int", default=7200),
        wait_sleep=dict(type="int", default=30),
    )
    spec.update(daas_argument_spec())
    spec.update(_mcs.artifact_spec())
    images = list(_mcs.ARTIFACT_OPTIONS)
    IPSModule(spec, client_factory=from_params, supports_check_mode=True, mutually_exclusive=[images], required_one_of=[images]).run(main)


if __name__ == "__main__":
    run()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ips_mcs_catalog
short_description: Create an MCS machine catalog from a prepared image
version_added: 0.2.0
description:
  - Create a Citrix DaaS machine catalog (Machine Creation Services) whose master image is the artifact a prepare
    produced, through the DaaS REST API (C(POST MachineCatalogs?async=true)), and follow the creation job.
  - The module sends a minimal, documented body (name, allocation, session support, user changes, resource pool,
    image, machine count, note); whatever else a catalog needs on your hosting platform (custom properties, machine
    profile, network mapping, machine account rules, ...) goes in O(extra_body) and O(extra_provisioning_scheme) with
    the DaaS JSON names.
  - Idempotent by name. A catalog with that name that exists already returns C(changed=false) and is not modified
    (use M(citrix_community.ips.ips_mcs_catalog_image) to change its image); a creation of it still running is
    attached to.
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
      - Check mode looks the catalog and the image up and reports whether the catalog would be created; it submits nothing.
  diff_mode:
    support: none
options:
  name:
    description:
      - The catalog's name.
    type: str
    required: true
  resource_pool:
    description:
      - The resource pool (hosting unit) the machines are made in, by name or id. The image is looked up there.
    type: str
    required: true
  image_version:
    description:
      - A prepared image version (Citrix image management) to use instead of an image path. It must be in status
        C(Success) and shared to O(resource_pool).
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
  description:
    description: The catalog's description.
    type: str
  session_support:
    description: Single-session (VDI) or multi-session machines.
    type: str
    choices: [SingleSession, MultiSession]
    default: SingleSession
  allocation_type:
    description: Whether users get a random machine each time or the same one.
    type: str
    choices: [Random, Static]
    default: Random
  persist_user_changes:
    description: Where user changes go.
    type: str
    choices: [Discard, OnLocal, OnPvd]
    default: Discard
  minimum_functional_level:
    description: The minimum VDA functional level, for example V(L7_34).
    type: str
  machine_count:
    description: How many machines to create with the catalog. From 0 to 10000.
    type: int
    default: 0
  note:
    description: The master image note.
    type: str
  extra_body:
    description:
      - Top-level fields of the create request the module does not set (DaaS JSON names, for example C(Zone), C(Scopes)).
    type: dict
  extra_provisioning_scheme:
    description:
      - Fields of the request's C(ProvisioningScheme) the module does not set (for example C(CustomProperties),
        C(NetworkMapping), C(MachineAccountCreationRules), C(ServiceOfferingPath)). The machine profile has its own
        options, O(machine_profile_path) and O(gcp_machine_profile).
    type: dict
  wait:
    description: Follow the creation job until it ends.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the job (catalog creation can take long; Citrix's own tools wait up to two hours). When they
        run out the task fails with the job id and status; the job is never cancelled, and a re-run attaches to it. From 1 to 604800 (a week).
    type: int
    default: 7200
  wait_sleep:
    description: Seconds between two looks at the job. From 1 to 3600.
    type: int
    default: 30
seealso:
  - module: citrix_community.ips.ips_mcs_catalog_image
  - module: citrix_community.ips.ips_mcs_info
"""

EXAMPLES = r"""
- name: A pooled catalog on the disk the Azure prepare produced
  citrix_community.ips.ips_mcs_catalog:
    name: Win11-Migrated
    resource_pool: azure-unit
    azure_disk: {resource_group: rg-images, name: win11-prepared}
    machine_count: 2
    extra_provisioning_scheme:
      CustomProperties:
        - {Name: UseManagedDisks, Value: "true"}
        - {Name: StorageType, Value: Premium_LRS}
      MachineAccountCreationRules: {NamingScheme: "W11-##", NamingSchemeType: Numeric, Domain: corp.example}
"""

RETURN = r"""
catalog:
  description: The catalog (in the shape M(citrix_community.ips.ips_mcs_info) returns); null in check mode when it would be created.
  returned: always
  type: dict
master_image_path:
  description: The image the catalog was created on (the XDPath found in the resource pool); null with O(image_version).
  returned: always
  type: str
machine_profile_path:
  description: The machine profile the catalog was created with (the XDPath found in the resource pool); null without one.
  returned: always
  type: str
job:
  description: The creation job (see M(citrix_community.ips.ips_mcs_catalog_image)); null when nothing was submitted.
  returned: always
  type: dict
resumed:
  description: Whether the task attached to a creation that was already running.
  returned: always
  type: bool
request:
  description: The body sent (or, in check mode, that would be sent).
  returned: always
  type: dict
"""

from ansible_collections.citrix_community.ips.plugins.module_utils import _daas_wire as W
from ansible_collections.citrix_community.ips.plugins.module_utils import _mcs
from ansible_collections.citrix_community.ips.plugins.module_utils._daas_client import daas_argument_spec, from_params
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError
from ansible_collections.citrix_community.ips.plugins.module_utils._waiter import for_options
from ansible_collections.citrix_community.ips.plugins.module_utils.ips_module import IPSModule


def desired_body(p, pool_name, path, profile=None):
    """The create request: the minimal documented fields, then the pass-through ones (JSON names from _daas_wire only)."""
    f, s = W.CREATE_CATALOG_FIELDS, W.CREATE_SCHEME_FIELDS
    scheme = dict(p["extra_provisioning_scheme"] or {})
    scheme[s["resource_pool"].json] = pool_name
    scheme[s["machine_count"].json] = p["machine_count"]
    if p["image_version"]:
        v = W.ASSIGN_VERSION_FIELDS
        scheme[s["image_version"].json] = {v["definition"].json: p["image_version"]["definition"], v["version"].json: p["image_version"]["version"]}
    else:
        scheme[s["master_image_path"].json] = path
    if profile:
        scheme[s["machine_profile_path"].json] = profile
    if p["note"] is not None:
        scheme[s["note"].json] = p["note"]
    body = dict(p["extra_body"] or {})
    body.update({f["name"].json: p["name"], f["provisioning_type"].json: W.PROVISIONING_MCS, f["allocation_type"].json: p["allocation_type"],
                 f["session_support"].json: p["session_support"], f["persist_user_changes"].json: p["persist_user_changes"],
                 f["scheme"].json: scheme})
    for option in ("description", "minimum_functional_level"):
        if p[option] is not None:
            body[f[option].json] = p[option]
    return body


def running_create(client, name):
    for job in client.running_jobs(W.JOB_CREATE_CATALOG):
        if str(job["parameters"].get(W.NAME.json, "")).lower() == name.lower():
            return job
    return None


def main(mod):
    p = mod.params
    client = mod.client
    result = {"resumed": False, "job": None, "master_image_path": None, "machine_profile_path": None, "request": None}
    # find what exists: the catalog by name, a creation of it still running
    existing = client.get("catalog", {"catalog": p["name"]})
    if existing is not None:
        mod.exit(changed=False, catalog=_mcs.catalog_summary(existing), **result)
    job = running_create(client, p["name"])
    if job is None:
        # build the request: the pool and the image in it
        pool = client.find_pool(p["resource_pool"])
        if pool is None:
            raise IPSError("The resource pool '%s' (resource_pool) is not in any hosting connection of DaaS site %s; check the name "
                           "of the hosting unit." % (p["resource_pool"], client.site_id))
        if not p["image_version"]:
            result["master_image_path"] = _mcs.resolve(client, pool[0], pool[1], p)
        result["machine_profile_path"] = _mcs.resolve_profile(client, pool[0], pool[1], p)
        result["request"] = desired_body(p, pool[2], result["master_image_path"], result["machine_profile_path"])
        if mod.check_mode:
            mod.exit(changed=True, catalog=None, **result)
        job = client.submit_image_change("catalog_create", None, result["request"], result["master_image_path"])
    else:
        result["resumed"] = True
        if mod.check_mode:
            result["job"] = job
            mod.exit(changed=True, catalog=None, **result)
    job = client.wait(job, for_options(p["wait"], p["wait_timeout"], p["wait_sleep"]), "The creation of catalog '%s'" % p["name"])
    if job["state"] == "warning":
        mod.warn("DaaS created catalog '%s' with a warning: %s" % (p["name"], job["warning"]))
    made = client.get("catalog", {"catalog": p["name"]})
    result["job"] = job
    mod.exit(changed=True, catalog=_mcs.catalog_summary(made) if made else None, **result)


def run():
    spec = dict(
        name=dict(type="str", required=True),
        resource_pool=dict(type="str", required=True),
        image_version=dict(type="dict", options=dict(definition=dict(type="str", required=True), version=dict(type="str", required=True))),
        description=dict(type="str"),
        session_support=dict(type="str", default="SingleSession", choices=["SingleSession", "MultiSession"]),
        allocation_type=dict(type="str", default="Random", choices=["Random", "Static"]),
        persist_user_changes=dict(type="str", default="Discard", choices=["Discard", "OnLocal", "OnPvd"]),
        minimum_functional_level=dict(type="str"),
        machine_count=dict(type="int", default=0),
        note=dict(type="str"),
        extra_body=dict(type="dict"),
        extra_provisioning_scheme=dict(type="dict"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=7200),
        wait_sleep=dict(type="int", default=30),
    )
    spec.update(daas_argument_spec())
    spec.update(_mcs.artifact_spec())
    spec.update(_mcs.profile_spec())
    images = list(_mcs.ARTIFACT_OPTIONS) + ["image_version"]
    IPSModule(spec, client_factory=from_params, supports_check_mode=True, mutually_exclusive=[images, list(_mcs.PROFILE_OPTIONS)],
              required_one_of=[images]).run(main)


if __name__ == "__main__":
    run()

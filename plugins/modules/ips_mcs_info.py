#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ips_mcs_info
short_description: Get Citrix DaaS machine catalogs and prepared images
version_added: 0.2.0
description:
  - Return the machine catalogs of a Citrix DaaS site (with their current master image) and, on request, the image
    definitions of Citrix image management with their versions, so a playbook can branch on what exists.
author:
  - citrix_community.ips maintainers (@citrix-community)
extends_documentation_fragment:
  - citrix_community.ips.auth
  - citrix_community.ips.daas
attributes:
  check_mode:
    support: full
    details:
      - The module only reads, so it runs the same in check mode.
  diff_mode:
    support: none
options:
  catalog:
    description:
      - Only this machine catalog, by name or id. An unknown catalog returns an empty list.
    type: str
  image_definitions:
    description:
      - Also return the image definitions and their versions.
    type: bool
    default: false
seealso:
  - module: citrix_community.ips.ips_mcs_catalog_image
  - module: citrix_community.ips.ips_mcs_image_version
"""

EXAMPLES = r"""
- name: Is the catalog on the new image already?
  citrix_community.ips.ips_mcs_info:
    catalog: Win11-Pooled
  register: mcs

- name: Update it only when it is not
  citrix_community.ips.ips_mcs_catalog_image:
    catalog: Win11-Pooled
    azure_disk: {resource_group: rg-images, name: win11-prepared}
  when: mcs.catalogs[0].master_image_name != 'win11-prepared.manageddisk'
"""

RETURN = r"""
site_id:
  description: The DaaS site the answer is about.
  returned: always
  type: str
  sample: 0b6f3c1e-7a2d-4b8e-9c0f-1d2e3f4a5b6c
catalogs:
  description: The machine catalogs, in the shape M(citrix_community.ips.ips_mcs_catalog_image) returns.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 3f1e0a7c-2b8c-4c55-9d3e-0a1b2c3d4e5f
      name: Win11-Pooled
      provisioning_type: MCS
      session_support: SingleSession
      hypervisor_connection: azure-conn
      resource_pool: azure-unit
      master_image_path: XDHyp:\HostingUnits\azure-unit\image.folder\rg.resourcegroup\win11.manageddisk
      master_image_name: win11.manageddisk
      master_image_note: null
      image_definition: null
      image_version: null
image_definitions:
  description: The image definitions with their versions (only with O(image_definitions)).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The definition's id.
      type: str
    name:
      description: Its name.
      type: str
    os_type:
      description: V(Windows) or V(Linux).
      type: str
    session_support:
      description: V(SingleSession) or V(MultiSession).
      type: str
    versions:
      description: Its versions (id, number, status, description, master_image_path, resource_pools).
      type: list
      elements: dict
"""

from ansible_collections.citrix_community.ips.plugins.module_utils import _daas_wire as W
from ansible_collections.citrix_community.ips.plugins.module_utils import _mcs
from ansible_collections.citrix_community.ips.plugins.module_utils._daas_client import daas_argument_spec, from_params
from ansible_collections.citrix_community.ips.plugins.module_utils.ips_module import IPSModule


def main(mod):
    client = mod.client
    if mod.params["catalog"]:
        raw = client.get("catalog", {"catalog": mod.params["catalog"]})
        catalogs = [raw] if raw else []
    else:
        catalogs = client.items("catalogs")
    definitions = []
    if mod.params["image_definitions"]:
        d = W.DEFINITION_FIELDS
        for raw in client.items("image_definitions"):
            versions = client.items("image_versions", {"definition": raw[W.ID.json]})
            definitions.append({"id": raw.get(W.ID.json), "name": raw.get(d["name"].json), "os_type": raw.get(d["os_type"].json),
                                "session_support": raw.get(d["session_support"].json),
                                "versions": [_mcs.version_summary(v) for v in versions]})
    mod.exit(changed=False, site_id=client.site_id, catalogs=[_mcs.catalog_summary(c) for c in catalogs], image_definitions=definitions)


def run():
    spec = dict(catalog=dict(type="str"), image_definitions=dict(type="bool", default=False))
    spec.update(daas_argument_spec())
    IPSModule(spec, client_factory=from_params, supports_check_mode=True).run(main)


if __name__ == "__main__":
    run()

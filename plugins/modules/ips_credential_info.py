#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ips_credential_info
short_description: List credentials in the Citrix Image Portability credential wallet
version_added: 0.1.0
description:
  - Return the metadata of one credential, or of every credential (optionally of one type).
  - The wallet never returns secrets; neither does this module.
  - With O(wanted), also say what M(citrix_community.ips.ips_credential) would do for each credential listed, from one
    listing of the wallet, so a playbook that keeps many credentials calls M(citrix_community.ips.ips_credential) only
    for those it would change (what the C(credentials) role does).
author:
  - citrix_community.ips maintainers (@citrix-community)
extends_documentation_fragment:
  - citrix_community.ips.auth
attributes:
  check_mode:
    support: full
    details:
      - The module only reads, so it runs the same in check mode.
  diff_mode:
    support: none
options:
  name:
    description:
      - The credential id to look up. An unknown id returns an empty list.
    type: str
    aliases: [id]
  type:
    description:
      - Only list credentials of this type.
    type: str
    choices: [username_password, aws, azure, gcp]
  wanted:
    description:
      - Credentials as M(citrix_community.ips.ips_credential) would be given them (no secrets needed). RV(actions) then
        says, for each, what that module would do, by the same rule.
      - Lists the whole wallet; O(name) and O(type) still filter RV(credentials).
    type: list
    elements: dict
    suboptions:
      name:
        description: The credential id.
        type: str
        required: true
      type:
        description: Its type (required when O(wanted[].state=present)).
        type: str
        choices: [username_password, aws, azure, gcp]
      state:
        description: As M(citrix_community.ips.ips_credential)'s O(citrix_community.ips.ips_credential#module:state).
        type: str
        default: present
        choices: [present, absent]
      update_secret:
        description: As M(citrix_community.ips.ips_credential)'s O(citrix_community.ips.ips_credential#module:update_secret).
        type: str
        default: on_create
        choices: [on_create, always]
seealso:
  - module: citrix_community.ips.ips_credential
"""

EXAMPLES = r"""
- name: List every credential in the wallet
  citrix_community.ips.ips_credential_info:
  register: wallet

- name: Check that the SMB credential exists before an export
  citrix_community.ips.ips_credential_info:
    name: smb-exports
  register: smb_cred
  failed_when: smb_cred.credentials | length == 0

- name: List Azure service principals
  citrix_community.ips.ips_credential_info:
    type: azure

- name: Push only the credentials the wallet lacks (secrets stay in the vault)
  citrix_community.ips.ips_credential_info:
    wanted: "{{ wallet | map('dict2items') | map('selectattr', 'key', 'in', ['name', 'type', 'state', 'update_secret'])
                | map('items2dict') | list }}"
  register: wallet_now

- name: Create the missing ones
  citrix_community.ips.ips_credential: "{{ item }}"
  loop: "{{ wallet }}"
  when: wallet_now.actions[item.name] is not none
  no_log: true
"""

RETURN = r"""
credentials:
  description: The matching credentials' metadata, without secrets.
  returned: always
  type: list
  sample:
    - name: smb-exports
      type: username_password
      state: Ok
      created_at: '2026-11-21T10:00:00.000000Z'
      updated_at: '2026-11-21T10:00:00.000000Z'
  elements: dict
  contains:
    name:
      description: The credential id.
      type: str
      sample: smb-exports
    type:
      description: The credential type.
      type: str
      sample: username_password
    state:
      description: The wallet's state of the credential.
      type: str
      sample: Ok
    created_at:
      description: When the credential was created (ISO 8601, UTC).
      type: str
      sample: "2026-11-21T10:00:00.000000Z"
    updated_at:
      description: When the credential was last written (ISO 8601, UTC).
      type: str
      sample: "2026-11-21T10:00:00.000000Z"
actions:
  description:
    - With O(wanted), what M(citrix_community.ips.ips_credential) would do with each credential named there, by name
      (V(create), V(update), V(delete), or null when it would change nothing).
  returned: when O(wanted) is set
  type: dict
  sample: {smb-exports: null, azure-sp: create}
"""

from ansible_collections.citrix_community.ips.plugins.module_utils.ips_module import IPSModule
from ansible_collections.citrix_community.ips.plugins.module_utils import _credentials


def main():
    mod = IPSModule(
        dict(
            name=dict(type="str", aliases=["id"]),
            type=dict(type="str", choices=["username_password", "aws", "azure", "gcp"]),
            wanted=dict(type="list", elements="dict", options=dict(
                name=dict(type="str", required=True),
                type=dict(type="str", choices=["username_password", "aws", "azure", "gcp"]),
                state=dict(type="str", default="present", choices=["present", "absent"]),
                update_secret=dict(type="str", default="on_create", choices=["on_create", "always"], no_log=False),
            ), required_if=[("state", "present", ["type"])]),
        ),
        supports_check_mode=True,
    )
    mod.run(run)


def run(mod):
    name, ctype, wanted = mod.params["name"], mod.params["type"], mod.params["wanted"]
    if wanted is not None:
        # one listing of the whole wallet answers every wanted credential
        wallet = dict((cred["name"], cred) for cred in (_credentials.shape(meta) for meta in _credentials.list_all(mod.client)))
        actions = dict((w["name"], _credentials.action_for(wallet.get(w["name"]), w["type"], w["state"], w["update_secret"]))
                       for w in wanted)
        found = [cred for cred in wallet.values() if not name or cred["name"] == name]
    elif name:
        meta = _credentials.get(mod.client, name)
        found = [_credentials.shape(meta)] if meta else []
    else:
        found = [_credentials.shape(meta) for meta in _credentials.list_all(mod.client, ctype)]
    if ctype:
        # The type filter is applied here too, whatever the service did with the query.
        found = [cred for cred in found if cred["type"] == ctype]
    if wanted is None:
        mod.exit(credentials=found)
    mod.exit(credentials=found, actions=actions)


if __name__ == "__main__":
    main()

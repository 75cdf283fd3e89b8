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
"""

from ansible_collections.citrix_community.ips.plugins.module_utils.ips_module import IPSModule
from ansible_collections.citrix_community.ips.plugins.module_utils import _credentials


def main():
    mod = IPSModule(
        dict(
            name=dict(type="str", aliases=["id"]),
            type=dict(type="str", choices=["username_password", "aws", "azure", "gcp"]),
        ),
        supports_check_mode=True,
    )
    mod.run(run)


def run(mod):
    name, ctype = mod.params["name"], mod.params["type"]
    if name:
        meta = _credentials.get(mod.client, name)
        found = [_credentials.shape(meta)] if meta else []
    else:
        found = [_credentials.shape(meta) for meta in _credentials.list_all(mod.client, ctype)]
    if ctype:
        # The type filter is applied here too, whatever the service did with the query.
        found = [cred for cred in found if cred["type"] == ctype]
    mod.exit(credentials=found)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ips_credential
short_description: Manage credentials in the Citrix Image Portability credential wallet
version_added: 0.1.0
description:
  - Create, update or delete a credential in the Image Portability Service credential wallet, so
    IPS jobs can reach a hypervisor, a cloud or an SMB share by the credential's id.
  - The wallet never returns secrets, so an existing credential of the same type counts as up to
    date unless O(update_secret=always). Changing O(type) always sends the new fields.
author:
  - citrix_community.ips maintainers (@citrix-community)
extends_documentation_fragment:
  - citrix_community.ips.auth
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - Secret values are never shown; a secret that would be sent appears as V(VALUE_SPECIFIED_IN_NO_LOG_PARAMETER).
options:
  name:
    description:
      - The credential id in the wallet, the value job options such as C(credential_id) refer to.
    type: str
    required: true
    aliases: [id]
  type:
    description:
      - The kind of credential.
      - V(username_password) for vCenter, XenServer, Nutanix Prism and SMB shares;
        V(aws), V(azure) and V(gcp) for cloud service principals.
      - Required when O(state=present).
    type: str
    choices: [username_password, aws, azure, gcp]
  state:
    description:
      - V(present) creates the credential if it is missing, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  update_secret:
    description:
      - V(on_create) sends the secret fields only when the credential is created (or its type changes),
        so re-runs are idempotent.
      - V(always) sends them on every run, for rotation; the task then always reports a change.
    type: str
    choices: [on_create, always]
    default: on_create
  username:
    description: The user name, for O(type=username_password).
    type: str
  password:
    description: The password, for O(type=username_password).
    type: str
  domain:
    description: The Windows domain of O(username), for O(type=username_password) (SMB shares).
    type: str
  aws_access_key_id:
    description: The access key id of the AWS principal, for O(type=aws).
    type: str
  aws_secret_access_key:
    description: The secret access key of the AWS principal, for O(type=aws).
    type: str
  aws_session_token:
    description: An optional session token of temporary AWS credentials, for O(type=aws).
    type: str
  azure_tenant_id:
    description: The Microsoft Entra tenant id of the service principal, for O(type=azure).
    type: str
  azure_client_id:
    description: The application (client) id of the service principal, for O(type=azure).
    type: str
  azure_client_secret:
    description: The client secret of the service principal, for O(type=azure).
    type: str
  gcp_service_account_key:
    description:
      - The content of a Google service-account JSON key file, as a dict or a JSON string, for O(type=gcp).
    type: raw
notes:
  - Keep every secret in Ansible Vault; the module masks them in all output, including diff and C(-vvvv).
seealso:
  - module: citrix_community.ips.ips_credential_info
"""

EXAMPLES = r"""
- name: Store the vCenter account the export reads from
  citrix_community.ips.ips_credential:
    name: vcenter-admin
    type: username_password
    username: "{{ vault_vcenter_user }}"
    password: "{{ vault_vcenter_password }}"

- name: Store the SMB account of the export share
  citrix_community.ips.ips_credential:
    name: smb-exports
    type: username_password
    username: svc-ips
    domain: CORP
    password: "{{ vault_smb_password }}"

- name: Rotate the Azure service principal secret
  citrix_community.ips.ips_credential:
    name: azure-sp
    type: azure
    azure_tenant_id: "{{ azure_tenant_id }}"
    azure_client_id: "{{ azure_client_id }}"
    azure_client_secret: "{{ vault_azure_client_secret }}"
    update_secret: always

- name: Store a GCP service account key kept in a vaulted file
  citrix_community.ips.ips_credential:
    name: gcp-images
    type: gcp
    gcp_service_account_key: "{{ lookup('ansible.builtin.file', 'files/gcp-key.json.vault') }}"

- name: Remove a credential
  citrix_community.ips.ips_credential:
    name: old-aws
    state: absent
"""

RETURN = r"""
credential:
  description: The credential's metadata as the wallet reports it after the task (empty when absent). Never holds secrets.
  returned: always
  type: dict
  sample:
    name: vcenter-admin
    type: username_password
    state: Ok
    created_at: '2026-11-21T10:00:00.000000Z'
    updated_at: '2026-11-21T10:00:00.000000Z'
  contains:
    name:
      description: The credential id.
      type: str
      sample: vcenter-admin
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
secret_sent:
  description: Whether secret fields were (or in check mode would be) sent to the wallet.
  returned: always
  type: bool
  sample: true
"""

from ansible_collections.citrix_community.ips.plugins.module_utils.ips_module import IPSModule
from ansible_collections.citrix_community.ips.plugins.module_utils import _credentials


def argument_spec():
    spec = dict(
        name=dict(type="str", required=True, aliases=["id"]),
        type=dict(type="str", choices=["username_password", "aws", "azure", "gcp"]),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        update_secret=dict(type="str", default="on_create", choices=["on_create", "always"], no_log=False),
        username=dict(type="str"),
        password=dict(type="str", no_log=True),
        domain=dict(type="str"),
        aws_access_key_id=dict(type="str", no_log=False),
        aws_secret_access_key=dict(type="str", no_log=True),
        aws_session_token=dict(type="str", no_log=True),
        azure_tenant_id=dict(type="str"),
        azure_client_id=dict(type="str"),
        azure_client_secret=dict(type="str", no_log=True),
        gcp_service_account_key=dict(type="raw", no_log=True),
    )
    return spec


def main():
    mod = IPSModule(argument_spec(), supports_check_mode=True, required_if=[("state", "present", ["type"])])
    mod.run(run)


def run(mod):
    p = mod.params
    name, ctype, state = p["name"], p["type"], p["state"]

    # Build the desired request (validated before any call to the service).
    if state == "present":
        wrong = _credentials.misplaced_options(ctype, p)
        if wrong:
            mod.fail("%s: these options belong to another credential type; remove them or set type to theirs."
                     % ", ".join("%s (type %s, not %s)" % (opt, owner, ctype) for opt, owner in wrong))
        if p["gcp_service_account_key"] is not None:
            key = _credentials.parse_gcp_key(p["gcp_service_account_key"])
            for secret in _credentials.GCP_KEY_SECRETS:
                mod.add_secret(key.get(secret))

    # Find what exists.
    meta = _credentials.get(mod.client, name)
    existing = _credentials.shape(meta) if meta else None

    # Decide.
    action = _credentials.action_for(existing, ctype, state, p["update_secret"])
    body = _credentials.build_body(name, ctype, p) if action in ("create", "update") else None
    result = dict(changed=action is not None, secret_sent=body is not None, credential=existing or {})
    if mod.diff_mode:
        before = {"name": name, "type": existing["type"]} if existing else {}
        if body is not None:
            after = dict(_credentials.public_view(name, ctype, p), secrets="VALUE_SPECIFIED_IN_NO_LOG_PARAMETER")
        else:
            after = {} if action == "delete" else dict(before)
        result["diff"] = dict(before=before, after=after)

    # Check mode: the prediction is the answer.
    if mod.check_mode or action is None:
        mod.exit(**result)

    # Submit.
    if action == "create":
        result["credential"] = _credentials.shape(_credentials.create(mod.client, body))
    elif action == "update":
        result["credential"] = _credentials.shape(_credentials.update(mod.client, name, body))
    else:
        _credentials.delete(mod.client, name)
        result["credential"] = {}
    mod.exit(**result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ips_preflight
short_description: Check before the change window that an Image Portability migration can run
version_added: 0.2.0
description:
  - Given what a migration will use (the variables the C(migrate) role takes), checks each thing its jobs and its upload
    need and reports every item as V(ok), V(missing) or V(could_not_check), with the detail and the fix.
  - "Items: the Citrix Cloud API client authenticates and the resource location exists; every wallet credential the jobs
    name exists with the right type; the SMB share is reachable with the credential, the export folder is writable and has
    room for the image; the source hypervisor answers, its TLS certificate is trusted as the job will trust it (the
    fingerprint to paste is printed when it is not) and the source VM and disk exist (vSphere); the cloud identity's
    effective permissions at each scope the job uses, compared with Citrix's documented lists (Azure authorization API,
    AWS IAM policy simulation, GCP testIamPermissions), naming each missing action and its scope; the upload source is
    readable and its size allowed for the target disk type."
  - It never creates or changes anything, and returns C(changed=false) always. The one write is the SMB probe, a small file
    written into the export folder and removed at once (the only sure test that the folder is writable).
  - The item list is data (RV(items)); RV(summary) is the same as readable lines. The module does not fail when an item is
    missing (RV(ok) says whether all passed); the C(migrate) role stops on it.
  - See the collection's docs/preflight.md for every item, what it needs and the fix.
author:
  - citrix_community.ips maintainers (@citrix-community)
extends_documentation_fragment:
  - citrix_community.ips.auth
attributes:
  check_mode:
    support: full
    description: Can run in check_mode and return changed status prediction without modifying target.
    details:
      - The module only reads (and writes and removes its SMB probe), so it runs the same in check mode.
  diff_mode:
    support: none
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  action_group:
    support: full
    description: Use C(group/citrix_community.ips.ips) in C(module_defaults) to set the Citrix Cloud options once.
    membership:
      - citrix_community.ips.ips
options:
  workflow:
    description: The migration, as the C(migrate) role names it; it decides which stages are checked.
    type: str
    required: true
    choices: [mcs_to_mcs, pvs_to_mcs, pvs_to_pvs, mcs_to_pvs]
  stages:
    description:
      - Check only these stages of the workflow (the C(migrate) role passes the stages it will run after C(migrate_start_at)).
      - Default is every stage of O(workflow).
    type: list
    elements: str
    choices: [export, upload, prepare, publish]
  backend:
    description:
      - Where the jobs run. V(cloud) is the Citrix Cloud Image Portability Service.
      - V(appliance) (the App Layering appliance) is reported V(could_not_check) until that backend is part of the collection.
    type: str
    default: cloud
    choices: [cloud, appliance]
  resource_location_id:
    description:
      - The resource location the jobs run in.
      - If not set, the value of the E(CITRIX_CLOUD_RESOURCE_LOCATION_ID) environment variable is used.
    type: str
  source:
    description: The source, as C(migrate_source).
    type: dict
    suboptions:
      platform:
        description: The source platform (an export's O(citrix_community.ips.ips_export#module:platform)).
        type: str
        choices: [vsphere, xenserver, nutanix, azure, aws, gcp]
      connection:
        description: The platform dict of the export (host, port, credential_id, ssl_ca_certificate, ssl_fingerprint, ...).
        type: dict
      disk:
        description: The source disk (vSphere, its datastore path, file name or label).
        type: str
      snapshot:
        description: The source snapshot.
        type: str
      vdisk:
        description: The PVS vDisk's file name in O(smb.location) (PVS sources).
        type: str
      preflight:
        description:
          - The vCenter user to look the VM up with (the wallet's secrets cannot be read back), as O(citrix_community.ips.ips_export#module:preflight).
        type: dict
        suboptions:
          username:
            description: vCenter user name.
            type: str
          password:
            description: Its password.
            type: str
          vm_name:
            description: The VM that holds the disk.
            type: str
          validate_certs:
            description: Check vCenter's certificate when signing in (the TLS item checks it in any case).
            type: bool
            default: true
          timeout:
            description: Seconds to wait for vCenter.
            type: int
            default: 30
  smb:
    description: The share the export writes and the upload reads, as C(migrate_smb).
    type: dict
    suboptions:
      location:
        description: The folder as the job sees it, C(smb://host/share/folder/).
        type: str
      upload_location:
        description: The same folder as this host reaches it, if it differs (another name or port).
        type: str
      credential_id:
        description: The wallet credential the jobs use for the share.
        type: str
      username:
        description: The account to sign in with (the one the wallet credential holds).
        type: str
      password:
        description: Its password.
        type: str
      domain:
        description: Its domain.
        type: str
      port:
        description: The SMB port, when O(smb.upload_location) does not name one.
        type: int
        default: 445
  pvs_store:
    description: The PVS store share a publish writes into, as C(migrate_pvs_store).
    type: dict
    suboptions:
      location:
        description: C(smb://host/store-share/folder/).
        type: str
      credential_id:
        description: The wallet credential the publish job uses.
        type: str
      username:
        description: The account to sign in with; default O(smb.username).
        type: str
      password:
        description: Its password; default O(smb.password).
        type: str
  target:
    description: The target, as C(migrate_target).
    type: dict
    required: true
    suboptions:
      platform:
        description: The target cloud.
        type: str
        required: true
        choices: [azure, aws, gcp]
      connection:
        description: The platform dict of the prepare job (credential_id, subscription_id, resource_group, vm_resource_group, region, ...).
        type: dict
      upload:
        description:
          - The sign-in the checks use, with the keys of the O(citrix_community.ips.ips_upload#module:azure), O(citrix_community.ips.ips_upload#module:aws)
            or O(citrix_community.ips.ips_upload#module:gcp) dict of ips_upload (secrets are kept out of the output).
          - "Also: AWS C(iam_endpoint_url) and C(sts_endpoint_url), GCP C(resource_manager_endpoint) (private endpoints, the lab)."
        type: dict
      principal_arn:
        description:
          - AWS. The IAM user or role whose policies are simulated (the wallet's identity); default the one O(target.upload) signs in as.
        type: str
  pending_credentials:
    description: Wallet ids the C(credentials) role creates in this run (check mode); reported V(ok) with that note.
    type: list
    elements: str
    default: []
  image_size:
    description: The image's virtual size in bytes, when known; default what vSphere reports for the source disk, or the upload source's.
    type: int
  timeout:
    description: Seconds each outside system has to answer.
    type: int
    default: 30
requirements:
  - smbprotocol (SMB items), pyvmomi (vSphere), azure-identity (Azure), boto3 (AWS), google-auth (GCP); each only for its items
seealso:
  - module: citrix_community.ips.ips_export
  - module: citrix_community.ips.ips_disk_info
  - module: citrix_community.ips.ips_credential_info
"""

EXAMPLES = r"""
- name: Check an MCS -> MCS migration from vSphere to Azure before the change window
  citrix_community.ips.ips_preflight:
    workflow: mcs_to_mcs
    resource_location_id: "{{ rl_id }}"
    source:
      platform: vsphere
      disk: "[ds1] win11/win11.vmdk"
      connection: {host: vcenter.example.com, credential_id: vcenter, ssl_fingerprint: "{{ vcenter_sha1 }}"}
      preflight: {username: svc-ips@vsphere.local, password: "{{ vault_vcenter_password }}", vm_name: win11-gold}
    smb:
      location: smb://fs01.example.com/images/win11/
      credential_id: smb-images
      username: EXAMPLE\svc-images
      password: "{{ vault_smb_password }}"
    target:
      platform: azure
      connection: {credential_id: azure-ips, subscription_id: "{{ sub }}", resource_group: rg-images, location: westeurope}
      upload: {tenant_id: "{{ tenant }}", client_id: "{{ app }}", client_secret: "{{ vault_azure_secret }}"}
  register: preflight

- name: Show what is missing
  ansible.builtin.debug:
    msg: "{{ preflight.summary }}"
  when: not preflight.ok
"""

RETURN = r"""
ok:
  description: Whether every item is V(ok).
  returned: always
  type: bool
  sample: false
items:
  description: Every checked item.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: What was checked.
      type: str
      sample: "azure permissions: the target disk's resource group (resource_group)"
    status:
      description: V(ok), V(missing) or V(could_not_check).
      type: str
      sample: missing
    detail:
      description: What was found.
      type: str
      sample: "missing at /subscriptions/0000/resourceGroups/rg-images: Microsoft.Compute/snapshots/read"
    fix:
      description: What to do (empty when V(ok)).
      type: str
      sample: "add Microsoft.Compute/snapshots/read to the role assigned at /subscriptions/0000/resourceGroups/rg-images"
    scope:
      description: Where it was checked (an ARM scope, a principal ARN, a project, a share, a host).
      type: str
      sample: /subscriptions/0000/resourceGroups/rg-images
summary:
  description: The items as readable lines, missing ones first, after a count line.
  returned: always
  type: list
  elements: str
  sample: ["preflight: 14 ok, 1 missing, 0 could not be checked", "missing  wallet credential vc: ... -> fix: ..."]
missing:
  description: The names of the items that are V(missing).
  returned: always
  type: list
  elements: str
  sample: ["wallet credential vcenter"]
"""

from ansible.module_utils.basic import env_fallback

from ansible_collections.citrix_community.ips.plugins.module_utils.ips_module import IPSModule
from ansible_collections.citrix_community.ips.plugins.module_utils._preflight import MISSING, OK, summary
from ansible_collections.citrix_community.ips.plugins.module_utils._preflight import citrix, hypervisor, plan, smb, upload, wallet

_s = dict(type="str")
SPEC = dict(
    workflow=dict(type="str", required=True, choices=list(plan.WORKFLOW_STAGES)),
    stages=dict(type="list", elements="str", choices=["export", "upload", "prepare", "publish"]),
    backend=dict(type="str", default="cloud", choices=["cloud", "appliance"]),
    resource_location_id=dict(type="str", fallback=(env_fallback, ["CITRIX_CLOUD_RESOURCE_LOCATION_ID"])),
    source=dict(type="dict", options=dict(
        platform=dict(type="str", choices=["vsphere", "xenserver", "nutanix", "azure", "aws", "gcp"]),
        connection=dict(type="dict"), disk=_s, snapshot=_s, vdisk=_s,
        preflight=dict(type="dict", options=dict(username=_s, password=dict(type="str", no_log=True), vm_name=_s,
                                                 validate_certs=dict(type="bool", default=True), timeout=dict(type="int", default=30))))),
    smb=dict(type="dict", options=dict(location=_s, upload_location=_s, credential_id=_s, username=_s,
                                       password=dict(type="str", no_log=True), domain=_s, port=dict(type="int", default=445))),
    pvs_store=dict(type="dict", options=dict(location=_s, credential_id=_s, username=_s, password=dict(type="str", no_log=True))),
    target=dict(type="dict", required=True, options=dict(
        platform=dict(type="str", required=True, choices=["azure", "aws", "gcp"]), connection=dict(type="dict"), upload=dict(type="dict"),
        principal_arn=_s)),
    pending_credentials=dict(type="list", elements="str", default=[], no_log=False),
    image_size=dict(type="int"),
    timeout=dict(type="int", default=30),
)


def cloud_items(tgt, timeout):
    sign_in = dict(tgt.get("upload") or {})
    connection = tgt.get("connection") or {}
    if tgt["platform"] == "azure":
        from ansible_collections.citrix_community.ips.plugins.module_utils._preflight import azure
        return azure.check(connection, sign_in, timeout)
    if tgt["platform"] == "aws":
        from ansible_collections.citrix_community.ips.plugins.module_utils._preflight import aws
        sign_in.setdefault("region", connection.get("region"))
        return aws.check(sign_in, tgt.get("principal_arn"), timeout)
    from ansible_collections.citrix_community.ips.plugins.module_utils._preflight import gcp
    return gcp.check(sign_in, sign_in.get("project") or connection.get("project"), timeout)


def run(mod):
    # Build what the migration will use.
    p = mod.params
    for value in plan.secrets_in([p["target"], (p["source"] or {}).get("connection")]):
        mod.add_secret(value)
    run = plan.stages(p["workflow"], p["stages"])
    src, smb_o, store, tgt = p["source"] or {}, p["smb"] or {}, p["pvs_store"] or {}, p["target"]
    size = p["image_size"]
    # Find what exists: each platform's items, in the order the migration meets them. Nothing is changed.
    items = citrix.check(mod.client, p["resource_location_id"], p["backend"], p)
    items += wallet.check(mod.client, plan.wallet_ids(p, run), set(p["pending_credentials"]))
    if "export" in run and src.get("platform"):
        found_items, found = hypervisor.check(src["platform"], src.get("connection") or {}, src.get("disk") or src.get("snapshot"),
                                              src.get("preflight"))
        items += found_items
        if found and size is None:
            size = found.get("disk_bytes") or None
    share = smb_o.get("upload_location") or smb_o.get("location")
    if share and "export" in run:
        items += smb.check("export share", share, smb_o.get("username"), smb_o.get("password"), smb_o.get("domain"), smb_o["port"],
                           size, "%s (smb.credential_id)" % smb_o.get("credential_id"), p["timeout"])
    if "upload" in run and p["workflow"].startswith("pvs_") and share and src.get("vdisk"):
        source_item, source_size = upload.check_source(dict(location=share.rstrip("/") + "/" + src["vdisk"], username=smb_o.get("username"),
                                                            password=smb_o.get("password"), domain=smb_o.get("domain"), port=smb_o["port"]))
        items.append(source_item)
        size = size if size is not None else source_size
    if "publish" in run and store.get("location"):
        items += smb.check("pvs store", store["location"], store.get("username") or smb_o.get("username"),
                           store.get("password") or smb_o.get("password"), smb_o.get("domain"), smb_o["port"], size,
                           "%s (pvs_store.credential_id)" % store.get("credential_id"), p["timeout"])
    items += cloud_items(tgt, p["timeout"])
    if "upload" in run:
        items.append(upload.size_item(tgt["platform"], (tgt.get("upload") or {}).get("sku"), size, tgt["platform"]))
    # Decide and shape: a preflight never changes anything, in check mode or not.
    mod.exit(changed=False, ok=all(i["status"] == OK for i in items), items=items, summary=summary(items),
             missing=[i["name"] for i in items if i["status"] == MISSING])


def main():
    IPSModule(SPEC, supports_check_mode=True).run(run)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ips_export
short_description: Export a disk from a hypervisor or cloud to a VHD or VHDX file on an SMB share
version_added: 0.1.0
description:
  - Runs a Citrix Image Portability export job that copies the disk of a master image on vSphere, XenServer,
    Nutanix AHV, Azure, GCP or AWS to a VHD or VHDX file on an SMB share, and waits for it.
  - Idempotent. The job carries a key made from the request; a re-run attaches to the running job, reports a
    completed one without change, and submits again after a failure.
  - For vSphere sources, O(preflight) checks the VM and disk with pyvmomi before the job is submitted.
author:
  - citrix_community.ips maintainers (@citrix-community)
extends_documentation_fragment:
  - citrix_community.ips.auth
  - citrix_community.ips.job
  - citrix_community.ips.wait
  - citrix_community.ips.appliance
  - citrix_community.ips.appliance.connection
  - citrix_community.ips.windows_host.appliance_host
  - citrix_community.ips.platforms
  - citrix_community.ips.smb
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - The service validates the request (C(dryRun=true)); no job is created.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - The diff shows the request that would be sent, with secret-looking values masked.
  action_group:
    description: Use C(group/citrix_community.ips.ips) in C(module_defaults) to set the auth options once.
    support: full
    membership:
      - citrix_community.ips.ips
options:
  platform:
    description:
      - Where the source disk is. Set the dict option of the same name with its connection details.
    type: str
    required: true
    choices: [vsphere, xenserver, nutanix, azure, aws, gcp]
  source_disk:
    description:
      - The disk to export. vSphere and Nutanix AHV, the disk name; XenServer, the disk (VDI) UUID;
        Azure and GCP, the managed disk name; AWS, the EBS volume id.
      - Required unless O(source_snapshot) is set.
    type: str
  source_snapshot:
    description:
      - Export a snapshot instead of a disk. Azure, the snapshot name; AWS, the EBS snapshot id.
    type: str
  output_name:
    description:
      - The file name written into O(smb.location), without extension.
    type: str
    required: true
  output_format:
    description:
      - The format of the file, which also gives its extension.
    type: str
    choices: [vhdx, vhd]
    default: vhdx
  hash_disk:
    description:
      - Hash the disk during the export; the hash is returned as RV(hash).
    type: bool
    default: false
  preflight:
    description:
      - vSphere only. Before submitting, log in to vCenter with pyvmomi and check that the VM and O(source_disk)
        exist and that the VM is powered off or has a snapshot, so a wrong name fails in seconds.
      - Uses O(vsphere.host), O(vsphere.port) and the vSphere TLS options. Needs the C(pyvmomi) Python library.
    type: dict
    suboptions:
      username:
        description: The vCenter user name (the same account as the wallet credential, or a read-only one).
        type: str
        required: true
      password:
        description: The vCenter password.
        type: str
        required: true
      validate_certs:
        description: Verify the vCenter TLS certificate.
        type: bool
        default: true
      vm_name:
        description: The VM that owns O(source_disk). Without it, every VM is searched.
        type: str
      timeout:
        description: Seconds to wait for vCenter, from 1 to 3600.
        type: int
        default: 30
notes:
  - With O(backend=appliance) the task runs C(Start-AlIpsExport) (sources vSphere, XenServer, Nutanix AHV, Azure); the share
    and the disk format are those of the appliance's connector configuration, O(output_name) is the C(-OutputDiskName), and
    O(smb) serves only the module's own look for an existing output (O(smb.location) and O(smb.username)).
  - The service does not overwrite an existing output file unless O(force=true); the job fails saying the file exists.
  - With O(smb.username), a re-run after the service forgot the job (24 hours) finds the file itself and changes nothing.
  - Secrets never appear in the result or the diff.
requirements:
  - pyvmomi (only for O(preflight))
  - smbprotocol (only with O(smb.username))
seealso:
  - module: citrix_community.ips.ips_job
  - module: citrix_community.ips.ips_publish
"""

EXAMPLES = r"""
- name: Export a vSphere master image to VHDX, after checking the VM is powered off
  citrix_community.ips.ips_export:
    platform: vsphere
    vsphere:
      host: vcenter.corp.example
      credential_id: vcenter-ips
      ssl_fingerprint: "3F:8A:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22"
    source_disk: "[datastore1] win11-master/win11-master.vmdk"
    preflight:
      username: svc-ips@vsphere.local
      password: "{{ vault_vcenter_password }}"
      vm_name: win11-master
    smb:
      location: smb://fs01.corp.example/exports/win11/
      credential_id: smb-exports
    output_name: win11-2501
    hash_disk: true
  register: export

- name: Export a vSphere disk through the App Layering appliance
  citrix_community.ips.ips_export:
    backend: appliance
    appliance:
      address: elm.corp.example
      username: administrator
      password: "{{ vault_elm_password }}"
      connector: vsphere-ips
    windows_host: {host: mgmt01.corp.example, username: CORP\\svc-ips, password: "{{ vault_winhost_password }}"}
    platform: vsphere
    source_disk: "[ds1] win11/win11.vmdk"
    output_name: win11
    smb: {location: "smb://fs01.corp.example/ips-exports/", username: reader, password: "{{ vault_reader_password }}"}

- name: Export a XenServer disk by its VDI UUID, trusting the host's own CA
  citrix_community.ips.ips_export:
    platform: xenserver
    xenserver:
      host: xen01.corp.example
      credential_id: xen-ips
      ssl_ca_certificate: "{{ lookup('file', 'xen-ca.pem') }}"
    source_disk: 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0
    smb: {location: "smb://fs01.corp.example/exports/", credential_id: smb-exports}
    output_name: win11-xen

- name: Export a Nutanix AHV disk as VHD
  citrix_community.ips.ips_export:
    platform: nutanix
    nutanix: {host: prism.corp.example, credential_id: prism-ips, ssl_no_check_hostname: true, ssl_fingerprint: "{{ prism_sha1 }}"}
    source_disk: win11-master-disk0
    smb: {location: "smb://fs01.corp.example/exports/", credential_id: smb-exports}
    output_name: win11-ahv
    output_format: vhd

- name: Export an Azure snapshot
  citrix_community.ips.ips_export:
    platform: azure
    azure:
      credential_id: azure-sp
      subscription_id: 00000000-1111-2222-3333-444444444444
      location: eastus
      resource_group: rg-images
      vnet_resource_group: rg-network
      vnet: vnet-ce
      subnet: snet-ce
    source_snapshot: win11-master-snap
    smb: {location: "smb://fs01.corp.example/exports/", credential_id: smb-exports}
    output_name: win11-azure

- name: Export a GCP disk, submitting only (wait later with ips_job)
  citrix_community.ips.ips_export:
    platform: gcp
    gcp: {credential_id: gcp-sa, zone: us-east4-a, vpc_network: default, network_tags: [ips-ce]}
    source_disk: win11-master
    smb: {location: "smb://fs01.corp.example/exports/", credential_id: smb-exports}
    output_name: win11-gcp
    wait: false

- name: Export an AWS EBS snapshot
  citrix_community.ips.ips_export:
    platform: aws
    aws: {credential_id: aws-ips, region: us-east-2, subnet_id: subnet-0abc, security_group_ids: [sg-0def]}
    source_snapshot: snap-0123456789abcdef0
    smb: {location: "smb://fs01.corp.example/exports/", credential_id: smb-exports}
    output_name: win11-aws
"""

RETURN = r"""
job:
  description: The job, in the shape M(citrix_community.ips.ips_job_info) returns. Empty in check mode when no job exists.
  returned: always
  type: dict
  sample: {"id": "4f8a1d2e-2b8c-4c55-9d3e-0a1b2c3d4e5f", "type": "export", "state": "complete", "progress": 100}
vhd_path:
  description: The smb:// URL of the file the export wrote.
  returned: when the job completed
  type: str
  sample: smb://fs01.corp.example/exports/win11/win11-2501.vhdx
vhd_filename:
  description: The name of the file the export wrote, with its extension.
  returned: when the job completed
  type: str
  sample: win11-2501.vhdx
hash:
  description: The hash of the disk, when O(hash_disk=true).
  returned: when the job completed with hash_disk
  type: str
  sample: "9b74c9897bac770ffc029102a200c5de"
size_bytes:
  description: The size of the written file in bytes.
  returned: when the job completed
  type: int
  sample: 27917287424
expected_path:
  description: The smb:// URL the export writes to, known before the job ends.
  returned: always
  type: str
  sample: "smb://fs01.corp.example/exports/win11/win11-2501.vhdx"
output:
  description:
    - The existing output file found with O(smb.username) when the service no longer knew the job; then no job was
      submitted and RV(job) is empty.
  returned: when the output was found that way
  type: dict
  sample: {"exists": true, "path": "smb://fs01.corp.example/exports/win11/win11-2501.vhdx", "size_bytes": 9437184}
request:
  description: The request body sent (or that would be sent), secret-looking values masked.
  returned: always
  type: dict
  sample:
    resourceLocationId: 1f0e9d8c-7b6a-5948-3726-15a4b3c2d1e0
    tags:
      change: CHG0042
      ips-ansible-key: b3f0c1d2e4a5968778695a4b3c2d1e0f
idempotency_key:
  description: The deterministic key of this request, carried in the job's tags.
  returned: always
  type: str
  sample: "b3f0c1d2e4a5968778695a4b3c2d1e0f"
resumed:
  description: Whether the task attached to a job that was already running (for example after an interrupted run).
  returned: always
  type: bool
  sample: false
validation:
  description: The service's answer to the C(dryRun) request.
  returned: in check mode, when a job would be submitted
  type: dict
  sample:
    dryRun: true
    valid: true
    parameters:
      resourceLocationId: 1f0e9d8c-7b6a-5948-3726-15a4b3c2d1e0
      tags:
        change: CHG0042
        ips-ansible-key: b3f0c1d2e4a5968778695a4b3c2d1e0f
preflight:
  description: What the vSphere pre-flight found (VM, power state, snapshot, disk file).
  returned: when O(preflight) is set
  type: dict
  sample: {"vm": "win11-gold", "power_state": "poweredOff", "snapshot": null, "disk_file": "[ds1] win11/win11.vmdk", "disk_bytes": 68719476736}
"""

from ansible_collections.citrix_community.ips.plugins.module_utils.ips_module import IPSModule
from ansible_collections.citrix_community.ips.plugins.module_utils import _job_runner
from ansible_collections.citrix_community.ips.plugins.module_utils import _appliance_jobs, _appliance_requests
from ansible_collections.citrix_community.ips.plugins.module_utils._preflight import vsphere as _preflight_vsphere
from ansible_collections.citrix_community.ips.plugins.module_utils._bodies import common, export
from ansible_collections.citrix_community.ips.plugins.module_utils._bodies.common import OptionError


def argument_spec():
    spec = _job_runner.job_argument_spec()
    spec.update(common.platform_argument_spec())
    spec.update(common.smb_argument_spec())
    spec.update(export.output_argument_spec())
    spec.update(_preflight_vsphere.argument_spec())
    spec.update(platform=dict(type="str", required=True, choices=list(common.PLATFORMS)),
                source_disk=dict(type="str"), source_snapshot=dict(type="str"))
    spec.update(_appliance_jobs.task_argument_spec())
    return spec


def main():
    mod = IPSModule(argument_spec(), supports_check_mode=True)
    mod.run(run)


def run(mod):
    p = mod.params
    if _appliance_requests.check_backend(p) == "appliance":
        # The appliance's Start-AlIpsExport: the same life (find, decide, check, start, wait), another wire.
        output_exists = _job_runner.smb_output_check(mod, export.output_filename(p), export.FOUND_ARTIFACTS)
        result = _appliance_jobs.ApplianceRunner(mod, "export", output_exists=output_exists,
                                                 artifacts=_appliance_requests.file_artifacts(p, export.ARTIFACT_KEYS)).run()
        mod.exit(**result)
    # Build the desired request (cross-field rules first), then check the source if asked.
    body = export.build(p)
    found = None
    if p["preflight"]:
        if p["platform"] != "vsphere":
            raise OptionError("preflight checks a vSphere source; platform is %s, so remove preflight." % p["platform"])
        if not p["source_disk"]:
            raise OptionError("preflight looks for source_disk on vCenter; set source_disk.")
        vs = p["vsphere"]
        found = _preflight_vsphere.check(vs["host"], vs["port"], p["preflight"], p["source_disk"],
                                         ca_certificate=vs["ssl_ca_certificate"], fingerprint=vs["ssl_fingerprint"])
    # Find, decide, check mode, submit, wait.
    output_exists = _job_runner.smb_output_check(mod, export.output_filename(p), export.FOUND_ARTIFACTS)
    result = _job_runner.JobRunner(mod, "export", body, output_exists=output_exists, artifacts=export.ARTIFACT_KEYS).run()
    # Shape the result.
    result["expected_path"] = export.expected_file(p)
    if found is not None:
        result["preflight"] = found
    mod.exit(**result)


if __name__ == "__main__":
    main()

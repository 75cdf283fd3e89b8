#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ips_pvs_image
short_description: Convert a PVS vDisk to UEFI, upgrade its PVS software, or reverse it to a vSphere disk
version_added: 0.1.0
description:
  - Runs one of the Citrix Image Portability PVS automation jobs on a VHD or VHDX in a PVS store share, and waits for it.
  - V(convert_to_uefi) converts an MBR/BIOS vDisk to GPT/UEFI (vSphere, XenServer, Azure, GCP).
  - V(upgrade_pvs) installs another version of the PVS target device software into the vDisk (vSphere).
  - V(reverse_image) recreates a native vSphere disk from the vDisk (vSphere).
  - Idempotent like every job module of the collection (see the notes).
author:
  - citrix_community.ips maintainers (@citrix-community)
extends_documentation_fragment:
  - citrix_community.ips.auth
  - citrix_community.ips.job
  - citrix_community.ips.wait
  - citrix_community.ips.platforms
  - citrix_community.ips.smb
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  action_group:
    description: Use C(group/citrix_community.ips.ips) in C(module_defaults) to set the auth options once.
    support: full
    membership:
      - citrix_community.ips.ips
options:
  operation:
    description:
      - The PVS automation job to run.
    type: str
    required: true
    choices: [convert_to_uefi, upgrade_pvs, reverse_image]
  platform:
    description:
      - Where the job's compositing engine runs. V(upgrade_pvs) and V(reverse_image) run on vSphere only.
    type: str
    required: true
    choices: [vsphere, xenserver, azure, gcp]
  input_name:
    description:
      - The vDisk file name in O(smb.location) (the PVS store), without extension.
    type: str
    required: true
  input_format:
    description:
      - The vDisk format.
    type: str
    choices: [vhdx, vhd]
    default: vhdx
  output_name:
    description:
      - V(convert_to_uefi) and V(upgrade_pvs), the name of the new vDisk, without extension.
    type: str
  output_size_mb:
    description:
      - V(upgrade_pvs), the size of the upgraded vDisk in MiB, from 1 to 67108864 (64 TiB).
    type: int
  pvs_version:
    description:
      - V(upgrade_pvs), the PVS target device software version to install. Required for V(upgrade_pvs).
    type: str
  pvs_ssl_ca_certificate:
    description:
      - V(convert_to_uefi), the PEM CA certificate of the PVS server.
    type: str
  output_disk_name:
    description:
      - V(reverse_image), the name of the native vSphere disk to create.
    type: str
notes:
  - The service does not overwrite an existing output file unless O(force=true); the job fails saying the file exists.
  - With O(smb.username), a re-run after the service forgot the job (24 hours) finds the file itself and changes nothing.
requirements:
  - smbprotocol (only with O(smb.username))
seealso:
  - module: citrix_community.ips.ips_publish
"""

EXAMPLES = r"""
- name: Convert a BIOS vDisk to UEFI on vSphere
  citrix_community.ips.ips_pvs_image:
    operation: convert_to_uefi
    platform: vsphere
    vsphere: {host: vcenter.corp.example, credential_id: vcenter-ips}
    smb: {location: "smb://pvs01.corp.example/store/", credential_id: smb-pvs}
    input_name: win10-bios
    output_name: win10-uefi

- name: Convert on Azure, XenServer or GCP the same way
  citrix_community.ips.ips_pvs_image:
    operation: convert_to_uefi
    platform: azure
    azure: {credential_id: azure-sp, subscription_id: 00000000-1111-2222-3333-444444444444, location: eastus}
    smb: {location: "smb://pvs01.corp.example/store/", credential_id: smb-pvs}
    input_name: win10-bios
    output_name: win10-uefi

- name: Upgrade the PVS software inside a vDisk
  citrix_community.ips.ips_pvs_image:
    operation: upgrade_pvs
    platform: vsphere
    vsphere: {host: vcenter.corp.example, credential_id: vcenter-ips}
    smb: {location: "smb://pvs01.corp.example/store/", credential_id: smb-pvs}
    input_name: win11-2407
    output_name: win11-2411
    pvs_version: "2411"
    output_size_mb: 65536

- name: Reverse a vDisk into a native vSphere disk
  citrix_community.ips.ips_pvs_image:
    operation: reverse_image
    platform: vsphere
    vsphere: {host: vcenter.corp.example, credential_id: vcenter-ips, datastore: ds1}
    smb: {location: "smb://pvs01.corp.example/store/", credential_id: smb-pvs}
    input_name: win11-2411
    output_disk_name: win11-native
"""

RETURN = r"""
job:
  description: The job, in the shape M(citrix_community.ips.ips_job_info) returns.
  returned: always
  type: dict
  sample:
    id: 4f8a1d2e-2b8c-4c55-9d3e-0a1b2c3d4e5f
    type: convert_to_uefi
    status: complete
    state: complete
    progress: 100
    stage: converting
    parameters:
      tags:
        ips-ansible-key: b3f0c1d2e4a5968778695a4b3c2d1e0f
    artifacts:
      outputImagePath: smb://pvs01.corp.example/store/win11-2501-uefi.vhdx
    error: null
    warnings: []
    created_at: '2026-11-21T09:12:40.000000Z'
    updated_at: '2026-11-21T10:04:12.000000Z'
    idempotency_key: b3f0c1d2e4a5968778695a4b3c2d1e0f
vhd_path:
  description: The smb:// URL of the new vDisk, when the service reports it.
  returned: when the job completed and the service reports it
  type: str
  sample: "smb://pvs01.corp.example/store/win11-2501-uefi.vhdx"
vhd_filename:
  description: The file name of the new vDisk.
  returned: when the job completed and the service reports it
  type: str
  sample: "win11-2501-uefi.vhdx"
disk_name:
  description: V(reverse_image), the native vSphere disk created.
  returned: when the job completed and the service reports it
  type: str
  sample: "win11-2501-reversed"
size_bytes:
  description: The size of the new vDisk in bytes, when the service reports it.
  returned: when the job completed and the service reports it
  type: int
  sample: 27917287424
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
  description: Whether the task attached to a job that was already running.
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
"""

from ansible_collections.citrix_community.ips.plugins.module_utils.ips_module import IPSModule
from ansible_collections.citrix_community.ips.plugins.module_utils import _job_runner
from ansible_collections.citrix_community.ips.plugins.module_utils._bodies import common, pvs


def argument_spec():
    spec = _job_runner.job_argument_spec()
    spec.update(common.platform_argument_spec())
    spec.update(common.smb_argument_spec())
    spec.update(pvs.argument_spec())
    spec.update(platform=dict(type="str", required=True, choices=["vsphere", "xenserver", "azure", "gcp"]))
    return spec


def main():
    mod = IPSModule(argument_spec(), supports_check_mode=True)
    mod.run(run)


def run(mod):
    # Build the desired request (the operation picks the route), then find, decide, submit, wait, shape.
    route, body = pvs.build(mod.params)
    filename = pvs.output_filename(mod.params)
    output_exists = _job_runner.smb_output_check(mod, filename, pvs.FOUND_ARTIFACTS) if filename else None
    mod.exit(**_job_runner.JobRunner(mod, route, body, output_exists=output_exists, artifacts=pvs.ARTIFACT_KEYS,
                                     force_resubmits=route in pvs.FORCE_RESUBMITS).run())


if __name__ == "__main__":
    main()

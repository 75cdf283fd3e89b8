#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ips_publish
short_description: Publish a prepared disk as a VHD or VHDX into a PVS store share
version_added: 0.1.0
description:
  - Runs a Citrix Image Portability publish job that writes a prepared disk as a VHD or VHDX file into the SMB share
    of a Provisioning Services store, and waits for it. The service runs a publish as an export job whose source is the
    prepared disk.
  - With O(prepare=true), prepares and publishes in one job, which the service offers for Azure and GCP; the prepare
    options (O(provisioning_type), O(vda), O(domain_unjoin), O(md5_hash)) then apply.
  - Idempotent like every job module of the collection (see the notes).
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
  - citrix_community.ips.vda
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - The service validates the request (C(dryRun=true)); no job is created.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  action_group:
    description: Use C(group/citrix_community.ips.ips) in C(module_defaults) to set the auth options once.
    support: full
    membership:
      - citrix_community.ips.ips
options:
  platform:
    description:
      - Where the prepared disk is. Set the dict option of the same name with its details.
    type: str
    required: true
    choices: [azure, aws, gcp, vsphere, xenserver, nutanix]
  source_disk:
    description:
      - The prepared disk (with O(prepare=true), the uploaded disk to prepare; on GCP the uploaded image).
      - Required unless O(source_snapshot) is set.
    type: str
  source_snapshot:
    description:
      - Publish a snapshot instead. Azure, the snapshot name; AWS, the EBS snapshot id. Not with O(prepare=true).
    type: str
  output_name:
    description:
      - The vDisk file name written into O(smb.location) (the PVS store), without extension.
    type: str
    required: true
  output_format:
    description:
      - The vDisk format, which also gives the extension.
    type: str
    choices: [vhdx, vhd]
    default: vhdx
  hash_disk:
    description:
      - Hash the disk while publishing; the hash is returned as RV(hash).
    type: bool
    default: false
  prepare:
    description:
      - Prepare the disk and publish it in one job (Azure and GCP only).
    type: bool
    default: false
notes:
  - The service does not overwrite an existing output file unless O(force=true); the job fails saying the file exists.
  - With O(smb.username), a re-run after the service forgot the job (24 hours) finds the file itself and changes nothing.
requirements:
  - smbprotocol (only with O(smb.username))
seealso:
  - module: citrix_community.ips.ips_prepare
  - module: citrix_community.ips.ips_pvs_image
"""

EXAMPLES = r"""
- name: Publish a prepared Azure disk into the PVS store
  citrix_community.ips.ips_publish:
    platform: azure
    azure: {credential_id: azure-sp, subscription_id: 00000000-1111-2222-3333-444444444444, location: eastus, resource_group: rg-images}
    source_disk: win11-prepared
    smb: {location: "smb://pvs01.corp.example/store/", credential_id: smb-pvs}
    output_name: win11-2501

- name: Prepare a GCP image for PVS and publish it in one job
  citrix_community.ips.ips_publish:
    platform: gcp
    gcp: {credential_id: gcp-sa, zone: us-east4-a, vpc_network: default, network_tags: [ips-ce]}
    source_disk: win11-image
    prepare: true
    provisioning_type: pvs
    vda: {install_pvs: "2407", xd_reconfigure: [{name: controllers, value: ddc1.corp.example}]}
    smb: {location: "smb://pvs01.corp.example/store/", credential_id: smb-pvs}
    output_name: win11-gcp-2501

- name: Publish a prepared vSphere disk as VHD
  citrix_community.ips.ips_publish:
    platform: vsphere
    vsphere: {host: vcenter.corp.example, credential_id: vcenter-ips}
    source_disk: "[ds1] prepared/win11.vmdk"
    smb: {location: "smb://pvs01.corp.example/store/", credential_id: smb-pvs}
    output_name: win11-vs
    output_format: vhd

- name: Publish a prepared AWS snapshot
  citrix_community.ips.ips_publish:
    platform: aws
    aws: {credential_id: aws-ips, region: us-east-2}
    source_snapshot: "{{ prepared.snapshot_id }}"
    smb: {location: "smb://pvs01.corp.example/store/", credential_id: smb-pvs}
    output_name: win11-aws

- name: Publish from XenServer and Nutanix AHV
  citrix_community.ips.ips_publish:
    platform: "{{ item.platform }}"
    xenserver: "{{ item.xenserver | default(omit) }}"
    nutanix: "{{ item.nutanix | default(omit) }}"
    source_disk: "{{ item.disk }}"
    smb: {location: "smb://pvs01.corp.example/store/", credential_id: smb-pvs}
    output_name: "win11-{{ item.platform }}"
  loop:
    - {platform: xenserver, xenserver: {host: xen01.corp.example, credential_id: xen-ips}, disk: 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0}
    - {platform: nutanix, nutanix: {host: prism.corp.example, credential_id: prism-ips}, disk: win11-prepared}
"""

RETURN = r"""
job:
  description: The job, in the shape M(citrix_community.ips.ips_job_info) returns.
  returned: always
  type: dict
  sample:
    id: 4f8a1d2e-2b8c-4c55-9d3e-0a1b2c3d4e5f
    type: publish
    status: complete
    state: complete
    progress: 100
    stage: cleaningUp
    parameters:
      tags:
        ips-ansible-key: b3f0c1d2e4a5968778695a4b3c2d1e0f
    artifacts:
      outputImagePath: smb://pvs01.corp.example/store/win11-2501.vhdx
    error: null
    warnings: []
    created_at: '2026-11-21T09:12:40.000000Z'
    updated_at: '2026-11-21T10:04:12.000000Z'
    idempotency_key: b3f0c1d2e4a5968778695a4b3c2d1e0f
vhd_path:
  description: The smb:// URL of the vDisk written into the PVS store.
  returned: when the job completed
  type: str
  sample: smb://pvs01.corp.example/store/win11-2501.vhdx
vhd_filename:
  description: The vDisk file name, with its extension.
  returned: when the job completed
  type: str
  sample: "win11-2501.vhdx"
hash:
  description: The disk hash, when O(hash_disk=true).
  returned: when the job completed with hash_disk
  type: str
  sample: "9b74c9897bac770ffc029102a200c5de"
size_bytes:
  description: The size of the written vDisk in bytes.
  returned: when the job completed
  type: int
  sample: 27917287424
disk_name:
  description: With O(prepare=true), the prepared disk.
  returned: when a prepare-and-publish job completed
  type: str
  sample: "win11-prepared"
expected_path:
  description: The smb:// URL the publish writes to, known before the job ends.
  returned: always
  type: str
  sample: "smb://pvs01.corp.example/store/win11-2501.vhdx"
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
from ansible_collections.citrix_community.ips.plugins.module_utils import _appliance_jobs, _appliance_requests
from ansible_collections.citrix_community.ips.plugins.module_utils._bodies import common, export, publish


def argument_spec():
    spec = _job_runner.job_argument_spec()
    spec.update(common.platform_argument_spec())
    spec.update(common.smb_argument_spec())
    spec.update(export.output_argument_spec())
    spec.update(publish.argument_spec())
    spec.update(platform=dict(type="str", required=True, choices=["azure", "aws", "gcp", "vsphere", "xenserver", "nutanix"]),
                source_disk=dict(type="str"), source_snapshot=dict(type="str"))
    spec.update(_appliance_jobs.task_argument_spec())
    return spec


def main():
    mod = IPSModule(argument_spec(), supports_check_mode=True)
    mod.run(run)


def run(mod):
    if _appliance_requests.check_backend(mod.params) == "appliance":
        # The appliance's publish task: the prepared Azure disk into the share of its Windows File Share connector.
        output_exists = _job_runner.smb_output_check(mod, export.output_filename(mod.params), export.FOUND_ARTIFACTS)
        mod.exit(**_appliance_jobs.ApplianceRunner(mod, "publish", output_exists=output_exists,
                                                   artifacts=_appliance_requests.file_artifacts(mod.params, publish.ARTIFACT_KEYS)).run())
    # Build the desired request: an export body, or one prepare-and-publish body.
    route, body = publish.build(mod.params)
    # Find, decide, check mode, submit, wait; shape the result.
    output_exists = _job_runner.smb_output_check(mod, export.output_filename(mod.params), export.FOUND_ARTIFACTS)
    result = _job_runner.JobRunner(mod, route, body, output_exists=output_exists, artifacts=publish.ARTIFACT_KEYS,
                                   kind="publish" if route == "export" else None).run()
    result["expected_path"] = export.expected_file(mod.params)
    mod.exit(**result)


if __name__ == "__main__":
    main()

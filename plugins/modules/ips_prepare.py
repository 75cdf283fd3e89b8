#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ips_prepare
short_description: Make an uploaded disk bootable for MCS or PVS on its target platform
version_added: 0.1.0
description:
  - Runs a Citrix Image Portability prepare job on Azure, AWS, GCP, vSphere, XenServer or Nutanix AHV. A compositing
    engine VM attaches the uploaded disk, installs or reconfigures the VDA components and makes the disk bootable for
    Machine Creation Services or Provisioning Services, and waits for it.
  - Idempotent. The job carries a key made from the request; a re-run attaches to the running job, reports a
    completed one without change, and submits again after a failure.
  - Cross-field rules are checked before any request, for example O(vda.install_misa) needs O(provisioning_type=mcs).
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
      - Where the uploaded disk is. Set the dict option of the same name with its details.
    type: str
    required: true
    choices: [azure, aws, gcp, vsphere, xenserver, nutanix]
  target_disk:
    description:
      - The uploaded disk to prepare. Azure, the managed disk name; AWS, the EBS volume id; GCP, the image name
        (the GCP upload makes an image); vSphere and Nutanix AHV, the disk name; XenServer, the disk (VDI) UUID.
      - Required unless O(target_snapshot) is set.
    type: str
  target_snapshot:
    description:
      - Prepare from a snapshot instead. Azure, the snapshot name; AWS, the EBS snapshot id.
    type: str
  output_disk_name:
    description:
      - Write the prepared result to a new disk of this name instead of changing O(target_disk) in place.
        Not for Nutanix AHV (use O(output_image_name)).
    type: str
  output_snapshot_name:
    description:
      - Azure only. Write the prepared result to a new snapshot of this name.
    type: str
  output_image_name:
    description:
      - Nutanix AHV only. The name of the prepared image.
    type: str
  install_upl:
    description:
      - Install User Personalization Layer (C(-InstallUpl)). Only with O(backend=appliance).
    type: bool
    version_added: 0.2.0
  chkdsk:
    description:
      - Run chkdsk on the image (C(-Chkdsk)). Only with O(backend=appliance).
    type: bool
    version_added: 0.2.0
  defrag:
    description:
      - Defragment the image (C(-Defrag)). Only with O(backend=appliance).
    type: bool
    version_added: 0.2.0
  enable_rdp:
    description:
      - Enable Remote Desktop in the image (C(-EnableRdp)). Only with O(backend=appliance).
    type: bool
    version_added: 0.2.0
  update_layer_repo:
    description:
      - The App Layering repository URL to write into the image (C(-UpdateLayerRepo)). Only with O(backend=appliance).
    type: str
    version_added: 0.2.0
  azure_output_check:
    description:
      - Only with O(backend=appliance). The module's own read-only Azure sign-in, used to look for the output disk
        (O(output_disk_name) in the subscription and resource group of O(target_disk)) when the task journal knows no task
        for this request (a re-run from another host, a lost journal). A disk found means C(changed=false) and nothing is
        started. Without it the appliance decides (its task fails when the output disk exists).
      - The same keys and sign-ins as the C(azure) dict of M(citrix_community.ips.ips_upload). Needs C(azure-identity) and
        C(azure-mgmt-compute) on the host that runs the task.
    type: dict
    version_added: 0.2.0
    suboptions:
      tenant_id: {description: The Entra tenant., type: str}
      client_id: {description: The service principal (or managed identity) client id., type: str}
      client_secret: {description: The service principal secret., type: str}
      auth_source:
        description: How to sign in, as O(citrix_community.ips.ips_upload#module:azure.auth_source) (default the secret when given, else the default chain).
        type: str
      x509_certificate_path: {description: A PEM or PKCS12 file with the service principal's certificate and key., type: path}
      x509_certificate_password: {description: The password of that file's key., type: str}
      authority: {description: The Entra authority host (sovereign clouds)., type: str}
      arm_endpoint: {description: The Azure Resource Manager endpoint (sovereign clouds)., type: str}
      arm_scope: {description: The token scope of that endpoint., type: str, default: "https://management.azure.com/.default"}
      ca_path: {description: A CA bundle to verify the endpoints with., type: path}
  debug_settings:
    description:
      - Debug settings of the prepare (C(-DebugSettings)), for example C(enableBootDiagnostics=true) as a dict.
        Only with O(backend=appliance).
    type: dict
    version_added: 0.2.0
notes:
  - With O(backend=appliance) the task runs C(Start-AlIpsPrepare) (Azure only); O(target_disk) is the managed disk's full
    resource id, O(output_disk_name) is required, O(vda) maps to C(-Misa)/C(-Mcsio) C(Install|Force), C(-PvsInstallVersion) and
    C(-XdReconfigure), O(job_timeout) to C(-Timeout), O(tags) to C(-Tags).
  - The prepared output is overwritten only with O(force=true) (the service's C(overwriteTargetFile)).
  - Whether the output disk or snapshot already exists is checked by the service, not by the module (the module would need
    the cloud credentials the wallet holds). A re-run after the service forgot the job (24 hours) submits again, and the
    job fails saying the output exists unless O(force=true).
  - The target must be a finished upload. Azure, a managed disk in O(azure.resource_group) whose upload was finished
    (state Unattached). GCP, an image in state READY.
  - On AWS the result is an EBS volume and snapshot; make an AMI from them with M(citrix_community.ips.ips_aws_image).
seealso:
  - module: citrix_community.ips.ips_publish
  - module: citrix_community.ips.ips_aws_image
  - module: citrix_community.ips.ips_job
"""

EXAMPLES = r"""
- name: Prepare an uploaded Azure disk for MCS, with a CE VM in an isolated network
  citrix_community.ips.ips_prepare:
    platform: azure
    azure:
      credential_id: azure-sp
      subscription_id: 00000000-1111-2222-3333-444444444444
      location: eastus
      resource_group: rg-images
      vnet_resource_group: rg-network
      vnet: vnet-ce
      subnet: snet-ce
      ce_vm_sku: Standard_D4s_v5
      network_isolation: true
    target_disk: win11-uploaded
    output_disk_name: win11-prepared
    provisioning_type: mcs
    vda:
      install_misa: true
      install_mcsio: true
      xd_reconfigure:
        - {name: controllers, value: "ddc1.corp.example ddc2.corp.example"}
        - {name: portnumber, value: "80"}
        - {name: enable_hdx_ports, value: "true"}
    domain_unjoin: true
    md5_hash: 9e107d9d372bb6826bd81d3542a419d6
    tags: {owner: euc-team}
    job_timeout: 7200

- name: Prepare an uploaded Azure disk for MCS through the App Layering appliance
  citrix_community.ips.ips_prepare:
    backend: appliance
    appliance:
      address: elm.corp.example
      username: administrator
      password: "{{ vault_elm_password }}"
      connector: azure-ips
    windows_host: {host: mgmt01.corp.example, username: CORP\svc-ips, password: "{{ vault_winhost_password }}"}
    platform: azure
    target_disk: /subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-images/providers/Microsoft.Compute/disks/win11-uploaded
    output_disk_name: win11-prepared
    provisioning_type: mcs
    vda: {install_misa: true, force_mcsio: true}
    enable_rdp: true
    debug_settings: {enableBootDiagnostics: true}

- name: Prepare an EBS snapshot on AWS for PVS
  citrix_community.ips.ips_prepare:
    platform: aws
    aws: {credential_id: aws-ips, region: us-east-2, subnet_id: subnet-0abc, security_group_ids: [sg-0def]}
    target_snapshot: snap-0123456789abcdef0
    output_disk_name: win11-pvs
    provisioning_type: pvs
    vda: {install_pvs: "2407"}
  register: prepared

- name: Prepare an uploaded GCP image
  citrix_community.ips.ips_prepare:
    platform: gcp
    gcp: {credential_id: gcp-sa, zone: us-east4-a, vpc_network: default, vpc_subnet: regions/us-east4/subnetworks/ce, network_tags: [ips-ce]}
    target_disk: win11-image
    output_disk_name: win11-prepared
    prefix: ipsce

- name: Prepare a disk on vSphere
  citrix_community.ips.ips_prepare:
    platform: vsphere
    vsphere: {host: vcenter.corp.example, credential_id: vcenter-ips, cluster: Cluster1, datastore: ds1, network: VM Network}
    target_disk: "[ds1] uploads/win11.vmdk"
    output_disk_name: win11-prepared

- name: Prepare a disk on XenServer
  citrix_community.ips.ips_prepare:
    platform: xenserver
    xenserver:
      host: xen01.corp.example
      credential_id: xen-ips
      ssl_fingerprint: "{{ xen_sha1 }}"
      network: Pool-wide network
      storage_repository_uuid: "{{ sr_uuid }}"
    target_disk: 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0
    output_disk_name: win11-prepared

- name: Prepare an image on Nutanix AHV
  citrix_community.ips.ips_prepare:
    platform: nutanix
    nutanix: {host: prism.corp.example, credential_id: prism-ips, storage_container: default}
    target_disk: win11-uploaded
    output_image_name: win11-prepared
"""

RETURN = r"""
job:
  description: The job, in the shape M(citrix_community.ips.ips_job_info) returns. Empty in check mode when no job exists.
  returned: always
  type: dict
  sample:
    id: 4f8a1d2e-2b8c-4c55-9d3e-0a1b2c3d4e5f
    type: prepare
    status: complete
    state: complete
    progress: 100
    stage: cleaningUp
    parameters:
      tags:
        ips-ansible-key: b3f0c1d2e4a5968778695a4b3c2d1e0f
    artifacts:
      outputDiskName: win11-prepared
    error: null
    warnings: []
    created_at: '2026-11-21T09:12:40.000000Z'
    updated_at: '2026-11-21T10:04:12.000000Z'
    idempotency_key: b3f0c1d2e4a5968778695a4b3c2d1e0f
disk_name:
  description: The name of the prepared disk (the output, or the target prepared in place).
  returned: when the job completed
  type: str
  sample: win11-prepared
disk_id:
  description: The id of the prepared disk, when the service reports one.
  returned: when the job completed and the service reports it
  type: str
  sample: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-images/providers/Microsoft.Compute/disks/win11-prepared"
snapshot_name:
  description: The name of the prepared snapshot (Azure, O(output_snapshot_name)).
  returned: when the job completed and the service reports it
  type: str
  sample: "win11-prepared-snap"
image_name:
  description: The name of the prepared image (Nutanix AHV, O(output_image_name)).
  returned: when the job completed and the service reports it
  type: str
  sample: "win11-prepared"
snapshot_id:
  description: AWS, the id of the EBS snapshot of the prepared disk (the input of M(citrix_community.ips.ips_aws_image)).
  returned: when the job completed on AWS
  type: str
  sample: snap-0fedcba9876543210
volume_id:
  description: AWS, the id of the prepared EBS volume.
  returned: when the job completed on AWS
  type: str
  sample: vol-0123456789abcdef0
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
from ansible_collections.citrix_community.ips.plugins.module_utils import _appliance_jobs, _appliance_outputs, _appliance_requests
from ansible_collections.citrix_community.ips.plugins.module_utils._bodies import common, prepare


def argument_spec():
    spec = _job_runner.job_argument_spec()
    spec.update(common.platform_argument_spec())
    spec.update(prepare.vda_argument_spec())
    spec.update(prepare.target_argument_spec())
    spec.update(platform=dict(type="str", required=True, choices=["azure", "aws", "gcp", "vsphere", "xenserver", "nutanix"]))
    spec.update(_appliance_jobs.task_argument_spec())
    spec.update(_appliance_requests.prepare_argument_spec())
    spec.update(_appliance_outputs.spec())
    return spec


def main():
    mod = IPSModule(argument_spec(), supports_check_mode=True)
    mod.run(run)


def run(mod):
    if _appliance_requests.check_backend(mod.params) == "appliance":
        # The appliance's Start-AlIpsPrepare: the same life (find, decide, check, start, wait), another wire.
        # Without a journaled task, an output disk found with azure_output_check means the work is done.
        mod.exit(**_appliance_jobs.ApplianceRunner(mod, "prepare", output_exists=_appliance_outputs.azure_disk_check(mod.params),
                                                   artifacts=_appliance_requests.prepare_artifacts(mod.params)).run())
    # Build the desired request (cross-field rules first).
    body = prepare.build(mod.params)
    # Find, decide, check mode, submit, wait; shape the result with the named artifacts.
    mod.exit(**_job_runner.JobRunner(mod, "prepare", body, artifacts=prepare.ARTIFACT_KEYS).run())


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ips_diagnostics
short_description: Collect Image Portability diagnostics to an SMB share
version_added: 0.1.0
description:
  - Runs a Citrix Image Portability diagnostics job that collects compositing engine logs, Windows event logs and
    IPS data from a platform to an SMB share, and waits for it.
  - Idempotent like every job module of the collection (see the notes); use O(force=true) to collect again.
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
      - The platform whose IPS activity is diagnosed. Set the dict option of the same name.
    type: str
    required: true
    choices: [vsphere, xenserver, nutanix, azure, aws, gcp]
  ce_logs:
    description: Collect the compositing engine logs.
    type: bool
    default: true
  windows_event_logs:
    description: Collect the Windows event logs of the image.
    type: bool
    default: true
  ips_data:
    description: Collect the IPS service data of the jobs.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Collect everything after a failed Azure prepare
  citrix_community.ips.ips_diagnostics:
    platform: azure
    azure: {credential_id: azure-sp, subscription_id: 00000000-1111-2222-3333-444444444444, location: eastus}
    smb: {location: "smb://fs01.corp.example/ips-diag/", credential_id: smb-exports}
    force: true

- name: Collect diagnostics through the App Layering appliance
  citrix_community.ips.ips_diagnostics:
    backend: appliance
    appliance: {address: elm.corp.example, username: administrator, password: "{{ vault_elm_password }}", connector: azure-ips}
    windows_host: {host: mgmt01.corp.example, username: CORP\\svc-ips, password: "{{ vault_winhost_password }}"}
    platform: azure

- name: Only the compositing engine logs from vSphere
  citrix_community.ips.ips_diagnostics:
    platform: vsphere
    vsphere: {host: vcenter.corp.example, credential_id: vcenter-ips}
    smb: {location: "smb://fs01.corp.example/ips-diag/", credential_id: smb-exports}
    windows_event_logs: false
    ips_data: false
"""

RETURN = r"""
job:
  description: The job, in the shape M(citrix_community.ips.ips_job_info) returns.
  returned: always
  type: dict
  sample:
    id: 4f8a1d2e-2b8c-4c55-9d3e-0a1b2c3d4e5f
    type: diagnostics
    status: complete
    state: complete
    progress: 100
    stage: collecting
    parameters:
      tags:
        ips-ansible-key: b3f0c1d2e4a5968778695a4b3c2d1e0f
    artifacts:
      outputPath: smb://fs01.corp.example/diag/ips-diagnostics-20261121T100412Z-4f8a1d2e.zip
    error: null
    warnings: []
    created_at: '2026-11-21T09:12:40.000000Z'
    updated_at: '2026-11-21T10:04:12.000000Z'
    idempotency_key: b3f0c1d2e4a5968778695a4b3c2d1e0f
diagnostics_path:
  description: Where the diagnostics were written, when the service reports it.
  returned: when the job completed and the service reports it
  type: str
  sample: "smb://fs01.corp.example/diag/ips-diagnostics-20261121T100412Z-4f8a1d2e.zip"
request:
  description: The request body sent (or that would be sent).
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
from ansible_collections.citrix_community.ips.plugins.module_utils._bodies import common, diagnostics


def argument_spec():
    spec = _job_runner.job_argument_spec()
    spec.update(common.platform_argument_spec())
    spec.update(common.smb_argument_spec())
    spec.update(diagnostics.argument_spec())
    spec.update(platform=dict(type="str", required=True, choices=list(common.PLATFORMS)))
    spec.update(_appliance_jobs.task_argument_spec())
    return spec


def main():
    mod = IPSModule(argument_spec(), supports_check_mode=True)
    mod.run(run)


def run(mod):
    if _appliance_requests.check_backend(mod.params) == "appliance":
        # The appliance's diagnostics task; like the cloud's, force collects again.
        mod.exit(**_appliance_jobs.ApplianceRunner(mod, "diagnostics", artifacts=_appliance_requests.diagnostics_artifacts,
                                                   force_resubmits=True).run())
    body = diagnostics.build(mod.params)
    # No overwrite field: force collects again (a new job on every forced run).
    mod.exit(**_job_runner.JobRunner(mod, "diagnostics", body, artifacts=diagnostics.ARTIFACT_KEYS, force_resubmits=True).run())


if __name__ == "__main__":
    main()

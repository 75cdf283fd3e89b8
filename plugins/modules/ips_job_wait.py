# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is implemented as an action plugin (plugins/action/ips_job_wait.py) and runs on the controller.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ips_job_wait
short_description: Follow a job to its end in one task, printing its progress
version_added: 0.1.0
description:
  - Waits for an Image Portability job (for example one an M(citrix_community.ips.ips_prepare) task submitted with
    O(citrix_community.ips.ips_prepare#module:wait=false)) and prints one line each time its progress or stage changes, so a
    long job never looks hung in ansible-playbook or AWX.
  - Returns the job once it completes. Fails with the service's error when the job fails or is cancelled, when the service no
    longer knows it, and with its id, status and progress when O(timeout) runs out. Nothing is ever cancelled - running the
    stage again attaches to the running job.
  - Runs as one loop on the controller however long the job runs and however often its progress moves. It looks at the job
    from the controller itself (as M(citrix_community.ips.ips_job_info) would), with one Citrix Cloud token for the whole wait.
  - The roles C(citrix_community.ips.export), C(prepare) and C(publish) wait with it (through C(citrix_community.ips.job_wait)).
author:
  - citrix_community.ips maintainers (@citrix-community)
extends_documentation_fragment:
  - citrix_community.ips.auth
  - citrix_community.ips.appliance.connection
  - citrix_community.ips.windows_host.appliance_host
options:
  id:
    description: The job id.
    type: str
    required: true
  kind:
    description:
      - What kind of job O(id) names. V(ips) - a job of the Citrix Cloud Image Portability Service.
      - V(appliance) - a task of the App Layering appliance (its WorkTicketId), read through O(appliance) and O(windows_host)
        with one appliance session for the whole wait.
    type: str
    default: ips
    choices: [appliance, ips]
  label:
    description: What the progress lines call the job (for example C(prepare azure win11)). Defaults to the kind and id.
    type: str
  timeout:
    description: Seconds to wait, from 1 to 604800. When they run out the task fails with the job id, status and progress; the job goes on.
    type: int
    default: 7200
  timeout_option:
    description: The name the timeout error gives the timeout, so that a role can name its own variable (for example C(prepare_timeout)).
    type: str
    default: timeout
  poll_delay:
    description: Seconds between two looks at the job (fractions allowed), from 0.01 to 3600.
    type: float
    default: 30
  report_every:
    description:
      - Seconds between two lines for changes of progress alone. V(0) prints every change. A change of status or stage is
        always printed at once.
      - From 0 to 86400.
    type: int
    default: 0
attributes:
  check_mode:
    support: full
    description: Can run in check_mode and return changed status prediction without modifying target.
    details:
      - Looks at the job once and returns it without waiting.
  diff_mode:
    support: none
    description: Nothing to compare.
  action:
    support: full
    description: Implemented by an action plugin that runs on the controller.
"""

EXAMPLES = r"""
- name: Submit the prepare without waiting
  citrix_community.ips.ips_prepare:
    platform: azure
    azure:
      credential_id: azure-sp
      subscription_id: 00000000-1111-2222-3333-444444444444
      location: eastus
      resource_group: rg-images
    target_disk: win11-uploaded
    output_disk_name: win11-prepared
    provisioning_type: mcs
    wait: false
  register: submitted

- name: Follow it, a line per progress change
  citrix_community.ips.ips_job_wait:
    id: "{{ submitted.job.id }}"
    label: prepare win11
    timeout: 14400
"""

RETURN = r"""
job:
  description: The completed job, in the shape M(citrix_community.ips.ips_job_info) returns.
  returned: success
  type: dict
  sample:
    id: 4f8a1d2e-2b8c-4c55-9d3e-0a1b2c3d4e5f
    type: export
    status: complete
    state: complete
    progress: 100
    stage: cleaningUp
    parameters:
      tags:
        ips-ansible-key: b3f0c1d2e4a5968778695a4b3c2d1e0f
    artifacts:
      outputImagePath: smb://fs01.corp.example/exports/win11/win11-2501.vhdx
    error: null
    warnings: []
    created_at: '2026-11-21T09:12:40.000000Z'
    updated_at: '2026-11-21T10:04:12.000000Z'
    idempotency_key: b3f0c1d2e4a5968778695a4b3c2d1e0f
job_id:
  description: The job id.
  returned: failure
  type: str
  sample: "4f8a1d2e-2b8c-4c55-9d3e-0a1b2c3d4e5f"
job_status:
  description: The job's last status.
  returned: failure
  type: str
  sample: "inProgress"
progress:
  description: The job's last progress, in percent.
  returned: failure
  type: float
  sample: 63.5
"""

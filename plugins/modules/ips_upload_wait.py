# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is implemented as an action plugin (plugins/action/ips_upload_wait.py) and runs on the controller.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ips_upload_wait
short_description: Wait for a background ips_upload, printing its progress
version_added: 0.1.0
description:
  - Waits for an M(citrix_community.ips.ips_upload) task started with C(async) and C(poll) set to 0, and prints a line with
    its phase, percent, MiB done, rate and ETA every O(report_every) seconds, so that a long upload never looks hung
    (in AWX too, where a job that prints nothing for long may be cut off).
  - Returns what the upload returned once it finishes, and fails when the upload failed.
  - Fails with a message saying so when the upload's progress file has not changed for O(stale_after) seconds. The
    upload rewrites it every few seconds while it runs, so it was killed or its host restarted. Running the upload
    task again resumes it.
  - Asks the host that runs the upload (C(async_status), C(slurp)), so it works with C(delegate_to) too.
  - Runs as a loop on the controller, however long the upload takes (a task file that includes itself once per round
    stops with a recursion error after about 230 rounds).
author:
  - citrix_community.ips maintainers (@citrix-community)
options:
  jid:
    description: The C(ansible_job_id) the async ips_upload task returned.
    type: str
    required: true
  progress_file:
    description: The O(citrix_community.ips.ips_upload#module:progress_file) the upload writes, on the host that runs it.
    type: str
    required: true
  label:
    description: What the progress lines call the upload (for example C(azure base-2026-01)). Defaults to the job id.
    type: str
  poll_delay:
    description: Seconds between two looks at the job, from 0.01 to 3600.
    type: int
    default: 5
  report_every:
    description: Seconds between two progress lines, from 0 to 86400.
    type: int
    default: 30
  stale_after:
    description: Seconds without a change of the progress file after which the upload counts as dead, from 1 to 86400.
    type: int
    default: 120
  timeout:
    description:
      - Seconds to wait at most, from 1 to 604800. The upload itself goes on in the background; wait again with a new task.
    type: int
    default: 21600
attributes:
  check_mode:
    support: none
    description: It only waits; run the upload itself in check mode to see its plan.
  diff_mode:
    support: none
    description: Nothing to compare.
  action:
    support: full
    description: Implemented by an action plugin that runs on the controller.
notes:
  - The role C(citrix_community.ips.upload) starts the upload and waits with this module.
"""

EXAMPLES = r"""
- name: Start the upload in the background
  citrix_community.ips.ips_upload:
    source: {location: "smb://fs01/vdisks/base.vhdx", username: svc-ips, password: "{{ vault_smb_password }}"}
    target: azure
    azure: {resource_group: rg-images, location: westeurope, disk_name: base-2026-01}
    progress_file: /var/lib/ips/upload-base.json
  async: 21600
  poll: 0
  register: upload_job

- name: Wait for it, a progress line every 30 s
  citrix_community.ips.ips_upload_wait:
    jid: "{{ upload_job.ansible_job_id }}"
    progress_file: /var/lib/ips/upload-base.json
    label: azure base-2026-01
  register: upload
"""

RETURN = r"""
finished:
  description: The upload finished (the task fails otherwise).
  returned: always
  type: bool
  sample: true
ansible_job_id:
  description: The job waited for.
  returned: always
  type: str
  sample: "j482915736182.73456"
disk_id:
  description: Everything M(citrix_community.ips.ips_upload) returns comes back as it returned it, for example C(disk_id).
  returned: when the upload returned it
  type: str
  sample: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-images/providers/Microsoft.Compute/disks/base-2026-01"
"""

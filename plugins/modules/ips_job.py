#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ips_job
short_description: Wait for an existing Citrix Image Portability job, or cancel it
version_added: 0.1.0
description:
  - With O(state=present), wait until a job submitted earlier (for example with C(wait=false)) ends,
    and fail if it failed.
  - With O(state=absent), cancel the job if it is still running.
author:
  - citrix_community.ips maintainers (@citrix-community)
extends_documentation_fragment:
  - citrix_community.ips.auth
  - citrix_community.ips.wait
  - citrix_community.ips.appliance
  - citrix_community.ips.appliance.connection
  - citrix_community.ips.windows_host.appliance_host
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  id:
    description:
      - The job id. With O(backend=appliance), the task id (WorkTicketId, a whole number) that the job modules return as
        C(job.id).
    type: str
    required: true
  state:
    description:
      - V(present) waits for the job (when O(wait=true)) and reports it.
      - V(absent) cancels a running job. Cancelling a job that already ended changes nothing.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: citrix_community.ips.ips_job_info
"""

EXAMPLES = r"""
- name: Wait up to four hours for an export submitted earlier
  citrix_community.ips.ips_job:
    id: "{{ export.job.id }}"
    wait_timeout: 14400
    wait_sleep: 60

- name: Stop an App Layering task
  citrix_community.ips.ips_job:
    backend: appliance
    id: "{{ prepare.task_id }}"
    state: absent
    appliance: {address: elm.corp.example, username: administrator, password: "{{ vault_elm_password }}"}
    windows_host: {host: mgmt01.corp.example, username: CORP\\svc-ips, password: "{{ vault_winhost_password }}"}

- name: Cancel a job that is no longer wanted
  citrix_community.ips.ips_job:
    id: "{{ prepare.job.id }}"
    state: absent
"""

RETURN = r"""
job:
  description:
    - The job after waiting or cancelling, in the shape M(citrix_community.ips.ips_job_info) returns.
    - Empty when the service does not know the job and O(state=absent).
  returned: always
  type: dict
  sample:
    id: 4f8a1d2e-2b8c-4c55-9d3e-0a1b2c3d4e5f
    type: export
    status: complete
    state: complete
    progress: 100
    artifacts: {"outputImagePath": "smb://fs01/exports/win11.vhdx"}
"""

from ansible_collections.citrix_community.ips.plugins.module_utils.ips_module import IPSModule
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError
from ansible_collections.citrix_community.ips.plugins.module_utils import _jobs
from ansible_collections.citrix_community.ips.plugins.module_utils import _job_runner
from ansible_collections.citrix_community.ips.plugins.module_utils import _waiter
from ansible_collections.citrix_community.ips.plugins.module_utils import _appliance_jobs, _appliance_requests


def main():
    spec = dict(id=dict(type="str", required=True), state=dict(type="str", default="present", choices=["present", "absent"]))
    spec.update(_job_runner.wait_argument_spec())
    spec.update(_appliance_jobs.task_argument_spec())
    mod = IPSModule(spec, supports_check_mode=True)
    mod.run(run)


def run(mod):
    p = mod.params
    _job_runner.check_wait_options(mod)
    if _appliance_requests.check_backend(p) == "appliance":
        # Stop-AlTask / Get-AlTask with the shared waiter, in place of the service's job routes.
        mod.exit(**_appliance_jobs.run_task(mod, p["id"], p["state"]))

    # Find what exists.
    job = _jobs.get(mod.client, p["id"])

    if p["state"] == "absent":
        # Decide; check mode predicts; cancel.
        running = job is not None and job["state"] == _jobs.RUNNING
        if running and not mod.check_mode:
            job = _jobs.cancel(mod.client, p["id"])
        mod.exit(changed=running, job=job or {})

    if job is None:
        raise IPSError("Job %s is unknown to the service: check the id, and note that finished jobs are kept only 24 hours." % p["id"])
    job = _jobs.wait(mod.client, job, _waiter.for_options(p["wait"], p["wait_timeout"], p["wait_sleep"], mod.check_mode))
    if job["state"] in (_jobs.FAILED, _jobs.CANCELLED):
        raise _jobs.JobFailed(job)
    mod.exit(job=job)


if __name__ == "__main__":
    main()

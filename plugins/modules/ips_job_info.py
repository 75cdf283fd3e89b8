#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ips_job_info
short_description: Get Citrix Image Portability jobs
version_added: 0.1.0
description:
  - Return one IPS job by id, or the jobs the service still knows, filtered by type, state and tags.
  - The service keeps finished jobs for 24 hours.
  - Every job has the same shape as the C(job) returned by the job modules (ips_export, ips_prepare, ...),
    so a role can submit with C(wait=false) and poll with this module.
author:
  - citrix_community.ips maintainers (@citrix-community)
extends_documentation_fragment:
  - citrix_community.ips.auth
attributes:
  check_mode:
    support: full
    details:
      - The module only reads, so it runs the same in check mode.
  diff_mode:
    support: none
options:
  id:
    description:
      - The job id. An unknown (or expired) id returns an empty list.
      - The other filters still apply.
    type: str
  type:
    description:
      - Only jobs of this type.
    type: str
    choices: [export, prepare, prepare_and_publish, convert_to_uefi, upgrade_pvs, reverse_image, diagnostics]
  state:
    description:
      - Only jobs in these states. V(running) is the service's C(inProgress).
    type: list
    elements: str
    choices: [running, complete, failed, cancelled]
  tags:
    description:
      - Only jobs whose request tags hold all these key/value pairs.
    type: dict
  limit:
    description:
      - Return at most this many jobs, newest first. Pages of the service's list are fetched until it is reached.
      - From 1 to 10000.
    type: int
seealso:
  - module: citrix_community.ips.ips_credential_info
"""

EXAMPLES = r"""
- name: Show one job
  citrix_community.ips.ips_job_info:
    id: "{{ export.job.id }}"
  register: job

- name: Poll a job submitted with wait=false until it ends, showing progress
  citrix_community.ips.ips_job_info:
    id: "{{ export.job.id }}"
  register: poll
  until: poll.jobs | length == 0 or poll.jobs[0].state != 'running'
  retries: 240
  delay: 30

- name: List the exports still running
  citrix_community.ips.ips_job_info:
    type: export
    state: [running]

- name: Find the jobs of one change window by tag
  citrix_community.ips.ips_job_info:
    tags:
      change: CHG0042
    limit: 10
"""

RETURN = r"""
jobs:
  description: The matching jobs, newest first.
  returned: always
  type: list
  sample:
    - id: 4f8a1d2e-2b8c-4c55-9d3e-0a1b2c3d4e5f
      type: export
      status: inProgress
      state: running
      progress: 42
      stage: exporting
      parameters:
        tags:
          ips-ansible-key: b3f0c1d2e4a5968778695a4b3c2d1e0f
      artifacts: {}
      error: null
      warnings: []
      created_at: '2026-11-21T09:12:40.000000Z'
      updated_at: '2026-11-21T09:40:02.000000Z'
      idempotency_key: b3f0c1d2e4a5968778695a4b3c2d1e0f
  elements: dict
  contains:
    id:
      description: The job id.
      type: str
      sample: 4f8a1d2e-2b8c-4c55-9d3e-0a1b2c3d4e5f
    type:
      description: The job type, in the collection's naming (V(export), V(prepare), ...).
      type: str
      sample: export
    kind:
      description:
        - What the job was submitted for. The same as RV(jobs[].type), except for the export job that
          M(citrix_community.ips.ips_publish) submits (the service runs a publish as an export), which is V(publish).
      type: str
      sample: publish
    status:
      description: The status string exactly as the service reports it.
      type: str
      sample: inProgress
    state:
      description: The status normalised to V(running), V(complete), V(failed) or V(cancelled).
      type: str
      sample: running
    progress:
      description: Overall progress in percent.
      type: int
      sample: 42
    stage:
      description: The step the job is in, as the service names it.
      type: str
      sample: exporting
    parameters:
      description: The job's request as the service echoes it.
      type: dict
      sample: {"tags": {"ips-ansible-key": "b3f0c1d2e4a5968778695a4b3c2d1e0f"}}
    artifacts:
      description: What the job produced (disk id, snapshot id, image name, VHDX path, hash), by name.
      type: dict
      sample: {"outputImagePath": "smb://fs01/exports/win11.vhdx"}
    error:
      description: The service's error for a failed job, else null.
      type: dict
      sample: {"code": "OutputExists", "message": "The output file exists; set overwriteTargetFile."}
    warnings:
      description: Warnings the service reported.
      type: list
      sample: []
      elements: raw
    created_at:
      description: When the job was submitted.
      type: str
      sample: "2026-11-21T09:12:40.000000Z"
    updated_at:
      description: When the job last changed.
      type: str
      sample: "2026-11-21T10:04:12.000000Z"
    idempotency_key:
      description: The key the collection's job modules put in the job tags to find it again on re-runs.
      type: str
      sample: "b3f0c1d2e4a5968778695a4b3c2d1e0f"
"""

from ansible_collections.citrix_community.ips.plugins.module_utils.ips_module import IPSModule
from ansible_collections.citrix_community.ips.plugins.module_utils import _jobs


def main():
    mod = IPSModule(
        dict(
            id=dict(type="str"),
            type=dict(type="str", choices=["export", "prepare", "prepare_and_publish", "convert_to_uefi", "upgrade_pvs", "reverse_image", "diagnostics"]),
            state=dict(type="list", elements="str", choices=list(_jobs.STATES)),
            tags=dict(type="dict"),
            limit=dict(type="int"),
        ),
        supports_check_mode=True,
    )
    mod.run(run)


def run(mod):
    p = mod.params
    if p["limit"] is not None and p["limit"] < 1:
        mod.fail("limit must be 1 or more, got %s; leave it out to list every job." % p["limit"])
    filters = dict(job_type=p["type"], states=p["state"], tags=p["tags"])
    if p["id"]:
        job = _jobs.get(mod.client, p["id"])
        jobs = [job] if job and _jobs.matches(job, **filters) else []
    else:
        jobs = _jobs.find(mod.client, limit=p["limit"], **filters)
    mod.exit(jobs=jobs)


if __name__ == "__main__":
    main()

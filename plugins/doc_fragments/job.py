# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Options of every module that submits an IPS job (export, prepare, publish, ...).
    DOCUMENTATION = r"""
options:
  resource_location_id:
    description:
      - The Citrix Cloud resource location whose Connector Appliance runs the job.
      - If not set, the value of the E(CITRIX_CLOUD_RESOURCE_LOCATION_ID) environment variable is used.
    type: str
  prefix:
    description:
      - Name prefix of the temporary compositing-engine VM and the resources the job creates.
    type: str
    default: ips
  tags:
    description:
      - Tags put on the cloud resources the job creates, and on the job itself.
      - The module adds one more, C(ips-ansible-key), holding the request's idempotency key.
    type: dict
    default: {}
  force:
    description:
      - Replace the job's output if it already exists. The service refuses to overwrite an existing output file or disk
        otherwise, and the job fails saying it exists.
      - For jobs with an overwrite field (export, prepare, publish, convert_to_uefi, upgrade_pvs), O(force=true) sets it
        (C(overwriteTargetFile) or C(overwriteOutput)). That makes it a different request from the unforced one, with its
        own idempotency key, and it is idempotent like any request. The first forced run submits a job that replaces
        the output. A re-run while that job runs attaches to it. A re-run within 24 hours of its end finds it and
        reports C(changed=false). After the service has forgotten it, a re-run submits again and replaces the output
        again. O(force=true) also skips the check for an existing output with C(smb.username).
      - For jobs without an overwrite field (diagnostics, reverse_image), every run with O(force=true) submits a new
        job, except while one with the same request is still running, which the run attaches to.
    type: bool
    default: false
  extra_body:
    description:
      - Fields added to the job request as they are, for service options this module does not know yet.
      - They override the fields the module builds.
    type: dict
    default: {}
  job_timeout:
    description:
      - The job's own time limit on the service, in seconds (the service's default is 7200).
      - Not to be confused with O(wait_timeout), which only bounds how long the task waits.
      - From 1 to 604800 (a week).
    type: int
  pending_credentials:
    description:
      - Check mode only (ignored otherwise). Wallet credentials that an earlier task of the same run would create,
        as the C(credentials) role predicts them in C(credentials_pending).
      - The service's C(dryRun) refuses a request that names a credential the wallet does not hold yet. A request
        naming one of these is therefore not sent for validation; RV(validation) says which credentials it waits for.
    type: list
    elements: str
    default: []
notes:
  - Every job request carries a deterministic idempotency key in its tags. A re-run finds the job
    with the same key; a running job is attached to and waited for, a completed one means nothing to do,
    a failed or cancelled one is submitted again.
  - The service forgets a job 24 hours after it ends. After that, an export, publish or PVS output file
    is found only if C(smb.username) is given (see there). Otherwise the re-run submits again and the
    service refuses to overwrite the existing output unless O(force=true). Prepare outputs (cloud disks)
    are checked by the service in the same way.
  - In check mode the request is validated by the service (C(dryRun=true)) and no job is created.
  - The service keeps finished jobs for 24 hours.
"""

# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Options of every module that waits for an IPS job.
    DOCUMENTATION = r"""
options:
  wait:
    description:
      - Wait until the job ends. With V(false) the task returns as soon as the job is submitted
        (or found running); poll it with M(citrix_community.ips.ips_job_info).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the job. When they run out the task fails with the job id, status and
        progress; the job is never cancelled, and running the task again resumes waiting.
      - From 1 to 604800 (a week).
    type: int
    default: 7200
  wait_sleep:
    description:
      - Seconds between two looks at the job while waiting. From 1 to 3600.
    type: int
    default: 30
"""

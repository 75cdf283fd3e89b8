# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the controller-side wait tasks share: follow something to its end in ONE task.

`FollowAction` is the base of the action plugins that wait on the controller (ips_job_wait for a
job, ips_upload_wait for a background upload). Each says how to look (usually a module run on the
task's host with `_execute_module`), when it is over and what a progress line says; the loop is the
collection's one waiter (module_utils/_waiter.py), so a wait of any length is one task: no task
file that includes itself (ansible-core stops after ~230 nested includes), and no `until:`
retries printing "FAILED - RETRYING" while nothing has failed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.citrix_community.ips.plugins.module_utils._option_ranges import INSECURE_WARNING, insecure_options, range_problems
from ansible_collections.citrix_community.ips.plugins.module_utils._waiter import NoWait, Waiter, WaitTimeout

display = Display()


class StopFollowing(Exception):
    """What was followed ended badly, or cannot be followed: the task fails with this message."""


class ProgressLines(object):
    """Prints one line per change: always when the status or stage moves, and for a progress-only
    change no more often than every `every` seconds (0: every change)."""

    def __init__(self, line, every=0, clock=time.monotonic, show=None):
        self.line = line
        self.every = every
        self.clock = clock
        self.show = show or display.display
        self._last_at = None
        self._last_key = None
        self.printed = 0

    def __call__(self, status, observation):
        now = self.clock()
        key = (status.status, status.stage)
        if key != self._last_key or self._last_at is None or now - self._last_at >= self.every:
            self.show(self.line(status, observation))
            self.printed += 1
            self._last_at, self._last_key = now, key


class FollowAction(ActionBase):
    """An action plugin that waits on the controller; subclasses implement `follow(args, task_vars)`."""

    TRANSFERS_FILES = False
    ARGUMENT_SPEC = {}

    def run(self, tmp=None, task_vars=None):
        result = super(FollowAction, self).run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
        insecure = [INSECURE_WARNING % option for option in insecure_options(args)]
        if insecure:
            result["warnings"] = result.get("warnings", []) + insecure
        problems = range_problems(args)
        if problems:
            return dict(result, failed=True, msg="; ".join(problems))
        try:
            result.update(self.follow(args, task_vars))
        except (StopFollowing, WaitTimeout) as err:
            result.update(failed=True, msg=str(err))
            for key in ("job_id", "job_status", "progress"):
                if getattr(err, key, None) is not None:
                    result[key] = getattr(err, key)
        return result

    def wait(self, what, look, done, status, args, line, option="timeout", resume=None):
        """The shared waiter with the task's timeout and poll_delay, printing progress lines."""
        lines = ProgressLines(line, args.get("report_every") or 0)
        look = self._while_the_playbook_runs(look)
        if self._task.check_mode:  # check mode looks once and reports what it sees; it never waits
            waiter = NoWait(on_change=lines)
        else:
            waiter = Waiter(args["timeout"], args["poll_delay"], option=option, on_change=lines, resume=resume)
        return waiter.until(what, look, done, status)

    @staticmethod
    def _while_the_playbook_runs(look):
        """`look`, refused once the playbook process is gone. ansible-core runs a task in a worker of its own
        session (setsid), so a SIGKILLed ansible-playbook leaves the worker running: without this it would go
        on looking at the job until its timeout, hours later. The worker's parent is the playbook; orphaned,
        it is re-parented, and the wait ends."""
        parent = os.getppid()

        def guarded():
            if os.getppid() != parent:
                raise StopFollowing("the playbook that ran this wait is gone (killed); the job goes on, and a re-run attaches to it")
            return look()

        return guarded

    def run_module(self, name, module_args, task_vars):
        """Run a module on the task's host (its connection, delegate_to and become); its result without `invocation`."""
        got = self._execute_module(module_name=name, module_args=module_args, task_vars=task_vars)
        got.pop("invocation", None)
        return got

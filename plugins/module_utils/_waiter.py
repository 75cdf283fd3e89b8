# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way to wait: look, stop when done, sleep, until a deadline on a monotonic clock.

Every wait of the collection runs through `Waiter.until`: IPS jobs, the EBS snapshot and volume,
the EC2 import task and AMI, GCP operations, Azure long-running operations, and on the controller
the action plugins that follow a background upload or a job. What differs between them is only
how to look (`look`), when it is over (`done`) and what to report (`status` -> a `Status`).

A wait that runs out raises `WaitTimeout`, which carries the id, status and progress and says
what is true of every wait here: nothing was cancelled, and a re-run attaches to what is running.
Clock and sleep are injected, so tests run any wait without waiting.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
from collections import namedtuple

from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError

# What a waited-for thing reports: its id, its status string, its progress (percent or None), and
# the stage or phase it is in (or None). A change of any of them is a progress change.
Status = namedtuple("Status", ["id", "status", "progress", "stage"])


def _percent(progress):
    if progress is None:
        return ""
    if isinstance(progress, float) and not progress.is_integer():
        return " at %.1f%%" % progress
    return " at %d%%" % progress


def pause(seconds):
    """The collection's one sleep outside the retry loop: the waiter's between looks, and the upload's pacing
    (`_upload.pipeline.RateLimit`), so a test can take both over the same way."""
    time.sleep(seconds)


class WaitTimeout(IPSError):
    """The thing waited for is still going when the wait runs out. Never cancelled: a re-run attaches."""

    def __init__(self, what, status, waited, option="wait_timeout", resume=None, last=None):
        self.what = what
        self.last = last
        self.status = status
        self.job_id = status.id
        self.job_status = status.status
        self.progress = status.progress
        self.stage = status.stage
        self.waited = waited
        self.option = option
        stage = " (stage %s)" % status.stage if status.stage else ""
        resume = resume or "run the task again to attach to it and resume waiting"
        super(WaitTimeout, self).__init__(
            "%s %s is still %s%s%s after waiting %d s (%s). It was not cancelled and keeps running; %s, or raise %s."
            % (what, status.id, status.status, _percent(status.progress), stage, waited, option, resume, option))


class Waiter(object):
    """Wait for something by looking at it every `interval` seconds until `timeout` seconds pass.

    `on_change(status, observation)` is called with the first look and again each time the
    `Status` changes (a progress line per change). `option` is the option a user raises to wait
    longer; it is named in the timeout error. One waiter is one budget: a second `until` (the
    AMI after its import) gets what the first left of `timeout`.
    """

    waits = True

    def __init__(self, timeout, interval, option="wait_timeout", on_change=None, clock=time.monotonic, sleep=pause, resume=None):
        self.timeout = max(0.0, float(timeout))
        self.interval = max(0.0, float(interval))
        self.option = option
        self.on_change = on_change
        self.clock = clock
        self.sleep = sleep
        self.resume = resume
        self._started = self._deadline = None

    def until(self, what, look, done, status, first=None):
        """Look until `done(observation)`; returns that observation or raises WaitTimeout.

        `first` is an observation already in hand (the job as submitted): it is judged before any
        look. Each sleep is cut short so the deadline is kept; the last look happens at the deadline.
        Errors raised by `look` (a failed job, a vanished resource) end the wait as they are.
        """
        if self._deadline is None:  # the budget starts with the first wait and is shared by the next ones
            self._started = self.clock()
            self._deadline = self._started + self.timeout
        started, deadline = self._started, self._deadline
        observation = first if first is not None else look()
        seen = self._seen(None, observation, status)
        while not done(observation):
            remaining = deadline - self.clock()
            if remaining <= 0:
                raise WaitTimeout(what, status(observation), self.clock() - started, self.option, self.resume, observation)
            self.sleep(min(self.interval, remaining))
            observation = look()
            seen = self._seen(seen, observation, status)
        return observation

    def _seen(self, last, observation, status):
        if observation is None:
            return last
        now = status(observation)
        if now != last and self.on_change is not None:
            self.on_change(now, observation)
        return now


class NoWait(Waiter):
    """The waiter of check mode and `wait: false`: it looks once (or takes what is in hand) and returns."""

    waits = False

    def __init__(self, on_change=None):
        super(NoWait, self).__init__(0, 0, on_change=on_change)

    def until(self, what, look, done, status, first=None):
        observation = first if first is not None else look()
        self._seen(None, observation, status)
        return observation


def for_options(wait, timeout, interval, check_mode=False, **kwargs):
    """The waiter a module's `wait`/`wait_timeout`/`wait_sleep` ask for; check mode never waits."""
    if check_mode or not wait:
        return NoWait(on_change=kwargs.get("on_change"))
    return Waiter(timeout, interval, **kwargs)

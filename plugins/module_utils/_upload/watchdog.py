# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The upload's own watchdog: a background upload nobody waits for, or one that stopped moving, ends itself.

A background upload (async, poll 0) outlives a killed playbook on purpose, so that a re-run attaches to
it. It must not outlive it forever: ips_upload_wait touches `<progress_file>.watched` each time it reads
the progress, and once that file is older than UNWATCHED seconds nobody is waiting any more. An upload
whose payload has not moved for STALLED seconds (a read or request blocked past every deadline) ends too.
Either way the progress file says why (phase "abandoned"), the journal keeps what was sent, and the
process exits at once (its threads may be blocked, so no orderly shutdown is attempted); the kernel
drops its lock, so the next run sees it gone and resumes from the journal.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import threading
import time

UNWATCHED = 900  # seconds without a waiter; ips_upload_wait reads at least every stale_after / 3 (at most 40 s by default)
STALLED = 1800  # seconds without a payload byte done, while sending
EXIT_CODE = 75  # EX_TEMPFAIL: run again


def watched_path(progress_file):
    return progress_file + ".watched"


class Watchdog(object):
    def __init__(self, progress, unwatched=UNWATCHED, stalled=STALLED, every=5.0, clock=time.time, exit=os._exit):
        self.progress = progress
        self.unwatched = unwatched
        self.stalled = stalled
        self.every = every
        self._clock = clock
        self._exit = exit
        self._stop = threading.Event()
        self._moved = (progress.done, clock())

    def start(self):
        try:  # a mark an earlier upload's waiter left: this upload's waiters make their own
            os.unlink(watched_path(self.progress.path))
        except OSError:
            pass
        thread = threading.Thread(target=self._run, name="ips-watchdog")
        thread.daemon = True
        thread.start()
        return self

    def stop(self):
        self._stop.set()

    def reason(self):
        """Why the upload should end now, or None."""
        now = self._clock()
        try:
            seen = os.stat(watched_path(self.progress.path)).st_mtime
        except OSError:
            seen = None  # never waited for (a task without async): the playbook itself waits
        if seen is not None and now - seen > self.unwatched:
            return "nobody has waited for this background upload for %d s (the playbook that started it is gone)" % (now - seen)
        done, since = self._moved
        if self.progress.done != done or self.progress.phase != "upload":
            self._moved = (self.progress.done, now)
        elif now - since > self.stalled:
            return "the upload has not moved for %d s (a read or a request is stuck)" % (now - since)
        return None

    def _run(self):
        while not self._stop.wait(self.every):
            why = self.reason()
            if why:
                self.progress.abandon(why + "; run the task again: it resumes from its journal")
                self._exit(EXIT_CODE)

# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Progress of a long upload, written to a JSON file (atomically, at most once a second) that a
role or an AWX job can show while the task runs under async/poll:

    {"phase": "upload", "percent": 41.7, "bytes_done": ..., "bytes_total": ..., "bytes_sent": ...,
     "rate_mib_s": 55.2, "eta_seconds": 73, "updated": 1767225600.0, "target": "aws"}

A heartbeat rewrites it every HEARTBEAT seconds while nothing else does (control-plane waits,
back-off, the snapshot's completion), so a file that stops changing means the upload stopped:
ips_upload_wait gives up on a background upload whose file has not changed for `stale_after`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import json
import os
import threading
import time

from ansible_collections.citrix_community.ips.plugins.module_utils._upload.journal import atomic_write, make_folder

HEARTBEAT = 5.0  # seconds
RATE_WINDOW = 30.0  # seconds: the rate shown is measured over the last this many seconds


class Progress(object):
    def __init__(self, path=None, total=0, target=None, interval=1.0, heartbeat=HEARTBEAT, rate_limit=None, clock=time.monotonic):
        self.path = os.path.expanduser(path) if path else None
        self.rate_limit = rate_limit  # bytes/s, shown beside the measured rate when set
        self._clock = clock
        self._samples = collections.deque()  # (time, bytes done) over the rate window
        self.total = total
        self.target = target
        self.interval = interval
        self.done = 0
        self.sent = 0
        self.read = 0
        self.phase = "plan"
        self.reason = None
        self.started = clock()
        self._last = 0.0
        self._lock = threading.Lock()
        self._closed = threading.Event()
        if self.path:
            folder = os.path.dirname(self.path)
            if folder:
                make_folder(folder, "progress_file's folder")
        self.write(force=True)
        if self.path and heartbeat:
            beat = threading.Thread(target=self._beat, args=(heartbeat,), name="ips-progress")
            beat.daemon = True
            beat.start()

    def _beat(self, every):
        while not self._closed.wait(every):
            self.write(force=True)

    def abandon(self, why):
        """The upload ends itself (see watchdog.py): the file says so, and the heartbeat stops rewriting it."""
        self.phase = "abandoned"
        self.reason = why
        self.write(force=True)
        self._closed.set()

    def close(self):
        """Stop the heartbeat (the file stays, with its last state)."""
        self._closed.set()

    def resume(self, done):
        """Bytes a resumed upload had already sent (from its journal): counted as done, not in the rate."""
        with self._lock:
            self.done += done
            self._samples.clear()
        self.write(force=True)

    def add(self, done=0, sent=0, read=0):
        with self._lock:
            self.done += done
            self.sent += sent
            self.read += read
        self.write()

    def set_phase(self, phase):
        self.phase = phase
        self.write(force=True)

    def _rate(self, now):
        """Bytes per second over the last RATE_WINDOW seconds (since the start or a resume when that is shorter)."""
        samples = self._samples
        if not samples or samples[-1][1] != self.done or samples[-1][0] < now - 1.0:
            samples.append((now, self.done))
        while len(samples) > 2 and samples[1][0] <= now - RATE_WINDOW:
            samples.popleft()
        (t0, d0), (t1, d1) = samples[0], samples[-1]
        if len(samples) < 2 or t1 <= t0:
            return 0.0
        return (d1 - d0) / (now - t0)

    def snapshot(self):
        now = self._clock()
        elapsed = max(now - self.started, 1e-6)
        rate = self._rate(now)
        left = max(self.total - self.done, 0)
        out = {
            "phase": self.phase,
            "target": self.target,
            "percent": round(100.0 * self.done / self.total, 1) if self.total else (100.0 if self.phase == "done" else 0.0),
            "bytes_done": self.done,
            "bytes_total": self.total,
            "bytes_read": self.read,
            "bytes_sent": self.sent,
            "rate_mib_s": round(rate / 1048576.0, 2),
            "eta_seconds": int(left / rate) if rate > 0 and left else 0,
            "elapsed_seconds": round(elapsed, 1),
            "updated": time.time(),
        }
        if self.reason:
            out["reason"] = self.reason
        if self.rate_limit:
            out["rate_limit_mib_s"] = round(self.rate_limit / 1048576.0, 2)
        return out

    def write(self, force=False):
        if not self.path:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        with self._lock:
            self._last = now
            try:
                atomic_write(self.path, json.dumps(self.snapshot(), sort_keys=True) + "\n")
            except OSError:
                pass  # progress is a courtesy: never fail an upload for it

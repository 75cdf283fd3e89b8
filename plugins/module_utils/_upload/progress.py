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

import json
import os
import threading
import time

from ansible_collections.citrix_community.ips.plugins.module_utils._upload.journal import atomic_write

HEARTBEAT = 5.0  # seconds


class Progress(object):
    def __init__(self, path=None, total=0, target=None, interval=1.0, heartbeat=HEARTBEAT):
        self.path = os.path.expanduser(path) if path else None
        self.total = total
        self.target = target
        self.interval = interval
        self.done = 0
        self.sent = 0
        self.read = 0
        self.phase = "plan"
        self.started = time.monotonic()
        self._last = 0.0
        self._lock = threading.Lock()
        self._closed = threading.Event()
        if self.path:
            folder = os.path.dirname(self.path)
            if folder and not os.path.isdir(folder):
                os.makedirs(folder)
        self.write(force=True)
        if self.path and heartbeat:
            beat = threading.Thread(target=self._beat, args=(heartbeat,), name="ips-progress")
            beat.daemon = True
            beat.start()

    def _beat(self, every):
        while not self._closed.wait(every):
            self.write(force=True)

    def close(self):
        """Stop the heartbeat (the file stays, with its last state)."""
        self._closed.set()

    def add(self, done=0, sent=0, read=0):
        with self._lock:
            self.done += done
            self.sent += sent
            self.read += read
        self.write()

    def set_phase(self, phase):
        self.phase = phase
        self.write(force=True)

    def snapshot(self):
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.done / elapsed
        left = max(self.total - self.done, 0)
        return {
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

"""The background worker: moves running jobs along the lab clock and runs their real work.

Each tick persists the transitions the clock implies (so jobs complete even when nobody polls),
purges jobs past retention, and starts the work of any job that reached its work stage, each in
its own thread so a slow SMB write never stalls other jobs.
"""

import logging
import os
import sqlite3
import threading

from ..work.export import WorkFailed, run_export
from ..work.prepare import run_prepare

LOG = logging.getLogger(__name__)
TICK_SECONDS = 0.05


class Worker(object):
    def __init__(self, jobs, wallet, smb, scratch_dir, clouds=None):
        self._jobs = jobs
        self._clouds = dict(clouds or {})
        self._wallet = wallet
        self._smb = smb
        self._scratch = scratch_dir
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ips-lab-worker", daemon=True)
        self._work_threads = []
        self._work = {"export": self._export, "prepare": self._prepare, "prepareAndPublish": self._prepare_and_publish}

    def start(self):
        self._jobs.requeue_interrupted_work()
        self._thread.start()

    def stop(self, timeout=30):
        self._stop.set()
        self._thread.join(timeout)
        for thread in list(self._work_threads):
            thread.join(timeout)

    def _loop(self):
        while not self._stop.wait(TICK_SECONDS):
            try:
                self.tick()
            except Exception:  # a worker that dies would freeze every job; log and go on
                LOG.exception("worker tick failed")

    def tick(self):
        self._jobs.purge_expired()
        self._work_threads = [t for t in self._work_threads if t.is_alive()]
        for row in self._jobs.running_rows():
            row = self._jobs.claim_work(row) if not self._stop.is_set() else None
            if row is not None:
                thread = threading.Thread(target=self._run, args=(row,), name="ips-lab-work-%s" % row["id"][:8], daemon=True)
                self._work_threads.append(thread)
                thread.start()

    def _run(self, row):
        try:
            outcome = {"artifacts": self._work[row["type"]](row["parameters"])}
        except WorkFailed as exc:
            outcome = {"error": {"code": exc.code, "message": exc.message}}
        except Exception as exc:  # a bug in the lab still ends the job clearly
            LOG.exception("work of job %s failed", row["id"])
            outcome = {"error": {"code": "InternalError", "message": "The lab failed: %s" % exc}}
        try:
            self._jobs.record_work(row["id"], **outcome)
        except sqlite3.ProgrammingError:  # the lab stopped meanwhile; the restarted lab redoes the work
            LOG.warning("job %s finished its work after the lab stopped", row["id"])

    def _export(self, parameters):
        return run_export(parameters, self._wallet.secrets_of, self._smb, os.path.join(self._scratch, "export"))

    def _prepare(self, parameters):
        return run_prepare(parameters, self._wallet.secrets_of, self._clouds)

    def _prepare_and_publish(self, parameters):
        artifacts = self._prepare(parameters)
        artifacts.update(self._export(parameters))
        return artifacts

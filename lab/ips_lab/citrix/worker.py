"""The background worker: moves running jobs along the lab clock and runs their real work.

Each tick persists the transitions the clock implies (so jobs complete even when nobody polls),
purges jobs past retention, and starts the work of any job that reached its work stage, each in
its own thread so a slow SMB write never stalls other jobs.
"""

import logging
import os
import sqlite3
import threading

from ..common import rules
from ..common.ticks import Ticks
from ..jobwork.errors import WorkFailed
from ..jobwork.export import run_export
from ..jobwork.prepare import run_prepare
from ..jobwork.pvs import run_diagnostics, run_pvs
from ..jobwork.smb import SmbShare

LOG = logging.getLogger(__name__)


class Worker(object):
    def __init__(self, jobs, wallet, smb, scratch_dir, clouds=None):
        self._jobs = jobs
        self._clouds = dict(clouds or {})
        self._wallet = wallet
        self._smb = smb
        self._scratch = scratch_dir
        self._ticks = Ticks(self.tick, "ips-lab-worker")
        jobs.on_submit = self._ticks.poke  # a new job's stages start at once, even after an idle spell
        self._work_threads = []
        self._work = {"export": self._export, "prepare": self._prepare, "prepareAndPublish": self._prepare_and_publish,
                      "convertToUefi": self._pvs, "upgradePvs": self._pvs, "reverseImage": self._pvs, "diagnostics": self._diagnostics}

    def start(self):
        self._jobs.requeue_interrupted_work()
        self._ticks.start()

    def stop(self, timeout=30):
        self._ticks.stop(timeout)
        for thread in list(self._work_threads):
            thread.join(timeout)

    def tick(self):
        """One round: purge, start the work of jobs that reached their work stage; whether jobs still run."""
        self._jobs.purge_expired()
        self._work_threads = [t for t in self._work_threads if t.is_alive()]
        running = self._jobs.running_rows()
        for row in running:
            row = self._jobs.claim_work(row) if not self._ticks.stopping.is_set() else None
            if row is not None:
                thread = threading.Thread(target=self._run, args=(row,), name="ips-lab-work-%s" % row["id"][:8], daemon=True)
                self._work_threads.append(thread)
                thread.start()
        return bool(running or self._work_threads)

    def _run(self, row):
        try:
            outcome = {"artifacts": self._work[row["type"]](row)}
        except WorkFailed as exc:
            outcome = {"error": {"code": exc.code, "message": exc.message}}
        except Exception as exc:  # a bug in the lab still ends the job clearly
            LOG.exception("work of job %s failed", row["id"])
            outcome = {"error": {"code": "InternalError", "message": "The lab failed: %s" % exc}}
        try:
            self._jobs.record_work(row["id"], **outcome)
        except sqlite3.ProgrammingError:  # the lab stopped meanwhile; the restarted lab redoes the work
            LOG.warning("job %s finished its work after the lab stopped", row["id"])

    def _scratch_dir(self, kind):
        return os.path.join(self._scratch, kind)

    def _export(self, row):
        return run_export(row["parameters"], self._wallet.secrets_of, self._smb, self._scratch_dir("export"))

    def _prepare(self, row):
        return run_prepare(row["parameters"], self._wallet.secrets_of, self._clouds)

    def _prepare_and_publish(self, row):
        parameters = row["parameters"]
        # An existing vDisk stops the job before the prepare work, as it would stop the export.
        disk_format = parameters.get("outputImageFormat") or rules.DEFAULT_DISK_FORMAT
        with SmbShare(parameters["outputStorageLocation"], self._wallet.secrets_of, self._smb) as share:
            share.refuse_existing("%s.%s" % (parameters["outputImageFilename"], rules.DISK_EXTENSIONS[disk_format]),
                                  parameters.get("overwriteTargetFile"), "overwriteTargetFile")
        artifacts = self._prepare(row)
        artifacts.update(self._export(row))
        return artifacts

    def _pvs(self, row):
        return run_pvs(row["type"], row["parameters"], self._wallet.secrets_of, self._smb, self._scratch_dir("pvs"))

    def _diagnostics(self, row):
        return run_diagnostics(row["id"], row["parameters"], self._wallet.secrets_of, self._smb, self._scratch_dir("diagnostics"))

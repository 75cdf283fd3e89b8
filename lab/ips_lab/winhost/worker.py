"""The real work of the appliance's tasks, on the lab's other stand-ins, started when a task reaches its work
stage (one thread per task, as the Citrix Cloud stand-in's worker does):

  IpsExport       the seeded source disk (jobwork/source_disk.py; a vSphere disk is seeded by its datastore
                  path, `folder/disk.vmdk`, so it equals the Citrix stand-in's export of that disk) converted to
                  the share connector's disk format and written over SMB into its share (jobwork/export.py).
  IpsPrepare      the uploaded managed disk must exist in the Azure plane (Unattached, from an upload); the
                  output disk is made there from it (jobwork/prepare.py, as the Citrix stand-in's prepare).
  IpsPublish      the prepared managed disk must exist in the Azure plane; a VHD(X) of it (seeded by its id:
                  the plane's bytes are not read) is written into the PVS store share of the file share connector.
  IpsDiagnostics  a zip bundle (appliance log, the tasks' states) written into the file share connector's share.
"""

import json
import logging
import os
import shutil
import tempfile
import threading
import time
import urllib.parse
import zipfile

from ..common.ticks import Ticks
from ..jobwork.errors import WorkFailed
from ..jobwork.export import run_export
from ..jobwork.prepare import _Arm, check_azure
from ..jobwork.smb import SmbShare

LOG = logging.getLogger(__name__)
DISK_FORMATS = {"VHDX": "VhdxDiskFormat", "VHD": "VhdDiskFormat"}


class TaskWorker(object):
    def __init__(self, tasks, config, scratch_dir, task_rows):
        self._tasks = tasks
        self._config = config
        self._scratch = scratch_dir
        self._task_rows = task_rows  # () -> every task row, for diagnostics
        self._ticks = Ticks(self.tick, "winhost-worker")
        tasks.on_create = self._ticks.poke  # a new task's stages start at once, even after an idle spell
        self._threads = []
        self._work = {"IpsExport": self._export, "IpsPrepare": self._prepare, "IpsPublish": self._publish, "IpsDiagnostics": self._diagnostics}

    def start(self):
        self._tasks.requeue_interrupted_work()
        self._ticks.start()

    def stop(self, timeout=30):
        self._ticks.stop(timeout)
        for thread in list(self._threads):
            thread.join(timeout)

    def tick(self):
        """One round: start the work of tasks that reached their work stage; whether tasks still run."""
        self._threads = [t for t in self._threads if t.is_alive()]
        running = self._tasks.running()
        for row in running:
            row = self._tasks.claim_work(row) if not self._ticks.stopping.is_set() else None
            if row is not None:
                thread = threading.Thread(target=self._run, args=(row,), name="winhost-task-%s" % row["id"], daemon=True)
                self._threads.append(thread)
                thread.start()
        return bool(running or self._threads)

    def _run(self, row):
        try:
            outcome = {"result": self._work[row["type"]](row["id"], row["parameters"])}
        except WorkFailed as exc:
            outcome = {"error": exc.message}
        except Exception as exc:  # a lab bug still ends the task clearly
            LOG.exception("work of task %s failed", row["id"])
            outcome = {"error": "The lab failed: %s" % exc}
        try:
            self._tasks.record_work(row["id"], **outcome)
        except Exception:  # the lab stopped meanwhile; the restarted lab redoes the work
            LOG.warning("task %s finished its work after the lab stopped", row["id"])

    # --- helpers ---------------------------------------------------------------------------------

    def connector(self, connector_id):
        return next(c for c in self._config["connectors"] if c["Id"] == connector_id)

    def _smb_login(self, _credential_id):
        smb = self._config["smb"]
        return "UsernamePassword", {"username": smb["user"], "password": smb["password"], "domain": smb.get("domain")}

    def _share_storage(self, conn):
        return {"location": "smb://%s/%s/" % (self._config["smb"]["host"], conn["Share"]), "credentialId": "file-share-connector"}

    def _unc(self, conn, filename):
        return "%s\\%s" % (conn["SharePath"], filename)

    def _write_disk(self, conn, seed, output):
        """A VHD(X) of the seeded disk `seed` named `output` in the connector's share; the task's result."""
        disk_format = DISK_FORMATS[conn["DiskFormat"].upper()]
        parameters = {"outputImageFormat": disk_format, "outputImageFilename": output, "outputStorageLocation": self._share_storage(conn),
                      "sourceDiskName": seed}
        try:
            made = run_export(parameters, self._smb_login, self._config["smb"], os.path.join(self._scratch, "export"))
        except WorkFailed as exc:
            if exc.code == "OutputExists":
                raise WorkFailed(exc.code, "The file %s already exists in the share of connector '%s'; the appliance does not replace it."
                                 % (self._unc(conn, "%s.%s" % (output, conn["DiskFormat"].lower())), conn["Name"]))
            raise
        return {"OutputPath": self._unc(conn, made["outputImageFilename"]), "OutputFileName": made["outputImageFilename"],
                "SizeBytes": made["sizeBytes"], "ConnectorConfigId": conn["Id"]}

    def _azure(self):
        cfg = self._config.get("azure")
        if not cfg:
            raise WorkFailed("CloudUnreachable", "The lab's Windows host has no Azure plane configured.")
        return cfg

    # --- the work of each task type --------------------------------------------------------------

    def _export(self, task_id, params):
        return self._write_disk(self.connector(params["share"]), params["seed"], params["output"])

    def _prepare(self, task_id, params):
        tags = dict((str(k), str(v)) for k, v in (params.get("Tags") or {}).items())
        body = {"platform": "azure", "platformCredentialId": "azure-connector", "targetDiskName": params["disk"],
                "targetResourceGroup": params["resource_group"], "azureSubscriptionId": params["subscription"],
                "outputDiskName": params["OutputDiskName"], "tags": tags}
        try:
            made = check_azure(body, lambda _id: ("Azure", {}), {"azure": self._azure()})
        except WorkFailed as exc:
            if exc.code == "OutputExists":
                raise WorkFailed(exc.code, "The output disk '%s' already exists in resource group '%s'; the appliance does not replace it."
                                 % (params["OutputDiskName"], params["resource_group"]))
            raise
        return {"OutputDiskName": made["outputDiskName"], "OutputDiskId": made["outputDiskId"],
                "ProvisioningType": params["ProvisioningType"]}

    def _publish(self, task_id, params):
        arm = _Arm(self._azure())
        path = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/disks/%s" % (
            params["subscription"], params["resource_group"], urllib.parse.quote(params["disk"]))
        status, _disk, code, message = arm.call("GET", path)
        if status == 404:
            raise WorkFailed("TargetNotFound", "The prepared disk '%s' was not found in resource group '%s' (%s)."
                             % (params["disk"], params["resource_group"], code))
        if status != 200:
            raise WorkFailed("CloudError", "Azure answered %s %s: %s" % (status, code, message))
        return self._write_disk(self.connector(params["share"]), params["source_disk"], params["output"])

    def _diagnostics(self, task_id, params):
        conn = self.connector(params["share"])
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        name = "al-ips-diagnostics-%s-%s.zip" % (stamp, task_id)
        os.makedirs(self._scratch, exist_ok=True)
        scratch = tempfile.mkdtemp(prefix="diag-", dir=self._scratch)
        try:
            local = os.path.join(scratch, name)
            tasks = [{"WorkTicketId": r["id"], "Type": r["type"], "State": r["state"], "Message": r["message"]} for r in self._task_rows()
                     if params.get("about") is None or r["id"] == params["about"]]
            with zipfile.ZipFile(local, "w", zipfile.ZIP_DEFLATED) as bundle:
                bundle.writestr("appliance/appliance.log", "%s lab App Layering appliance 25.11: diagnostics gathered\n" % stamp)
                bundle.writestr("appliance/tasks.json", json.dumps(tasks, indent=2) + "\n")
            with SmbShare(self._share_storage(conn), self._smb_login, self._config["smb"]) as share:
                size = share.write_file(local, name)
            return {"OutputPath": self._unc(conn, name), "OutputFileName": name, "SizeBytes": size, "ConnectorConfigId": conn["Id"]}
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The App Layering appliance, reached through Citrix.AppLayering on a Windows host: connect, look up
connectors, start a task, read one, stop one.

Every cmdlet and parameter name comes from `_appliance_wire`; every call goes through one
`_psrp.Session` (one runspace, so the appliance session Connect-AlAppliance opens is there for the
next cmdlet). Tasks come back in the collection's job shape (`_jobs.shape`'s keys), so modules,
results and the controller's `ips_job_wait` treat an appliance task like a cloud job.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.citrix_community.ips.plugins.module_utils import _appliance_wire as wire
from ansible_collections.citrix_community.ips.plugins.module_utils import _psrp
from ansible_collections.citrix_community.ips.plugins.module_utils import _retries
from ansible_collections.citrix_community.ips.plugins.module_utils import _waiter
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError

RUNNING, COMPLETE, FAILED, CANCELLED = "running", "complete", "failed", "cancelled"

# An ErrorRecord that says the appliance session is gone (expired, or the appliance restarted): connect again, once.
_SESSION_GONE = re.compile(r"session|not connected|connect-alappliance|not authenticated", re.IGNORECASE)
_BAD_LOGIN = re.compile(r"credential|password|user ?name|logon|log in|login|unauthori[sz]ed|authenticat", re.IGNORECASE)
_BAD_CERT = re.compile(r"certificate|ssl|tls|trust", re.IGNORECASE)
_NO_TASK = re.compile(r"not ?found|does not exist|no task|unknown", re.IGNORECASE)


def appliance_spec():
    """The appliance dict, documented by the citrix_community.ips.appliance doc fragment."""
    return dict(type="dict", options=dict(
        address=dict(type="str"),
        username=dict(type="str"),
        password=dict(type="str", no_log=True),
        ignore_certificate_errors=dict(type="bool", default=False),
        connector=dict(type="str"),
        share_connector=dict(type="str"),
        journal_dir=dict(type="path"),
    ))


class ApplianceError(IPSError):
    """The appliance refused, or a task cannot be started/read; the message names the option to fix. `records` holds
    the cmdlet's ErrorRecords when the appliance answered with some (empty when the Windows host or the connection
    failed)."""

    def __init__(self, message, records=None):
        self.records = records or []
        super(ApplianceError, self).__init__(message)


class ApplianceBusy(ApplianceError):
    """A start cmdlet answered task id 0: a conflicting operation runs. Never retried."""


class TaskFailed(IPSError):
    """The task ended failed or cancelled; the appliance's message is in ours."""

    def __init__(self, job):
        self.job = job
        self.job_id = job["id"]
        self.job_status = job["status"]
        self.progress = job["progress"]
        super(TaskFailed, self).__init__("App Layering task %s ended %s%s: %s. Fix the cause and run again: a failed task is started "
                                         "again." % (job["id"], job["status"], " at %s%%" % job["progress"] if job["progress"] else "",
                                                     error_message(job)))


def error_message(job):
    error = job.get("error") or {}
    return (error.get("message") if isinstance(error, dict) else str(error)) or "the appliance gave no reason"


def _get(obj, field):
    return obj.get(field.name) if isinstance(obj, dict) else None


def state_of(status):
    """An appliance task state -> running / complete / failed / cancelled (unknown states: still running)."""
    return wire.TASK_STATES.get(str(status or "").replace(" ", "").lower(), RUNNING)


def task_id_of(obj):
    """The WorkTicketId (alias TaskId) of a task object the cmdlets return, or None."""
    for key in ("id", "id_alias"):
        value = _get(obj, wire.TASK_FIELDS[key])
        if value is not None:
            try:
                return int(value)
            except (TypeError, ValueError):
                return None
    return None


def shape(raw, kind=None, request=None, key=None):
    """A task object -> the collection's job dict (the keys of _jobs.shape, plus backend)."""
    fields = wire.TASK_FIELDS
    status = str(_get(raw, fields["state"]) or "")
    items = _get(raw, fields["work_items"]) or []
    items = items if isinstance(items, list) else [items]
    error = _get(raw, fields["error"])
    state = state_of(status)
    if not error and state in (FAILED, CANCELLED):
        error = _get(raw, fields["status"])
    if not error and state in (FAILED, CANCELLED):
        # the failed work items' status texts say why (the SOAP API's WorkItems[].Status)
        texts = [str(_get(i, wire.WORK_ITEM_FIELDS["status"])) for i in items
                 if _get(i, wire.WORK_ITEM_FIELDS["status"]) and state_of(_get(i, wire.WORK_ITEM_FIELDS["state"])) != COMPLETE]
        error = "; ".join(texts) or None
    progress = _get(raw, fields["progress"])
    try:
        progress = int(progress) if progress is not None else (100 if state == COMPLETE else 0)
    except (TypeError, ValueError):
        progress = 0
    output = _get(raw, fields["output"])
    return {
        "id": task_id_of(raw),
        "type": kind,
        "status": status,
        "state": state,
        "progress": progress,
        "stage": _get(raw, fields["stage"]),
        "parameters": request or {},
        "artifacts": output if isinstance(output, dict) else {},
        "error": {"message": str(error)} if error else None,
        "warnings": [],
        "created_at": None,
        "updated_at": None,
        "idempotency_key": key,
        "kind": kind,
        "backend": "appliance",
        "work_items": items,
    }


def status_of(job):
    return _waiter.Status(job["id"], job["status"], job["progress"], job["stage"])


def cmdlet_parameters(key, values):
    """{our name: value} -> [(parameter name, typed value)] for cmdlet `key`; None, false switches and empty tables left out."""
    out = []
    for name, value in sorted(values.items()):
        spec = wire.param(key, name)
        if value is None or (spec.type == "switch" and not value) or (spec.type in ("hashtable", "list") and not value):
            continue
        out.append((spec.name, value if spec.type == "credential" else _psrp.typed(spec.type, value)))
    return out


def _need(opts, option, key, why):
    if not opts.get(key):
        raise ApplianceError("%s.%s is required with backend: appliance (%s)." % (option, key, why))
    return opts[key]


class Appliance(object):
    """One appliance session on one Windows host, for the life of a task."""

    def __init__(self, appliance, windows_host, session=None):
        appliance = appliance or {}
        host = windows_host or {}
        self.address = _need(appliance, "appliance", "address", "the App Layering appliance's IP or FQDN")
        self.username = _need(appliance, "appliance", "username", "an appliance user allowed to run Image Portability tasks")
        self.password = _need(appliance, "appliance", "password", "the password of appliance.username; keep it in a vault")
        self.ignore_cert = bool(appliance.get("ignore_certificate_errors"))
        self.options = appliance
        if session is None:
            _need(host, "windows_host", "host", "the Windows host with the Citrix.AppLayering module, reached over PowerShell Remoting")
            _need(host, "windows_host", "username", "the account PowerShell Remoting signs in with")
            try:
                session = _psrp.Session(host["host"], host["username"], host.get("password"), port=host.get("port"),
                                        transport=host.get("transport") or "https", auth=host.get("auth") or "negotiate",
                                        ca_path=host.get("ca_path"), validate_certs=host.get("validate_certs", True),
                                        connection_timeout=host.get("connection_timeout") or 30,
                                        operation_timeout=host.get("operation_timeout") or 20, secrets=(self.password,))
            except _psrp.PSRPError as err:
                raise ApplianceError(str(err))
        session.add_secret(self.password)
        self.session = session
        self.connected = False
        # A gone appliance session is connected again once per call (an uncounted retry), nothing more.
        self._retrier = _retries.Retrier(_retries.policy(max_retries=0))

    def close(self):
        self.session.close()

    # --- the cmdlets ------------------------------------------------------------------------------

    def connect(self):
        if self.connected:
            return
        values = {"address": self.address, "credential": self.session.credential(self.username, self.password),
                  "ignore_certificate_errors": self.ignore_cert}
        try:
            self.session.run(wire.cmdlet("connect"), cmdlet_parameters("connect", values), read_only=True)
        except _psrp.CommandFailed as err:
            text = " ".join("%s (%s)" % (m, i) if i else m for i, m in err.records) or str(err)
            hint = "Check appliance.address and that the appliance answers on TCP 443 from the Windows host"
            if _BAD_LOGIN.search(text):
                hint = "appliance.password (or appliance.username) was refused by the appliance %s" % self.address
            elif _BAD_CERT.search(text):
                hint = ("the appliance's certificate is not trusted by the Windows host: trust its CA there, or set "
                        "appliance.ignore_certificate_errors: true for a self-signed appliance certificate")
            raise ApplianceError("%s: %s to %s failed: %s" % (hint, wire.cmdlet("connect"), self.address, text))
        except _psrp.PSRPError as err:
            raise ApplianceError(str(err))
        self.connected = True

    def call(self, key, values, read_only):
        """Run cmdlet `key` in the appliance session; -> its output objects as plain Python."""
        def attempt():
            self.connect()
            return [_psrp.plain(o) for o in self.session.run(wire.cmdlet(key), cmdlet_parameters(key, values), read_only=read_only)]

        def classify(exc):
            if isinstance(exc, _psrp.CommandFailed) and any(_SESSION_GONE.search("%s %s" % r) for r in exc.records):
                self.connected = False  # the appliance forgot us: connect again, then the same call, once
                return _retries.Verdict(True, counted=False)
            return _retries.FINAL

        try:
            return self._retrier.call(classify, attempt)
        except _psrp.PSRPError as err:
            raise ApplianceError(str(err), records=err.records)

    def connector_id(self, name, option, azure_ips=False):
        """Get-AlConnectorConfig -Name <name> -> its Id; with azure_ips the type must be Image Portability for Azure."""
        try:
            found = [o for o in self.call("connector", {"name": name}, read_only=True) if isinstance(o, dict)]
        except ApplianceError as err:
            if "ConnectorConfigNotFound" not in str(err):
                raise
            found = []
        found = [o for o in found if _get(o, wire.CONNECTOR_FIELDS["id"])]
        if not found:
            raise ApplianceError("%s %s: the appliance %s has no connector configuration of that name. Create it in the appliance "
                                 "console (Connectors) or fix %s." % (option, name, self.address, option))
        conf = found[0]
        kind = _get(conf, wire.CONNECTOR_FIELDS["type"])
        if azure_ips and kind is not None and str(kind).strip().lower() != wire.AZURE_IPS_CONNECTOR_TYPE.lower():
            raise ApplianceError("%s %s is a connector of type %s; Image Portability tasks in Azure need a connector of type \"%s\" "
                                 "(not the Azure Deployments ones): create one and set %s to its name."
                                 % (option, name, kind, wire.AZURE_IPS_CONNECTOR_TYPE, option))
        return str(_get(conf, wire.CONNECTOR_FIELDS["id"]))

    def start(self, kind, values):
        """Start a task (export / prepare / publish / diagnostics); -> its task id. Never retried."""
        out = self.call(kind, values, read_only=False)
        task_id = next((task_id_of(o) for o in out if task_id_of(o) is not None), None)
        if task_id is None:
            raise ApplianceError("%s answered without a task id (WorkTicketId); the appliance may have refused the request "
                                 "without saying why. Look at its task list before running again." % wire.cmdlet(kind))
        if task_id == wire.BUSY_TASK_ID:
            raise ApplianceBusy("the appliance %s is busy with a conflicting operation: %s answered task id 0 and started nothing. "
                                "Wait for the appliance's running task to end (console: Tasks), then run again."
                                % (self.address, wire.cmdlet(kind)))
        return task_id

    def get(self, task_id, kind=None, request=None, key=None):
        """The task in the collection's job shape, or None when the appliance does not know it."""
        try:
            out = self.call("task", {"task_id": task_id}, read_only=True)
        except ApplianceError as err:
            # only the appliance's own answer that it has no such task: a Windows host that lost our session also says
            # "does not exist", of its shell, and the task is still there
            if any(_NO_TASK.search("%s %s" % r) and not _SESSION_GONE.search("%s %s" % r) for r in err.records):
                return None
            raise
        for obj in out:
            if task_id_of(obj) == int(task_id):
                return shape(obj, kind, request, key)
        return None

    def stop(self, task_id):
        self.call("stop", {"task_id": task_id}, read_only=False)

    def wait(self, job, waiter, kind=None, request=None, key=None):
        """Follow the task with the shared waiter until it leaves running; -> the last job dict."""
        def look():
            latest = self.get(job["id"], kind, request, key)
            if latest is None:
                raise ApplianceError("App Layering task %s disappeared from the appliance %s while it was watched." % (job["id"], self.address))
            return latest

        try:
            return waiter.until("App Layering task", look, lambda j: j["state"] != RUNNING, status_of, first=job)
        except _waiter.WaitTimeout as err:
            err.job = err.last
            raise

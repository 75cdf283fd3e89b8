# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The life of one appliance task request, shared by the job modules with backend: appliance.

desired request -> find the task this request started before (the journal) or its output ->
decide -> check mode: predict (the connectors are looked up, nothing is started) -> start ->
record the task id -> wait (the shared waiter) -> result, in the same keys as the cloud backend.

Decisions, like the cloud backend's: a running task -> attach and wait (`resumed`); a completed
task or an existing output -> `changed: false`; a failed or cancelled task -> start again, the last
failure's message in `previous_failure`; `force` is part of the request (and its key), so a forced
request converges like any other. A timeout never stops the task: a re-run attaches.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json

from ansible_collections.citrix_community.ips.plugins.module_utils import _appliance
from ansible_collections.citrix_community.ips.plugins.module_utils import _appliance_journal
from ansible_collections.citrix_community.ips.plugins.module_utils import _appliance_requests as app_requests
from ansible_collections.citrix_community.ips.plugins.module_utils import _appliance_wire as wire
from ansible_collections.citrix_community.ips.plugins.module_utils import _job_runner
from ansible_collections.citrix_community.ips.plugins.module_utils import _waiter
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError


def idempotency_key(address, request, force=False):
    """The same request to the same appliance gives the same key; tags describe a task, they don't make it another."""
    values = dict((k, v) for k, v in request["values"].items() if k != "tags")
    material = [str(address).strip().lower(), request["kind"], values, sorted(request["connector_names"].items()), bool(force)]
    canonical = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def shown_request(request):
    """The request as results show it: the cmdlet and its parameters by their PowerShell names."""
    params = dict((wire.param(request["kind"], k).name, v) for k, v in request["values"].items() if v not in (None, False, {}, []))
    for value_name, (option, name, _azure) in request["connectors"].items():
        params[wire.param(request["kind"], value_name).name] = "<id of %s %s>" % (option, name)
    return {"cmdlet": wire.cmdlet(request["kind"]), "parameters": params}


class ApplianceRunner(object):
    """Runs one appliance request for a module: find -> decide -> check -> start -> wait -> result.

    `output_exists` (optional) looks for the output artifact when no journaled task answers; it
    returns None or the module's return values for the found output. `force_resubmits`: every
    forced run starts a new task (diagnostics has no output to overwrite).
    """

    def __init__(self, mod, kind, output_exists=None, artifacts=None, force_resubmits=False, appliance=None):
        self.mod = mod
        params = mod.params
        _job_runner.check_wait_options(mod)
        request = app_requests.BUILDERS[kind](params)
        request["connectors"] = app_requests.connector_names(params, request)
        request["connector_names"] = dict((v, name) for v, (_o, name, _a) in request["connectors"].items())
        self.request = request
        self.kind = kind
        self.output_exists = output_exists
        self.artifacts = artifacts or (lambda job, output: {})
        self.force_resubmits = force_resubmits
        options = params.get("appliance") or {}
        self.appliance = appliance or _appliance.Appliance(options, params.get("windows_host"))
        mod.add_secret(self.appliance.password)
        self.key = idempotency_key(self.appliance.address, request, params.get("force") and not force_resubmits)
        self.journal = _appliance_journal.Journal(options.get("journal_dir"))

    def run(self):
        try:
            return self._run()
        finally:
            self.appliance.close()

    def _run(self):
        mod, params, appliance = self.mod, self.mod.params, self.appliance
        shown = shown_request(self.request)

        # Find what exists: the task this request started before, then the output.
        entry = self.journal.read(self.key)
        existing = None
        if entry is not None:
            existing = appliance.get(entry["task_id"], self.kind, shown, self.key)
        output = None
        forced = params.get("force")
        if not forced and not (existing and existing["state"] in (_appliance.RUNNING, _appliance.COMPLETE)) and self.output_exists:
            output = self.output_exists()

        # Decide.
        if existing and existing["state"] == _appliance.RUNNING:
            action = "attach"
        elif existing and existing["state"] == _appliance.COMPLETE and not (forced and self.force_resubmits):
            action = None
        elif output:
            action = None
        else:
            action = "start"
        previous = None
        if existing and existing["state"] in (_appliance.FAILED, _appliance.CANCELLED):
            previous = {"task_id": existing["id"], "status": existing["status"], "message": _appliance.error_message(existing)}
        elif entry is not None and existing is None and entry.get("last_error"):
            previous = {"task_id": entry["task_id"], "status": "unknown", "message": entry["last_error"]}
        result = dict(changed=action is not None, resumed=action == "attach", idempotency_key=self.key, backend="appliance",
                      request=shown, job=existing, output=output, task_id=existing["id"] if existing else None)
        if previous:
            result["previous_failure"] = previous
        if mod.diff_mode:
            result["diff"] = dict(before={} if action == "start" else dict(request=shown), after=dict(request=shown))

        # Check mode: the connectors are looked up (they must exist), nothing is started.
        if mod.check_mode:
            if action == "start":
                result["validation"] = {"connectors": dict((o, n) for o, n, _a in self.request["connectors"].values()),
                                        "valid": bool(self._connector_ids())}
            result.update(self.artifacts(existing, output))
            return result

        # Start, and record the task id before anything else can go wrong.
        job = existing
        if action == "start":
            values = dict(self.request["values"])
            values.update(self._connector_ids())
            task_id = appliance.start(self.kind, values)
            self.journal.write(self.key, task_id=task_id, kind=self.kind, address=appliance.address, request=shown)
            job = appliance.get(task_id, self.kind, shown, self.key) or _appliance.shape(
                {wire.TASK_FIELDS["id"].name: task_id, wire.TASK_FIELDS["state"].name: "Running"}, self.kind, shown, self.key)
            result["task_id"] = task_id

        # Wait (the shared waiter; a timeout never stops the task).
        if job is not None:
            waiter = _waiter.for_options(params["wait"], params["wait_timeout"], params["wait_sleep"])
            job = appliance.wait(job, waiter, self.kind, shown, self.key)
            if job["state"] in (_appliance.FAILED, _appliance.CANCELLED):
                self.journal.write(self.key, task_id=job["id"], kind=self.kind, address=appliance.address, request=shown,
                                   last_error=_appliance.error_message(job))
                raise _appliance.TaskFailed(job)
        result["job"] = job
        result.update(self.artifacts(job, output))
        return result

    def _connector_ids(self):
        return dict((value_name, self.appliance.connector_id(name, option, azure_ips))
                    for value_name, (option, name, azure_ips) in self.request["connectors"].items())


def task_argument_spec():
    """The options a module with backend: appliance adds (the citrix_community.ips.appliance doc fragment)."""
    spec = app_requests.argument_spec()
    spec.update(appliance=_appliance.appliance_spec(), windows_host=windows_host_spec())
    return spec


def task_number(task_id):
    try:
        return int(str(task_id).strip())
    except ValueError:
        raise IPSError("id %s: an App Layering task id (WorkTicketId) is a whole number." % task_id)


def windows_host_spec():
    from ansible_collections.citrix_community.ips.plugins.module_utils._psrp import windows_host_spec as spec
    return spec()


def run_task(mod, task_id, state):
    """ips_job with backend: appliance: wait for (present) or stop (absent) a task by its id."""
    task_id = task_number(task_id)
    p = mod.params
    appliance = _appliance.Appliance(p.get("appliance"), p.get("windows_host"))
    mod.add_secret(appliance.password)
    try:
        job = appliance.get(task_id, None)
        if state == "absent":
            running = job is not None and job["state"] == _appliance.RUNNING
            if running and not mod.check_mode:
                appliance.stop(task_id)
                job = appliance.get(task_id, None) or job
            return dict(changed=running, job=job or {})
        if job is None:
            raise IPSError("App Layering task %s is unknown to the appliance %s: check the id." % (task_id, appliance.address))
        job = appliance.wait(job, _waiter.for_options(p["wait"], p["wait_timeout"], p["wait_sleep"], mod.check_mode))
        if job["state"] in (_appliance.FAILED, _appliance.CANCELLED):
            raise _appliance.TaskFailed(job)
        return dict(changed=False, job=job)
    finally:
        appliance.close()

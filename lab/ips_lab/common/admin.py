"""LabAdmin: the one Python client of the lab's `/_lab/` admin APIs (header X-IPS-Lab-Admin), for the
Citrix Cloud stand-in and each cloud plane alike (stdlib only).

    admin = LabAdmin.from_env(env)                     # the Citrix Cloud stand-in
    admin.set_config(job_seconds=1, progress_step=0.1)
    admin.fail_job("export", "exporting", "The share is full.")
    plane = LabAdmin.from_env(env, "azure")            # or "ebs", "gce"
    plane.set_config(operation_seconds=3)              # Azure: disk creation takes 3 s (default 0)
    plane.add_fault(r"/md-impexp/", method="PUT", status=503, retry_after=1, times=2)
    puts = [r for r in plane.requests() if r["method"] == "PUT"]

Both servers answer reset, config/set_config, add_fault/faults/clear_faults and
requests/clear_requests; fail_job, advance_clock and raw_job are the Citrix Cloud stand-in's only
(a plane answers them 404, raised as LabAdminError). docs/lab.md lists every call.
"""

import json
import ssl
import urllib.error
import urllib.request

ADMIN_HEADER = "X-IPS-Lab-Admin"
# part -> (URL key, admin token key, CA key or None) in the lab's env file (docs/lab.md)
ENV_KEYS = {
    "citrix": ("CITRIX_CLOUD_API_URL", "IPS_LAB_ADMIN_TOKEN", "CITRIX_CLOUD_CA_PATH"),
    "azure": ("IPS_LAB_AZURE_URL", "IPS_LAB_AZURE_ADMIN_TOKEN", "IPS_LAB_AZURE_CA_PATH"),
    "ebs": ("IPS_LAB_EBS_URL", "IPS_LAB_EBS_ADMIN_TOKEN", None),
    "gce": ("IPS_LAB_GCE_URL", "IPS_LAB_GCE_ADMIN_TOKEN", None),
    "winhost": ("IPS_LAB_WINHOST_ADMIN_URL", "IPS_LAB_WINHOST_ADMIN_TOKEN", "IPS_LAB_WINHOST_CA_PATH"),
    "iam": ("IPS_LAB_IAM_URL", "IPS_LAB_IAM_ADMIN_TOKEN", None),
}


class LabAdminError(Exception):
    def __init__(self, status, body):
        super().__init__("lab admin call failed with HTTP %s: %s" % (status, body))
        self.status = status
        self.body = body


class LabAdmin(object):
    def __init__(self, url, token, ca_path=None, timeout=30):
        self.url = url.rstrip("/")
        self._token = token
        self._timeout = timeout
        handlers = [urllib.request.ProxyHandler({})]  # loopback: never through a proxy
        if self.url.startswith("https:"):
            handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=ca_path)))
        self._opener = urllib.request.build_opener(*handlers)

    @classmethod
    def from_env(cls, env, part="citrix"):
        """From the lab's env file keys; `part` is "citrix" (the Citrix Cloud stand-in), "azure", "ebs", "gce", "iam" or "winhost"."""
        try:
            url_key, token_key, ca_key = ENV_KEYS[part]
        except KeyError:
            raise ValueError("part must be one of %s, not %r" % (", ".join(sorted(ENV_KEYS)), part))
        return cls(env[url_key], env[token_key], env[ca_key] if ca_key else None)

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {ADMIN_HEADER: self._token, "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with self._opener.open(req, timeout=self._timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise LabAdminError(exc.code, exc.read().decode("utf-8", "replace"))
        return json.loads(raw) if raw else None

    # --- every server -------------------------------------------------------------------------

    def reset(self):
        """The Citrix Cloud stand-in: forget jobs, credentials, faults, job failures and recorded requests,
        config to defaults. A plane: no faults, no recorded requests, settings to defaults (its disks,
        images and snapshots stay)."""
        self._call("POST", "/_lab/reset")

    def config(self):
        return self._call("GET", "/_lab/config")

    def set_config(self, **changes):
        """Change runtime settings; returns them all. The Citrix Cloud stand-in: token_ttl, job_seconds,
        retention_seconds, progress_step, daas_job_seconds, daas_cache_seconds, daas_activated. The Azure plane: operation_seconds."""
        return self._call("PUT", "/_lab/config", changes)

    def add_fault(self, path, action="status", method="*", status=None, retry_after=None, delay=None, times=1, body=None):
        """Add a fault rule (`path` is a regex searched in the request path, never the query);
        action "status" (default status 503; `body`, planes only: a raw error body, else the
        service's own), "drop" (the connection closes with no answer) or "slow" (wait `delay`
        seconds, then answer normally). `times` counts down. Returns the rule id."""
        rule = {"path": path, "action": action, "method": method, "times": times}
        for key, value in (("status", status), ("retry_after", retry_after), ("delay", delay), ("body", body)):
            if value is not None:
                rule[key] = value
        return self._call("POST", "/_lab/faults", rule)["id"]

    def faults(self):
        """The pending rules, each with its remaining `times`."""
        return self._call("GET", "/_lab/faults")["items"]

    def clear_faults(self):
        self._call("DELETE", "/_lab/faults")

    def requests(self):
        """Recorded requests, oldest first. The Citrix Cloud stand-in: [{time, method, path, query,
        status, headers, fault}]; a plane: [{time, ts, method, path, status, length, fault}] (`status`
        None for a dropped connection, `length` the declared body length)."""
        return self._call("GET", "/_lab/requests")["items"]

    def clear_requests(self):
        self._call("DELETE", "/_lab/requests")

    # --- the Citrix Cloud stand-in only -------------------------------------------------------

    def fail_job(self, type, stage, error, times=1, code=None):  # noqa: A002 - `type` is the wire name
        """Make the next `times` jobs of `type` fail when they reach `stage`, with message `error`."""
        body = {"type": type, "stage": stage, "error": error, "times": times}
        if code:
            body["code"] = code
        return self._call("POST", "/_lab/job-failures", body)["id"]

    def daas_job_outcome(self, status, message=None, type="*", times=1):  # noqa: A002 - `type` is the wire name
        """Make the next `times` DaaS jobs of `type` (a JobType name, or * for any) end `status`
        (CompleteWithWarning, Failed or Canceled) with `message` instead of Complete."""
        body = {"type": type, "status": status, "times": times}
        if message:
            body["message"] = message
        return self._call("POST", "/_lab/daas/job-outcomes", body)["id"]

    def advance_clock(self, seconds):
        """Move the lab clock forward; returns {"offset_seconds", "now"}."""
        return self._call("POST", "/_lab/clock", {"advance_seconds": seconds})

    def raw_job(self, job_id):
        return self._call("GET", "/_lab/jobs/%s/raw" % job_id)

    # --- the Windows host (App Layering appliance) only ---------------------------------------

    def calls(self):
        """The cmdlets the Windows host ran, oldest first: [{time, shell, cmdlet, parameters: {name: {type, value}},
        positional, error}] (`type` is the .NET type the value arrived as; passwords masked)."""
        return self._call("GET", "/_lab/calls")["items"]

    def clear_calls(self):
        self._call("DELETE", "/_lab/calls")

    def host_fault(self, action, **fields):
        """A Windows host fault: action "drop" (cmdlet=...), "status" (cmdlet=, status=, retry_after=), "slow" (cmdlet=,
        delay=), "task_id_zero" (cmdlet=...), "fail_task" (type=, stage=, message=), "expire_sessions" or "drop_shells" (both at once);
        `times` counts down. Returns the rule id (None for expire_sessions)."""
        return self._call("POST", "/_lab/faults", dict(fields, action=action))["id"]

    def tasks(self):
        """The appliance's tasks: [{id, type, state, stage, percent, message, parameters, result, work_state}]."""
        return self._call("GET", "/_lab/tasks")["items"]

    def pvs(self):
        """The Windows host's PVS farm: {locators: {id: {Name, SiteName, StoreName, WriteCacheType, WriteCacheSize,
        LicenseMode, versions}}, devices: {name: {collection, locators: [ids]}}, expected_merged_sha256}."""
        return self._call("GET", "/_lab/pvs")

"""LabAdmin: the Python client tests use to drive the lab's /_lab/ admin API (stdlib only)."""

import json
import ssl
import urllib.error
import urllib.request

ADMIN_HEADER = "X-IPS-Lab-Admin"


class LabAdminError(Exception):
    def __init__(self, status, body):
        super().__init__("lab admin call failed with HTTP %s: %s" % (status, body))
        self.status = status
        self.body = body


class LabAdmin(object):
    def __init__(self, api_url, admin_token, ca_path, timeout=30):
        self.api_url = api_url.rstrip("/")
        self._token = admin_token
        self._context = ssl.create_default_context(cafile=ca_path)
        self._timeout = timeout

    @classmethod
    def from_env(cls, env):
        """From the lab's env file keys (docs/lab.md)."""
        return cls(env["CITRIX_CLOUD_API_URL"], env["IPS_LAB_ADMIN_TOKEN"], env["CITRIX_CLOUD_CA_PATH"])

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        headers = {ADMIN_HEADER: self._token, "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.api_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, context=self._context, timeout=self._timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise LabAdminError(exc.code, exc.read().decode("utf-8", "replace"))
        return json.loads(raw) if raw else None

    def reset(self):
        """Forget jobs, credentials, faults, job failures and recorded requests; config to defaults."""
        self._call("POST", "/_lab/reset")

    def config(self):
        return self._call("GET", "/_lab/config")

    def set_config(self, **changes):
        """Change runtime config keys (token_ttl, job_seconds, retention_seconds, progress_step); returns the config."""
        return self._call("PUT", "/_lab/config", changes)

    def add_fault(self, path, action="status", method="*", status=None, retry_after=None, delay=None, times=1):
        """Add a fault rule (path is a regex on the request path); returns its id."""
        rule = {"path": path, "action": action, "method": method, "times": times}
        for key, value in (("status", status), ("retry_after", retry_after), ("delay", delay)):
            if value is not None:
                rule[key] = value
        return self._call("POST", "/_lab/faults", rule)["id"]

    def faults(self):
        return self._call("GET", "/_lab/faults")["items"]

    def clear_faults(self):
        self._call("DELETE", "/_lab/faults")

    def fail_job(self, type, stage, error, times=1, code=None):  # noqa: A002 - `type` is the wire name
        """Make the next `times` jobs of `type` fail when they reach `stage`, with message `error`."""
        body = {"type": type, "stage": stage, "error": error, "times": times}
        if code:
            body["code"] = code
        return self._call("POST", "/_lab/job-failures", body)["id"]

    def advance_clock(self, seconds):
        """Move the lab clock forward; returns {"offset_seconds", "now"}."""
        return self._call("POST", "/_lab/clock", {"advance_seconds": seconds})

    def requests(self):
        """Recorded requests: [{time, method, path, query, status, headers, fault}], oldest first."""
        return self._call("GET", "/_lab/requests")["items"]

    def raw_job(self, job_id):
        return self._call("GET", "/_lab/jobs/%s/raw" % job_id)

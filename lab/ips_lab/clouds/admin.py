"""PlaneAdmin: the Python client tests use to drive a cloud plane's /_lab/ admin API (stdlib only).

    admin = PlaneAdmin.from_env(env, "azure")          # or "ebs", "gce"
    admin.clear_requests()
    admin.add_fault(r"/md-impexp/", method="PUT", status=503, retry_after=1, times=2)
    admin.set_config(operation_seconds=3)              # Azure: disk creation takes 3 s (default 0)
    ...
    puts = [r for r in admin.requests() if r["method"] == "PUT"]
"""

import json
import ssl
import urllib.error
import urllib.request

from ..admin import LabAdminError

ADMIN_HEADER = "X-IPS-Lab-Admin"
# plane -> (URL key, admin token key, CA key or None) in the lab's env file (docs/lab.md)
ENV_KEYS = {
    "azure": ("IPS_LAB_AZURE_URL", "IPS_LAB_AZURE_ADMIN_TOKEN", "IPS_LAB_AZURE_CA_PATH"),
    "ebs": ("IPS_LAB_EBS_URL", "IPS_LAB_EBS_ADMIN_TOKEN", None),
    "gce": ("IPS_LAB_GCE_URL", "IPS_LAB_GCE_ADMIN_TOKEN", None),
}


class PlaneAdmin(object):
    def __init__(self, url, token, ca_path=None, timeout=30):
        self.url = url.rstrip("/")
        self._token = token
        self._timeout = timeout
        handlers = [urllib.request.ProxyHandler({})]  # loopback: never through a proxy
        if self.url.startswith("https:"):
            handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=ca_path)))
        self._opener = urllib.request.build_opener(*handlers)

    @classmethod
    def from_env(cls, env, plane):
        """From the lab's env file keys; `plane` is "azure", "ebs" or "gce"."""
        try:
            url_key, token_key, ca_key = ENV_KEYS[plane]
        except KeyError:
            raise ValueError("plane must be one of %s, not %r" % (", ".join(sorted(ENV_KEYS)), plane))
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

    def add_fault(self, path, action="status", method="*", status=None, retry_after=None, delay=None, times=1, body=None):
        """Add a fault rule (`path` is a regex searched in the request path, never the query);
        action "status" (default status 503; `body` a raw error body, else the service's own),
        "drop" (the request is read, the connection closed with no answer) or "slow" (wait
        `delay` seconds, then answer normally). `times` counts down. Returns the rule id."""
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
        """Recorded requests, oldest first: [{time, ts, method, path, status, length, fault}];
        `status` is None for a dropped connection, `length` the declared body length."""
        return self._call("GET", "/_lab/requests")["items"]

    def clear_requests(self):
        self._call("DELETE", "/_lab/requests")

    def config(self):
        """The plane's runtime settings (the Azure plane: {"operation_seconds": s})."""
        return self._call("GET", "/_lab/config")

    def set_config(self, **changes):
        """Change runtime settings, e.g. set_config(operation_seconds=3) on the Azure plane; returns them all."""
        return self._call("PUT", "/_lab/config", changes)

    def reset(self):
        """No fault rules, no recorded requests, every setting at its default (disks, images, snapshots stay)."""
        self._call("POST", "/_lab/reset")

"""Helpers for the lab's own tests: a plain API client, polling with a deadline, request bodies."""

import json
import secrets
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

RESOURCE_LOCATION = "5d2b7f0e-3c1a-4e58-9a4d-2f6b1c0e8a71"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout=30.0, interval=0.05, what="condition"):
    """Poll predicate() until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(interval)


class Response(object):
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers
        self.raw = raw
        self.json = json.loads(raw) if raw else None


class Api(object):
    """A deliberately plain Citrix Cloud caller: every header is explicit, nothing is retried."""

    def __init__(self, server, config):
        self.url = server.url
        self.config = config
        self.ctx = ssl.create_default_context(cafile=server.ca_path)
        self._token = None

    def send(self, method, path, body=None, headers=None, raw_body=None, content_type="application/json"):
        headers = dict(headers or {})
        data = raw_body
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None and content_type and "Content-Type" not in headers:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=30) as resp:
                return Response(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as exc:
            return Response(exc.code, exc.headers, exc.read())

    def token_request(self, form=None, customer="root", content_type="application/x-www-form-urlencoded"):
        form = form if form is not None else {"grant_type": "client_credentials", "client_id": self.config["client_id"],
                                              "client_secret": self.config["client_secret"]}
        return self.send("POST", "/cctrustoauth2/%s/tokens/clients" % customer, raw_body=urllib.parse.urlencode(form).encode(),
                         headers={"Accept": "application/json"}, content_type=content_type)

    @property
    def token(self):
        if self._token is None:
            resp = self.token_request()
            assert resp.status == 200, resp.raw
            self._token = resp.json["access_token"]
        return self._token

    def auth_headers(self):
        return {"Authorization": "CwsAuth Bearer=%s" % self.token, "Citrix-CustomerId": self.config["customer_id"],
                "Accept": "application/json"}

    def ips(self, method, path, body=None, headers=None, **kwargs):
        """An authenticated call under /ips/; `headers` override the defaults (None removes one)."""
        merged = self.auth_headers()
        merged.update(headers or {})
        return self.send(method, "/ips/" + path, body, headers={k: v for k, v in merged.items() if v is not None}, **kwargs)

    def job(self, job_id):
        resp = self.ips("GET", "jobs/%s" % job_id)
        assert resp.status == 200, resp.raw
        return resp.json

    def wait_job(self, job_id, timeout=60):
        def finished():
            job = self.job(job_id)
            return job if job["status"] != "inProgress" else None

        return wait_for(finished, timeout, what="job %s" % job_id)


def lab_config(**overrides):
    config = {"host": "127.0.0.1", "port": 0, "customer_id": "labcust%s" % secrets.token_hex(3),
              "client_id": str(uuid.uuid4()), "client_secret": "cs-" + secrets.token_hex(16),
              "admin_token": "adm-" + secrets.token_hex(16), "resource_location_ids": [RESOURCE_LOCATION],
              "smb": {"port": 445}, "token_ttl": 3600, "job_seconds": 4}
    config.update(overrides)
    return config


def common_body(platform="vsphere", cred="vc", **extra):
    body = {"platform": platform, "resourceLocationId": RESOURCE_LOCATION, "platformCredentialId": cred, "prefix": "ips",
            "tags": {"ctx-user": "lab-test"}}
    body.update(extra)
    return body


def diagnostics_body(**extra):
    return common_body(outputStorageLocation={"location": "smb://127.0.0.1/exports/diag/", "credentialId": "smb"}, ceLogs=True, **extra)

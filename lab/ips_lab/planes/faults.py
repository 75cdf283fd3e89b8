"""Fault injection and request recording for the cloud planes, and their `/_lab/` admin API.

Every plane makes one `PlaneLab` (its `lab` attribute); base.PlaneHandler asks it, per request,
whether the path is the admin API, which fault rule applies, and records what it answered.

The rule matching is the Citrix Cloud stand-in's (ips_lab.common.faults.Faults, kept in sqlite in
the plane's state dir, so a restart keeps pending rules). A rule may also carry `body`, the raw
error body to answer with; without it the plane writes its service's own error (plane.fault_error).

Runtime settings: a plane may declare keys (`settings`) that `PUT /_lab/config` changes while it
runs (the Azure plane's `operation_seconds`); they persist in the same sqlite file and
`POST /_lab/reset` puts them back to their defaults (with no faults and no recorded requests).

Recorded requests: method, path (never the query string: SAS signatures live there), status
(None when the connection was dropped), the declared body length, time, fault id. Never headers,
tokens or bodies. Of an AWS SigV4 request also the access key id and region of its credential scope
(`aws_key`, `aws_region`: not secret) and the SHA-256 of its X-Amz-Security-Token (`aws_token_sha256`,
null without one), so a test can tell which credentials signed a call without the lab keeping them.
"""

import hashlib
import hmac
import json
import os
import threading

from ..common.clock import iso
from ..common.config import RuntimeConfig
from ..common.errors import ApiError
from ..common.faults import Faults
from ..common.server import host_name
from ..common.store import Store
from .base import Answer, HttpError

ADMIN_HEADER = "X-IPS-Lab-Admin"
ADMIN_PREFIX = "/_lab"
MAX_RECORDS = 100000
_BODY_META = "fault_body:"


def _admin_error(status, message, field=None):
    return HttpError(status, ApiError(status, message, field=field).body())


def _content_type(body):
    text = body.lstrip()
    if text.startswith("<"):
        return "application/xml"
    if text.startswith("{") or text.startswith("["):
        return "application/json"
    return "text/plain; charset=utf-8"


def sigv4_identity(headers):
    """{aws_key, aws_region, aws_token_sha256} of an AWS SigV4-signed request, else {}."""
    auth = headers.get("Authorization") or ""
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return {}
    scope = auth.split("Credential=", 1)[-1].split(",", 1)[0].split("/")
    token = headers.get("X-Amz-Security-Token")
    return {"aws_key": scope[0], "aws_region": scope[2] if len(scope) > 2 else None,
            "aws_token_sha256": hashlib.sha256(token.encode("utf-8")).hexdigest() if token else None}


class PlaneLab(object):
    """The lab side of one plane: fault rules, recorded requests, the admin API."""

    def __init__(self, state_dir, admin_token, settings=None, extra_actions=()):
        """`settings`: {key: (default, check, what the check wants)} for `/_lab/config`; `extra_actions`: fault actions
        the plane carries out itself in `handle` (it finds the rule as `request.fault`)."""
        self.store = Store(os.path.join(str(state_dir), "lab_faults.sqlite"))
        self.faults = Faults(self.store, extra_actions)
        settings = settings or {}
        self.runtime = RuntimeConfig(self.store, {k: v[0] for k, v in settings.items()},
                                     {k: (v[1], v[2]) for k, v in settings.items()})
        self._token = admin_token or ""
        self._lock = threading.Lock()
        self._items = []

    def close(self):
        self.store.close()

    def setting(self, key):
        """A runtime setting's current value."""
        return self.runtime.get(key)

    def reset(self):
        """No fault rules, no recorded requests, every setting at its default."""
        self.clear_faults()
        self.clear_requests()
        self.runtime.reset()

    # --- faults -------------------------------------------------------------------------------

    def add_fault(self, rule):
        if not isinstance(rule, dict):
            raise ApiError(400, "A fault rule must be a JSON object.", field="body")
        rule = dict(rule)
        body = rule.pop("body", None)
        if body is not None and not isinstance(body, str):
            if not isinstance(body, (dict, list)):
                raise ApiError(400, "The fault field 'body' must be a string (the raw error body) or JSON.", field="body")
            body = json.dumps(body)
        fault_id = self.faults.add(rule)
        if body is not None:
            self.store.set_meta(_BODY_META + fault_id, body)
        return fault_id

    def clear_faults(self):
        with self.store.lock:
            self.faults.clear()
            self.store.execute("DELETE FROM meta WHERE key LIKE ?", (_BODY_META + "%",))

    def take(self, method, path):
        """The fault rule for this request (counted down), with its raw `body` or None; None if none."""
        with self.store.lock:
            fault = self.faults.take(method, path)
            if fault is None:
                return None
            key = _BODY_META + fault["id"]
            fault["body"] = self.store.get_meta(key)
            if fault["body"] is not None and self.store.one("SELECT 1 FROM faults WHERE id = ?", (fault["id"],)) is None:
                self.store.execute("DELETE FROM meta WHERE key = ?", (key,))
        return fault

    @staticmethod
    def fault_answer(plane, fault, request):
        """The Answer for a `status` fault: the rule's raw body, else the plane's own error."""
        status = fault["status"]
        if fault.get("body") is not None:
            answer = Answer(status, fault["body"].encode("utf-8"), {}, _content_type(fault["body"]))
        else:
            maker = getattr(plane, "fault_error", None)
            error = maker(status, request) if maker else HttpError(status, {"message": "injected fault"})
            answer = Answer(error.status, error.body, dict(error.headers), error.content_type)
        if fault.get("retry_after") is not None:
            answer.headers["Retry-After"] = "%g" % fault["retry_after"]
        return answer

    # --- recorded requests --------------------------------------------------------------------

    def record(self, request, status, started, fault=None):
        try:
            length = max(int(request.headers.get("Content-Length") or 0), 0)
        except ValueError:
            length = None
        entry = {"time": iso(started), "ts": started, "method": request.method, "path": request.path, "status": status,
                 "length": length, "fault": fault["id"] if fault else None, "host": host_name(request.headers)}
        entry.update(sigv4_identity(request.headers))
        with self._lock:
            self._items.append(entry)
            del self._items[:-MAX_RECORDS]

    def requests(self):
        with self._lock:
            return list(self._items)

    def clear_requests(self):
        with self._lock:
            self._items = []

    # --- the admin API ------------------------------------------------------------------------

    @staticmethod
    def is_admin(request):
        return request.path == ADMIN_PREFIX or request.path.startswith(ADMIN_PREFIX + "/")

    def admin(self, request):
        given = request.headers.get(ADMIN_HEADER)
        if not given:
            raise _admin_error(401, "The %s header is missing." % ADMIN_HEADER, ADMIN_HEADER)
        if not self._token or not hmac.compare_digest(given.encode("utf-8"), self._token.encode("utf-8")):
            raise _admin_error(403, "The %s header is wrong." % ADMIN_HEADER, ADMIN_HEADER)
        route = request.path.rstrip("/")
        routes = {
            "/_lab/faults": {"POST": self._post_fault, "GET": lambda r: Answer(200, {"items": self.faults.list()}),
                             "DELETE": lambda r: self._done(self.clear_faults)},
            "/_lab/requests": {"GET": lambda r: Answer(200, {"items": self.requests()}),
                               "DELETE": lambda r: self._done(self.clear_requests)},
            "/_lab/config": {"GET": lambda r: Answer(200, self.runtime.all()),
                             "PUT": lambda r: Answer(200, self.runtime.update(r.json()))},
            "/_lab/reset": {"POST": lambda r: self._done(self.reset)},
        }
        methods = routes.get(route)
        if methods is None:
            raise _admin_error(404, "There is no admin route %s %s." % (request.method, request.path), "route")
        func = methods.get(request.method)
        if func is None:
            error = _admin_error(405, "%s is not allowed on %s; allowed: %s." % (request.method, route, ", ".join(sorted(methods))),
                                 "method")
            error.headers["Allow"] = ", ".join(sorted(methods))
            raise error
        try:
            return func(request)
        except ApiError as exc:
            raise HttpError(exc.status, exc.body(), exc.headers)

    def _post_fault(self, request):
        return Answer(201, {"id": self.add_fault(request.json())})

    @staticmethod
    def _done(func):
        func()
        return Answer(204)

"""HTTP mechanics of the stand-in: read a request, apply fault rules, dispatch, answer JSON, record.

Routes live in routes.py (the Citrix Cloud API) and admin_api.py (/_lab/); this file knows
nothing about IPS itself.
"""

import json
import logging
import time
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

from ..common.errors import ApiError
from ..daas import routes as daas_routes
from . import admin_api, routes

LOG = logging.getLogger(__name__)
MAX_BODY = 8 * 1024 * 1024
JSON_TYPE = "application/json"


class Request(object):
    def __init__(self, method, target, headers, body):
        parts = urlsplit(target)
        self.method = method
        self.path = parts.path
        self.route = unquote(parts.path)
        self.query = parts.query
        self.params = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        self.headers = headers
        self.body = body

    def json(self):
        """The JSON object body; 415 unless the content type is JSON, 400 if it does not parse."""
        content_type = self.headers.get("Content-Type") or ""
        if content_type.split(";")[0].strip().lower() != JSON_TYPE:
            raise ApiError(415, "The request body must be %s (got '%s')." % (JSON_TYPE, content_type), field="Content-Type")
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ApiError(400, "The request body is not valid JSON: %s." % exc, field="body")


class LabRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ips-lab"
    sys_version = ""
    timeout = 60

    def _serve(self):
        lab = self.server.app
        transaction = self.headers.get("Citrix-TransactionId") or str(uuid.uuid4())
        try:
            body = self._read_body()
        except ApiError as exc:
            self.close_connection = True
            return self._answer(exc.status, exc.body(), transaction, exc.headers)
        req = Request(self.command, self.path, self.headers, body)
        if req.route == "/_lab" or req.route.startswith("/_lab/"):
            return self._answer(*self._call(admin_api.dispatch, lab, req), transaction=transaction)
        fault = lab.faults.take(req.method, req.path)
        if fault and fault["action"] == "drop":
            self.close_connection = True
            lab.recorder.record(req.method, req.path, req.query, None, req.headers, fault=fault["id"])
            return
        if fault and fault["action"] == "slow":
            time.sleep(fault["delay"])
        if fault and fault["action"] == "status":
            extra = {} if fault["retry_after"] is None else {"Retry-After": "%g" % fault["retry_after"]}
            status, answer, headers = fault["status"], ApiError(fault["status"], "Injected fault %s." % fault["id"]).body(), extra
        else:
            status, answer, headers = self._call(self._dispatch, lab, req)
        lab.recorder.record(req.method, req.path, req.query, status, req.headers, fault=fault["id"] if fault else None)
        self._answer(status, answer, headers, transaction)

    @staticmethod
    def _dispatch(lab, req):
        if daas_routes.owns(req.route):
            return daas_routes.dispatch(lab.daas, lab.tokens, req)
        return routes.dispatch(lab, req)

    def _call(self, func, lab, req):
        try:
            return func(lab, req)
        except ApiError as exc:
            return exc.status, exc.body(), exc.headers
        except Exception as exc:  # answer 500 rather than drop the connection on a lab bug
            LOG.exception("lab error on %s %s", req.method, req.path)
            return 500, ApiError(500, "The lab failed: %s" % exc).body(), {}

    def _read_body(self):
        if self.headers.get("Transfer-Encoding"):
            raise ApiError(400, "Chunked request bodies are not supported; send Content-Length.", field="Transfer-Encoding")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ApiError(400, "The Content-Length header is not a number.", field="Content-Length")
        if length > MAX_BODY:
            raise ApiError(413, "The request body is larger than %d bytes." % MAX_BODY, field="body")
        return self.rfile.read(length) if length > 0 else b""

    def _answer(self, status, body, headers=None, transaction=None):
        self.send_response(status)
        self.send_header("Citrix-TransactionId", transaction or str(uuid.uuid4()))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        data = b"" if status == 204 or body is None else json.dumps(body).encode("utf-8")
        if data:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        if status != 204:  # a 204 carries no Content-Length at all
            self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        LOG.debug("%s %s", self.address_string(), format % args)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

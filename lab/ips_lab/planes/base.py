"""What the three cloud planes share: a JSON document store in sqlite, the request handler with a
small request object (which also applies the plane's fault rules, records its requests and serves
its `/_lab/` admin API, see faults.py) on the lab's one server (common/server.py), and forwarding to
the stand-in behind a plane.

Request logs name the method and the path only, never the query string (SAS signatures) nor
headers (tokens).
"""

import datetime
import http.client
import json
import logging
import socket
import sqlite3
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

from ..common.server import Serving

LOG = logging.getLogger(__name__)


class HttpError(Exception):
    """An answer other than success: status, a body (dict, bytes or None) and extra headers."""

    def __init__(self, status, body=None, headers=None, content_type="application/json"):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.content_type = content_type


class ClientGone(Exception):
    """The client stopped sending its body (it stalled past the handler's timeout) or went away mid-request:
    nothing to answer, nothing to log but a line."""


# --- persistent state ---------------------------------------------------------------------------

class DocStore(object):
    """JSON documents by (kind, key) in one sqlite file; `lock` serialises read-modify-write."""

    def __init__(self, path):
        self.lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS docs (kind TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL,"
                         " doc TEXT NOT NULL, PRIMARY KEY (kind, key))")

    def get(self, kind, key):
        with self.lock:
            row = self._db.execute("SELECT doc FROM docs WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, kind, key, doc):
        with self.lock:
            row = self._db.execute("SELECT seq FROM docs WHERE kind = ? AND key = ?", (kind, key)).fetchone()
            if row:
                self._db.execute("UPDATE docs SET doc = ? WHERE kind = ? AND key = ?", (json.dumps(doc), kind, key))
            else:
                seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM docs").fetchone()[0]
                self._db.execute("INSERT INTO docs (kind, key, seq, doc) VALUES (?, ?, ?, ?)", (kind, key, seq, json.dumps(doc)))

    def delete(self, kind, key):
        with self.lock:
            self._db.execute("DELETE FROM docs WHERE kind = ? AND key = ?", (kind, key))

    def list(self, kind, prefix=""):
        """Documents of a kind whose key starts with `prefix`, in creation order."""
        with self.lock:
            rows = self._db.execute("SELECT key, doc FROM docs WHERE kind = ? AND substr(key, 1, ?) = ? ORDER BY seq",
                                    (kind, len(prefix), prefix)).fetchall()
        return [json.loads(doc) for _key, doc in rows]

    def execute(self, sql, params=()):
        """Run one statement on the plane's own tables; returns all rows."""
        with self.lock:
            return self._db.execute(sql, params).fetchall()

    def close(self):
        with self.lock:
            self._db.close()


# --- HTTP ---------------------------------------------------------------------------------------

class Request(object):
    """One request: method, path (decoded), query params (first value), headers, handler."""

    def __init__(self, handler):
        parts = urlsplit(handler.path)
        self.handler = handler
        self.method = handler.command
        self.raw_path = parts.path
        self.path = unquote(parts.path)
        self.query = parts.query
        self.params = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        self.headers = handler.headers
        self._body = None

    @property
    def length(self):
        try:
            return int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise HttpError(400, {"message": "Content-Length is not a number"})

    def body(self, limit=16 * 1024 * 1024):
        """The whole body (read once). Over `limit` bytes: the connection is closed after the answer."""
        if self._body is None:
            if self.headers.get("Transfer-Encoding"):
                self.handler.close_connection = True
                raise HttpError(411, {"message": "send Content-Length, not a chunked body"})
            if self.length > limit:
                self.handler.close_connection = True
                raise HttpError(413, {"message": "request body over %d bytes" % limit})
            try:
                self._body = self.handler.rfile.read(self.length) if self.length > 0 else b""
            except OSError as exc:  # a timeout too: the client stalled mid-body
                self.handler.close_connection = True
                raise ClientGone("reading the body: %s" % (exc or type(exc).__name__))
            if len(self._body) < self.length:
                self.handler.close_connection = True
                raise ClientGone("the body ended after %d of %d bytes" % (len(self._body), self.length))
        return self._body

    def json(self):
        data = self.body()
        if not data:
            return {}
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise HttpError(400, {"message": "the body is not valid JSON: %s" % exc})

    def discard_body(self, limit=64 * 1024 * 1024):
        """Read and drop an unread body (up to `limit` bytes; beyond, the connection is closed after
        the answer) so that the client, still sending, gets to read the answer."""
        if self._body is not None or self.headers.get("Transfer-Encoding"):
            return
        try:
            remaining = self.length
        except HttpError:
            remaining = 0
            self.handler.close_connection = True
        if remaining > limit:
            self.handler.close_connection = True
            return
        while remaining > 0:
            try:
                chunk = self.handler.rfile.read(min(remaining, 1024 * 1024))
            except OSError as exc:
                self.handler.close_connection = True
                raise ClientGone("reading the body: %s" % (exc or type(exc).__name__))
            if not chunk:
                self.handler.close_connection = True
                break
            remaining -= len(chunk)
        self._body = b""


class Answer(object):
    """A success answer: status, body (dict → JSON, bytes, or an iterator of bytes with a length)."""

    def __init__(self, status=200, body=None, headers=None, content_type="application/json", length=None):
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.content_type = content_type
        self.length = length


class PlaneHandler(BaseHTTPRequestHandler):
    """Dispatches every method to `self.server.app.handle(request)` (the plane), which returns an
    Answer or raises HttpError."""

    protocol_version = "HTTP/1.1"
    server_version = "ips-lab"
    sys_version = ""
    timeout = 120

    def setup(self):
        super().setup()
        # Headers and body leave in separate writes: without TCP_NODELAY, Nagle and the client's
        # delayed ACK add ~40 ms to every answer.
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def handle_one_request(self):
        """One request; a client that stalls or leaves mid-request ends its connection with a log line, never a traceback
        (a stalled upload is an everyday event for a cloud front)."""
        try:
            super().handle_one_request()
        except ClientGone as exc:
            LOG.info("%s %s: the client went away (%s)", self.command, urlsplit(self.path).path, exc)
            self.close_connection = True
        except OSError as exc:  # the answer could not be written: the client has gone
            LOG.info("%s %s: the client went away (%s)", getattr(self, "command", "-"), urlsplit(getattr(self, "path", "") or "").path,
                     exc or type(exc).__name__)
            self.close_connection = True

    def _serve(self):
        plane = self.server.app
        lab = getattr(plane, "lab", None)  # faults.PlaneLab: the /_lab/ API, fault rules, recorded requests
        request = Request(self)
        if hasattr(plane, "normalise"):
            plane.normalise(request)  # e.g. a real host name folded into the path the plane knows (azure_plane)
        if lab is not None and lab.is_admin(request):
            answer = self._answer(lab.admin, request)
            request.discard_body()
            self._send(answer)
            return
        started = time.time()
        fault = lab.take(request.method, request.path) if lab is not None else None
        request.fault = fault  # a plane's own fault action (the EBS front's `lose`) is carried out in its handle()
        if fault and fault["action"] == "drop":
            # The whole request arrives, then the connection closes with no answer at all.
            request.discard_body()
            lab.record(request, None, started, fault)
            LOG.info("%s %s -> dropped (fault %s)", request.method, request.path, fault["id"])
            self.close_connection = True
            return
        if fault and fault["action"] == "slow":
            time.sleep(fault["delay"])
        if fault and fault["action"] == "status":
            answer = lab.fault_answer(plane, fault, request)
        else:
            answer = self._answer(plane.handle, request)
        request.discard_body()
        if lab is not None:
            lab.record(request, answer.status, started, fault)
        self._send(answer)

    def _answer(self, func, request):
        try:
            return func(request)
        except HttpError as exc:
            return Answer(exc.status, exc.body, exc.headers, exc.content_type)
        except ClientGone:
            raise
        except Exception as exc:  # answer 500 rather than drop the connection on a lab bug
            LOG.exception("%s failed on %s %s", type(self.server.app).__name__, request.method, request.path)
            return Answer(500, {"message": "lab plane error: %s" % type(exc).__name__})

    def _send(self, answer):
        body = answer.body
        chunks = None
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode("utf-8")
        elif body is None:
            data = b""
        elif isinstance(body, bytes):
            data = body
        else:
            chunks, data = body, None
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if (data or chunks is not None) and answer.content_type and "Content-Type" not in answer.headers:
            self.send_header("Content-Type", answer.content_type)
        if answer.status != 204 and "Content-Length" not in answer.headers:
            self.send_header("Content-Length", str(len(data) if data is not None else answer.length))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        if data:
            self.wfile.write(data)
        elif chunks is not None:
            for chunk in chunks:
                self.wfile.write(chunk)

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass

    def log_request(self, code="-", size="-"):
        LOG.info("%s %s -> %s", self.command, urlsplit(self.path).path, code)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve


class Running(Serving):
    """A plane served in a thread (the lab's one server, common/server.py): .url, .port, .plane, .stop()."""

    def __init__(self, plane, host, port, cert=None, key=None):
        super().__init__((host, port), PlaneHandler, plane, cert, key, name="ips-lab-plane")
        self.plane = plane
        plane.bound(self.url)
        self.start()

    def stop(self):
        super().stop()
        self.plane.close()


def forward(base_url, method, path_query, headers=None, body=None, timeout=120):
    """One request to a plain-HTTP stand-in; returns the open http.client response (read it,
    then close the connection via response.connection_close())."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request(method, path_query, body=body, headers=headers or {})
        response = conn.getresponse()
    except Exception:
        conn.close()
        raise
    response.connection_close = conn.close
    return response


def forward_read(base_url, method, path_query, headers=None, body=None, timeout=120):
    """forward() and read it all: (status, headers dict, body bytes)."""
    response = forward(base_url, method, path_query, headers, body, timeout)
    try:
        data = response.read()
        return response.status, dict(response.getheaders()), data
    finally:
        response.connection_close()


# --- small things -------------------------------------------------------------------------------

def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(ts, sep="T", digits=7):
    """An ISO 8601 UTC time like ARM's 2026-01-02T03:04:05.1234567+00:00."""
    moment = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    text = moment.strftime("%Y-%m-%d" + sep + "%H:%M:%S")
    if digits:
        text += ".%s" % ("%06d" % moment.microsecond + "0")[:digits]
    return text + "+00:00"


def now():
    return time.time()


def main_guard(module_main):
    sys.exit(module_main())

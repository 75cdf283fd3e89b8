"""HTTP of the Windows host: POST /wsman (authenticated, WS-Management) and /_lab/ (admin, JSON).

One handler instance serves one TCP connection, so the NTLM context and the authenticated user live on
it, as on a WinRM listener. A dropped-connection fault closes the socket without an answer.
"""

import base64
import json
import logging
import socket
import time
from http.server import BaseHTTPRequestHandler

from ..common.errors import ApiError
from . import admin_api, wsman
from .auth import CHALLENGES, AuthFailed, ConnectionAuth

LOG = logging.getLogger(__name__)
MAX_BODY = 16 * 1024 * 1024
SOAP_TYPE = "application/soap+xml;charset=UTF-8"


class DropConnection(Exception):
    """Close the TCP connection without an answer (fault injection)."""


class StatusAnswer(Exception):
    """Answer an HTTP error status with an empty body instead of the request (fault injection)."""

    def __init__(self, rule):
        super().__init__(rule["status"])
        self.status = rule["status"]
        self.headers = {} if rule.get("retry_after") is None else {"Retry-After": "%g" % rule["retry_after"]}


class WinHostHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    timeout = 120
    disable_nagle_algorithm = True  # small WSMan answers otherwise wait ~40 ms for the client's ACK

    def setup(self):
        super().setup()
        self._auth = ConnectionAuth(self.server.app.accounts)

    def _serve(self):
        host = self.server.app
        try:
            body = self._read_body()
        except ApiError as exc:
            self.close_connection = True
            return self._send(exc.status, json.dumps(exc.body()).encode(), "application/json")
        path = self.path.split("?", 1)[0]
        if path == "/_lab" or path.startswith("/_lab/"):
            return self._admin(host, path, body)
        if path.lower() != "/wsman":
            return self._send(404, b"", None)
        if self.command != "POST":
            return self._send(405, b"", None, {"Allow": "POST"})
        try:
            user, token, scheme = self._auth.check(self.headers.get("Authorization"))
        except AuthFailed:
            self.close_connection = True
            return self._send(401, b"", None, challenges=CHALLENGES)
        if user is None:
            if token is not None:  # the NTLM handshake goes on, on this connection
                return self._send(401, b"", None, challenges=("%s %s" % (scheme, _b64(token)),))
            return self._send(401, b"", None, challenges=CHALLENGES)
        extra = {"WWW-Authenticate": "%s %s" % (scheme, _b64(token))} if token else {}
        try:
            answer = self._wsman(host, body)
        except DropConnection:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return None
        except StatusAnswer as exc:
            return self._send(exc.status, b"", None, exc.headers)
        status, data = answer
        return self._send(status, data, SOAP_TYPE, extra)

    def _wsman(self, host, body):
        message_id = None
        try:
            req = wsman.Request(body)
            message_id = req.message_id
            return 200, self._dispatch(host, req)
        except wsman.WsmanFault as exc:
            return 500, wsman.fault(message_id, exc)
        except (DropConnection, StatusAnswer):
            raise
        except Exception as exc:  # answer a fault rather than drop the connection on a lab bug
            LOG.exception("winhost error")
            return 500, wsman.fault(message_id, wsman.WsmanFault(wsman.BAD_REQUEST, "The lab's Windows host failed: %s" % exc))

    def _dispatch(self, host, req):
        endpoint = "https://%s:%d/wsman" % self.server.server_address[:2]
        if req.action == "Create":
            wanted, creation = req.creation_xml()
            shell = host.shells.create(wanted, self.client_address[0])
            shell.feed(creation)
            return wsman.response(req, wsman.create_body(shell.id, endpoint, self.client_address[0]), endpoint)
        shell = host.shells.get(req.shell_id)
        if req.action == "Delete":
            host.shells.delete(shell.id)
            return wsman.response(req, "", endpoint)
        if req.action == "Command":
            command_id, data = req.command()
            shell.new_pipeline(command_id)
            self._start_created(host, shell, shell.feed(data, command_id))
            return wsman.response(req, wsman.command_body(command_id), endpoint)
        if req.action == "Send":
            command_id, data = req.send()
            self._start_created(host, shell, shell.feed(data, command_id))
            return wsman.response(req, wsman.send_body(), endpoint)
        if req.action == "Receive":
            command_id = req.receive()
            if command_id:
                self._receive_faults(host, shell.cmdlets.get(command_id))
            chunks, done = shell.receive(command_id, req.timeout)
            return wsman.response(req, wsman.receive_body(chunks, command_id, done), endpoint)
        if req.action == "Signal":
            command_id, code = req.signal()
            shell.signal(command_id, stop=(code == wsman.SIGNAL_CTRL_C))
            return wsman.response(req, wsman.signal_body(), endpoint)
        raise wsman.WsmanFault(wsman.ACTION_NOT_SUPPORTED, "Unsupported action %s." % req.action_uri)

    @staticmethod
    def _receive_faults(host, cmdlets):
        """The fault rules for a Receive of a pipeline running `cmdlets`: drop, answer late, answer an error status."""
        if host.faults.take("drop", cmdlet=cmdlets):
            raise DropConnection()
        slow = host.faults.take("slow", cmdlet=cmdlets)
        if slow:
            time.sleep(slow["delay"])
        status = host.faults.take("status", cmdlet=cmdlets)
        if status:
            raise StatusAnswer(status)

    @staticmethod
    def _start_created(host, shell, created):
        for command_id, metadata in created:
            shell.start(command_id, metadata, host.appliance.run)

    def _admin(self, host, path, body):
        try:
            parsed = json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, ValueError) as exc:
            return self._send(400, json.dumps(ApiError(400, "The body is not JSON: %s" % exc).body()).encode(), "application/json")
        try:
            status, answer = admin_api.dispatch(host, self.command, path, self.headers, parsed)
        except ApiError as exc:
            status, answer = exc.status, exc.body()
        data = b"" if answer is None else json.dumps(answer).encode("utf-8")
        return self._send(status, data, "application/json" if data else None)

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

    def _send(self, status, data, content_type, headers=None, challenges=()):
        self.send_response(status)
        for challenge in challenges:
            self.send_header("WWW-Authenticate", challenge)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if content_type and data:
            self.send_header("Content-Type", content_type)
        if status != 204:
            self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if data and status != 204:
            self.wfile.write(data)

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        LOG.debug("%s %s", self.address_string(), format % args)

    do_GET = do_POST = do_PUT = do_DELETE = _serve


def _b64(token):
    return base64.b64encode(token).decode("ascii")

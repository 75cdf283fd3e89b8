"""A real local HTTPS server standing in for Citrix Cloud, scripted per test.

The client under test talks to it over TLS on 127.0.0.1 exactly as it would to api-us.cloud.com:
nothing in the client is patched. Each test queues canned answers (or faults: a dropped
connection, a reset, a stall) and then reads back what the server received.
"""

import datetime
import ipaddress
import json
import socket
import ssl
import struct
import threading
import time
from collections import deque, namedtuple
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SECRET = "s3cr3t-Client-Secret-value"
CUSTOMER = "cust-1"
CLIENT_ID = "client-1"
TOKEN_PREFIX = "/cctrustoauth2/"

Received = namedtuple("Received", ["method", "path", "query", "headers", "body"])


# --- PKI --------------------------------------------------------------------------------------

def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


PKI = namedtuple("PKI", ["ca", "other_ca", "cert", "key"])


def make_pki(d):
    """A throwaway CA, a server certificate for 127.0.0.1 it signed, and an unrelated CA, as PEM files in `d`."""
    ca_key, ca = _ca("ips unit test CA")
    other = _ca("some other CA")[1]
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = PKI(d / "ca.pem", d / "other-ca.pem", d / "server.pem", d / "server.key")
    paths.ca.write_bytes(_pem(ca))
    paths.other_ca.write_bytes(_pem(other))
    paths.cert.write_bytes(_pem(cert))
    paths.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths


# --- scripted answers -------------------------------------------------------------------------

def reply(status=200, body=None, headers=None):
    """Answer with `status` and a JSON (dict/list) or text (str) body."""
    def run(handler):
        payload = body if isinstance(body, bytes) else (body.encode("utf-8") if isinstance(body, str) else json.dumps(body).encode("utf-8"))
        if body is None:
            payload = b""
        handler.send_response(status)
        handler.send_header("Content-Type", "text/plain" if isinstance(body, str) else "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(payload)
    return run


def drop():
    """Close the connection without answering (the client sees RemoteDisconnected)."""
    def run(handler):
        handler.close_connection = True
    return run


def stall(seconds, then=None):
    """Answer only after `seconds` (longer than the client's timeout in the tests that use it)."""
    def run(handler):
        time.sleep(seconds)
        (then or reply(200, {}))(handler)
    return run


class FakeCloud:
    """What the server answers, and what it received."""

    def __init__(self):
        self.received = []
        self.api_script = deque()
        self.token_script = deque()
        self.tokens_issued = 0
        self.expires_in = "3600"
        self.tls_failures = 0
        # Connections to abort with a TCP RST as soon as they are accepted, before TLS.
        self.resets = 0
        self.lock = threading.Lock()
        self.url = None

    def api(self, *actions):
        self.api_script.extend(actions)

    def token(self, *actions):
        self.token_script.extend(actions)

    @property
    def token_requests(self):
        return [r for r in self.received if r.path.startswith(TOKEN_PREFIX)]

    @property
    def api_requests(self):
        return [r for r in self.received if not r.path.startswith(TOKEN_PREFIX)]

    def next_action(self, rec):
        with self.lock:
            self.received.append(rec)
            if rec.path.startswith(TOKEN_PREFIX):
                if self.token_script:
                    return self.token_script.popleft()
                self.tokens_issued += 1
                return reply(200, {"token_type": "bearer", "access_token": "tok-%d" % self.tokens_issued, "expires_in": self.expires_in})
            return self.api_script.popleft() if self.api_script else reply(200, {})


class _Handler(BaseHTTPRequestHandler):
    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        headers = dict((k.lower(), v) for k, v in self.headers.items())
        rec = Received(self.command, split.path, parse_qs(split.query), headers, body)
        self.server.cloud.next_action(rec)(self)

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def log_message(self, *args):
        pass


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, cloud, context):
        self.cloud = cloud
        self.context = context
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request, client_address):
        with self.cloud.lock:
            abort = self.cloud.resets > 0
            self.cloud.resets -= abort
        if abort:
            # Reset in the TCP layer: over TLS, Python reports a reset after the handshake as a
            # plain close, so the reset is sent before it to reach the client as ECONNRESET.
            request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            request.close()
            return
        # The TLS handshake runs here, in the request's own thread, so a client that rejects the
        # certificate cannot stall the accept loop.
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            self.cloud.tls_failures += 1
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            tls.close()

    def handle_error(self, request, client_address):
        pass  # clients that give up (timeouts, TLS failures) are part of the tests


def start(pki):
    """Serve a new FakeCloud over TLS on a free loopback port; returns (cloud, stop)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pki.cert), str(pki.key))
    fake = FakeCloud()
    server = _TLSServer(fake, context)
    fake.url = "https://127.0.0.1:%d" % server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        server.server_close()
    return fake, stop


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds

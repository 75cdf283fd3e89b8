"""The real-host proxy: an HTTPS forward proxy on loopback that plays the clouds' own host names.

A client with `HTTPS_PROXY=http://127.0.0.1:PORT` and the proxy's CA as its bundle (REQUESTS_CA_BUNDLE,
SSL_CERT_FILE, AWS_CA_BUNDLE, ...) sends `CONNECT management.azure.com:443`; the proxy answers 200, takes the
TLS handshake with a certificate of that very name from its CA (tls.host_certificate), opens a connection to
the stand-in that plays the host (hosts.py; TLS verified against the stand-in's own CA where it has one) and
carries the bytes both ways. The stand-in sees the request as the client wrote it, `Host` header included,
so it can answer with real-shaped URLs (a disk SAS on md-....blob.storage.azure.net).

Refused, with a plain-text reason: anything but CONNECT (405), a port other than 443 or a host the lab does
not play (403: nothing leaves the machine), a part of the lab that is not configured (502).
"""

import logging
import select
import socket
import socketserver
import ssl
import threading
from urllib.parse import urlsplit

from ..common.server import serve_main
from ..common.tls import ensure_ca, host_certificate
from .hosts import part_for

LOG = logging.getLogger(__name__)
HEAD_LIMIT = 64 * 1024
HANDSHAKE_TIMEOUT = 10
IDLE_TIMEOUT = 300
CHUNK = 256 * 1024


class RealHosts(object):
    """What the proxy serves: per-host server contexts, and where each part of the lab listens."""

    def __init__(self, state_dir, upstreams):
        self.state_dir = str(state_dir)
        self.ca_path = ensure_ca(self.state_dir)[0]
        self.upstreams = upstreams  # part -> {"url": ..., "ca": path or None}
        self._contexts = {}
        self._lock = threading.Lock()

    def server_context(self, host):
        with self._lock:
            context = self._contexts.get(host)
            if context is None:
                cert, key = host_certificate(self.state_dir, host)
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.minimum_version = ssl.TLSVersion.TLSv1_2
                context.load_cert_chain(cert, key)
                self._contexts[host] = context
            return context

    def connect_upstream(self, part):
        """An open (TLS where the stand-in has it) connection to the stand-in of `part`."""
        upstream = self.upstreams[part]
        url = urlsplit(upstream["url"])
        sock = socket.create_connection((url.hostname, url.port), timeout=HANDSHAKE_TIMEOUT)
        if url.scheme != "https":
            return sock
        context = ssl.create_default_context(cafile=upstream.get("ca"))
        try:
            return context.wrap_socket(sock, server_hostname=url.hostname)
        except (OSError, ssl.SSLError):
            sock.close()
            raise


def _reply(conn, status, reason, text):
    body = (text + "\n").encode("utf-8")
    head = "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (
        status, reason, len(body))
    try:
        conn.sendall(head.encode("ascii") + body)
    except OSError:
        pass


def _read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > HEAD_LIMIT:
            return None
    return data.split(b"\r\n\r\n", 1)[0].decode("latin-1")


def _pipe(a, b, idle):
    """Carry bytes both ways until either side closes, fails, or both stay silent for `idle` seconds.

    One thread for both directions (an SSL socket must not be read and written from two threads at once), on
    non-blocking sockets: a readable TLS socket may hold no application data (a TLS 1.3 session ticket), and a
    blocking read there would stall the other direction."""
    peer = {a: b, b: a}
    for sock in (a, b):
        sock.setblocking(False)
    while True:
        ready = [s for s in (a, b) if isinstance(s, ssl.SSLSocket) and s.pending()]
        if not ready:
            ready = select.select([a, b], [], [], idle)[0]
            if not ready:
                return
        for src in ready:
            try:
                data = src.recv(CHUNK)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                continue
            if not data:
                return
            _send_all(peer[src], data, idle)


def _send_all(sock, data, idle):
    view = memoryview(data)
    while view:
        try:
            sent = sock.send(view)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
            if not select.select([], [sock], [], idle)[1]:
                raise OSError("the peer took nothing for %d s" % idle)
            continue
        view = view[sent:]


class ProxyHandler(socketserver.BaseRequestHandler):
    def handle(self):
        app = self.server.app
        conn = self.request
        conn.settimeout(HANDSHAKE_TIMEOUT)
        try:
            head = _read_head(conn)
        except OSError:
            return
        if not head:
            return
        method, _sep, rest = head.split("\r\n", 1)[0].partition(" ")
        target = rest.split(" ", 1)[0]
        if method != "CONNECT":
            _reply(conn, 405, "Method Not Allowed", "ips-lab proxy: only CONNECT host:443 is served (the lab plays HTTPS hosts only)")
            return
        host, _sep, port = target.rpartition(":")
        host = host.strip("[]").lower()
        part = part_for(host)
        if port != "443" or part is None:
            LOG.warning("refused CONNECT %s", target)
            _reply(conn, 403, "Forbidden", "ips-lab proxy: %s is not a host the lab plays (see lab/ips_lab/realhosts/hosts.py)" % target)
            return
        if part not in app.upstreams:
            _reply(conn, 502, "Bad Gateway", "ips-lab proxy: the lab part %r that plays %s is not running" % (part, host))
            return
        try:
            upstream = app.connect_upstream(part)
        except (OSError, ssl.SSLError) as exc:
            _reply(conn, 502, "Bad Gateway", "ips-lab proxy: the lab part %r that plays %s does not answer (%s)" % (part, host, exc))
            return
        try:
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            client = app.server_context(host).wrap_socket(conn, server_side=True)
        except (OSError, ssl.SSLError) as exc:
            # a client that does not trust the lab's CA ends here: its own error names the certificate
            LOG.info("TLS with the client for %s failed: %s", host, exc)
            upstream.close()
            return
        try:
            _pipe(client, upstream, IDLE_TIMEOUT)
        except (OSError, ssl.SSLError):
            pass  # one side went away: nothing to tell anyone
        finally:
            for sock in (upstream, client):
                try:
                    sock.close()
                except OSError:
                    pass


class ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, app):
        self.app = app
        super().__init__(address, ProxyHandler)


class Running(object):
    """The proxy answering in a thread: .url, .port, .stop()."""

    def __init__(self, app, host, port):
        self.app = app
        self.httpd = ProxyServer((host, int(port)), app)
        self.port = self.httpd.server_address[1]
        self.url = "http://%s:%d" % (host, self.port)
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="ips-lab-proxy",
                                        daemon=True)
        self._thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(10)


def build(state_dir, config):
    return Running(RealHosts(state_dir, config["upstreams"]), config["host"], config["port"])


def main(argv=None):
    return serve_main("ips_lab.realhosts.proxy", build, argv)


if __name__ == "__main__":
    raise SystemExit(main())

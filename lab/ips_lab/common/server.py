"""The one HTTP(S) server of the lab's Python stand-ins (the Citrix Cloud stand-in and the cloud
planes), its thread, and the process main they all run under.

TLS handshakes happen in each connection's own thread, so a client that connects and stalls never
blocks the accept loop. A request handler reaches what it serves as `self.server.app`.
"""

import argparse
import json
import logging
import signal
import socket
import ssl
import threading
from http.server import ThreadingHTTPServer

from .tls import server_context

HANDSHAKE_TIMEOUT = 10


def host_name(headers):
    """The host name a request's Host header names, without the port, in lower case (a real one through the real-host
    proxy, 127.0.0.1 at the stand-in's own URL); the request logs keep it."""
    return (headers.get("Host") or "").rsplit(":", 1)[0].strip("[]").lower()


class LoopbackServer(ThreadingHTTPServer):
    """A threaded HTTP server, HTTPS when given an SSL context; `app` is what the handlers serve."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address, handler_class, app, ssl_context=None):
        self.app = app
        self.ssl_context = ssl_context
        super().__init__(address, handler_class)

    def finish_request(self, request, client_address):
        if self.ssl_context is None:
            return super().finish_request(request, client_address)
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return None
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            tls.close()
        return None


class Serving(object):
    """A LoopbackServer answering in a thread: .httpd, .port, .url; start() and stop().

    With `cert` and `key` (PEM paths, see tls.ensure_ca) it serves HTTPS.
    """

    def __init__(self, address, handler_class, app, cert=None, key=None, name="ips-lab-server"):
        host, port = address
        self.httpd = LoopbackServer((host, int(port)), handler_class, app, server_context(cert, key) if cert else None)
        self.port = self.httpd.server_address[1]
        self.url = "%s://%s:%d" % ("https" if cert else "http", "[%s]" % host if ":" in host else host, self.port)
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(10)


def serve_main(prog, build, argv=None):
    """`python -m <prog> --state-dir DIR --config FILE`: build(state_dir, config) returns a started
    server with .url and .stop(); print READY <url>, stop on SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with open(args.config) as src:
        config = json.load(src)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    running = build(args.state_dir, config)
    print("READY %s" % running.url, flush=True)
    while not stopping.wait(0.5):
        pass
    running.stop()
    return 0

"""The HTTPS server of the stand-in (loopback only), and start_in_thread() for tests.

TLS handshakes happen in each connection's own thread, so a client that connects and stalls
never blocks the accept loop.
"""

import socket
import ssl
import threading
from http.server import ThreadingHTTPServer

from ..admin import LabAdmin
from .handler import LabRequestHandler
from .lab import Lab
from .tls import ensure_ca

HANDSHAKE_TIMEOUT = 10


class LabHTTPSServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, lab, ssl_context):
        self.lab = lab
        self.ssl_context = ssl_context
        super().__init__(address, LabRequestHandler)

    def finish_request(self, request, client_address):
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            tls.close()


class LabServer(object):
    """A running stand-in: .url, .port, .ca_path, .admin (a LabAdmin), .lab, .stop()."""

    def __init__(self, state_dir, config):
        self.lab = Lab(state_dir, config)
        self.ca_path, cert, key = ensure_ca(state_dir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert, key)
        try:
            self.httpd = LabHTTPSServer((self.lab.config["host"], int(self.lab.config["port"])), self.lab, context)
        except OSError:
            self.lab.close()
            raise
        self.port = self.httpd.server_address[1]
        self.url = "https://127.0.0.1:%d" % self.port
        self.admin = LabAdmin(self.url, self.lab.config["admin_token"], self.ca_path)
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="ips-lab-https", daemon=True)

    def start(self):
        self.lab.start()
        self._thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(10)
        self.lab.close()


def start_in_thread(state_dir, config):
    """Start the stand-in in this process (port 0 picks a free port); returns the LabServer."""
    return LabServer(state_dir, config).start()

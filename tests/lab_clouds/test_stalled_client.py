"""A client that stalls mid-upload (sends headers and part of its body, then nothing) is an everyday event for a
cloud front: the plane ends that connection when its read times out, with a log line and no traceback in its log,
and keeps serving everyone else. In process (the GCE plane, which needs no other stand-in), with the handler's read
timeout shortened so the test does not wait the real two minutes."""

import logging
import socket

import pytest

from ips_lab.planes import base
from ips_lab.planes.gce_plane import start

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("stop", ["stall", "close"])
def test_a_stalled_or_vanished_client_leaves_no_traceback(tmp_path, monkeypatch, caplog, capfd, stop):
    monkeypatch.setattr(base.PlaneHandler, "timeout", 0.5)
    running = start(str(tmp_path), {"project": "p", "token": "t0ken", "gcs_url": "http://127.0.0.1:9", "host": "127.0.0.1", "port": 0})
    try:
        caplog.set_level(logging.INFO)
        sock = socket.create_connection(("127.0.0.1", running.port), timeout=10)
        sock.sendall(b"POST /compute/v1/projects/p/global/images HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0ken\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"name\": ")
        if stop == "close":
            sock.close()
        else:
            assert sock.recv(4096) == b""  # the plane closes the connection once its read times out
            sock.close()
        # the plane still serves, and said what happened in one line
        other = socket.create_connection(("127.0.0.1", running.port), timeout=10)
        other.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert other.recv(4096).startswith(b"HTTP/1.1 200")
        other.close()
    finally:
        running.stop()
    logged = caplog.text + capfd.readouterr().err
    assert "Traceback" not in logged, logged
    assert "the client went away" in caplog.text

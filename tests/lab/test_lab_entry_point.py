"""The stand-in as the lab's process manager runs it: python -m ips_lab.cloud, READY line, SIGTERM."""

import json
import os
import signal
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

from ipslab_helpers import lab_config

from ips_lab.cloud.tls import ensure_ca

LAB_DIR = Path(__file__).resolve().parents[2] / "lab"


def test_module_prints_ready_serves_tls_and_stops_on_sigterm(tmp_path):
    config_file = tmp_path / "cloud.json"
    config_file.write_text(json.dumps(lab_config()))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(LAB_DIR), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "ips_lab.cloud", "--state-dir", str(tmp_path / "state"), "--config", str(config_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("READY https://127.0.0.1:"), line + proc.stderr.read()
        url = line.split(" ", 1)[1]
        ca_path = ensure_ca(tmp_path / "state")[0]  # the same files the server uses, not new ones
        ctx = ssl.create_default_context(cafile=ca_path)
        with urllib.request.urlopen(url + "/info/powershellModuleVersions", context=ctx, timeout=10) as resp:
            assert resp.status == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_ensure_ca_generates_once_and_reuses(tmp_path):
    first = ensure_ca(tmp_path)
    contents = [Path(p).read_bytes() for p in first]
    assert ensure_ca(tmp_path) == first
    assert [Path(p).read_bytes() for p in first] == contents
    assert oct(Path(first[2]).stat().st_mode & 0o777) == "0o600"
    # The server certificate verifies against the CA for 127.0.0.1 and localhost.
    ctx = ssl.create_default_context(cafile=first[0])
    assert ctx.get_ca_certs()

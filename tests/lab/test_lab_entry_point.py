"""The stand-in as the lab's process manager runs it: python -m ips_lab.citrix, READY line, SIGTERM, SIGKILL + restart."""

import json
import os
import signal
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import SimpleNamespace

from ipslab_helpers import Api, common_body, lab_config

from ips_lab.common.tls import ensure_ca

LAB_DIR = Path(__file__).resolve().parents[2] / "lab"


def launch(tmp_path, config):
    """Start `python -m ips_lab.citrix`; returns (process, url) once it printed READY."""
    config_file = tmp_path / "cloud.json"
    config_file.write_text(json.dumps(config))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(LAB_DIR), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "ips_lab.citrix", "--state-dir", str(tmp_path / "state"), "--config", str(config_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline().strip()
    if not line.startswith("READY https://127.0.0.1:"):
        proc.kill()
        raise AssertionError("no READY line: %r %s" % (line, proc.communicate()[1]))
    return proc, line.split(" ", 1)[1]


def stop(proc):
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


def test_module_prints_ready_serves_tls_and_stops_on_sigterm(tmp_path):
    proc, url = launch(tmp_path, lab_config())
    try:
        ca_path = ensure_ca(tmp_path / "state")[0]  # the same files the server uses, not new ones
        ctx = ssl.create_default_context(cafile=ca_path)
        with urllib.request.urlopen(url + "/info/powershellModuleVersions", context=ctx, timeout=10) as resp:
            assert resp.status == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        stop(proc)


def test_a_killed_lab_loses_no_job(tmp_path):
    config = lab_config(job_seconds=3)
    proc, url = launch(tmp_path, config)
    try:
        api = Api(SimpleNamespace(url=url, ca_path=ensure_ca(tmp_path / "state")[0]), config)
        assert api.ips("POST", "credentials", {"id": "vc", "type": "UsernamePassword", "username": "u", "password": "p"}).status == 201
        job_id = api.ips("POST", "images/$prepare", common_body(provisioningType="Mcs", targetDiskName="d")).json["id"]
        before = api.job(job_id)
    finally:
        proc.kill()  # no goodbye: SIGKILL
        stop(proc)
    proc, url = launch(tmp_path, config)
    try:
        api2 = Api(SimpleNamespace(url=url, ca_path=ensure_ca(tmp_path / "state")[0]), config)
        api2._token = api.token
        after = api2.job(job_id)
        assert after["createdAt"] == before["createdAt"]
        assert after["overallProgressPercent"] >= before["overallProgressPercent"]
        assert api2.wait_job(job_id)["status"] == "complete"
    finally:
        stop(proc)


def test_ensure_ca_generates_once_and_reuses(tmp_path):
    first = ensure_ca(tmp_path)
    contents = [Path(p).read_bytes() for p in first]
    assert ensure_ca(tmp_path) == first
    assert [Path(p).read_bytes() for p in first] == contents
    assert oct(Path(first[2]).stat().st_mode & 0o777) == "0o600"
    # The server certificate verifies against the CA for 127.0.0.1 and localhost.
    ctx = ssl.create_default_context(cafile=first[0])
    assert ctx.get_ca_certs()

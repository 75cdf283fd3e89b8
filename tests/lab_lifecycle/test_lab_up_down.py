"""`ips-lab up` then `ips-lab down` in a private run dir: every endpoint of the env file answers
while the lab is up; afterwards no recorded pid is alive and no recorded port is listening.

The test uses its own IPS_LAB_RUN_DIR and free ports, so a lab started with `make lab-up` keeps
running undisturbed.
"""

import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "lab"
PARTS = ("samba", "azurite", "moto", "gcs", "vcsim", "cloud", "winhost")

pytestmark = pytest.mark.timeout(300)


def ips_lab(run_dir, *args):
    env = dict(os.environ)
    for key in list(env):
        if key.startswith("IPS_LAB_") or key.startswith("CITRIX_CLOUD_"):
            del env[key]
    env["IPS_LAB_RUN_DIR"] = str(run_dir)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(LAB), env.get("PYTHONPATH", "")) if p)
    return subprocess.run([sys.executable, "-m", "ips_lab.cli"] + list(args), env=env, capture_output=True,
                          text=True, timeout=240, check=False)


def read_env(path):
    values = {}
    for line in Path(path).read_text().splitlines():
        if line and not line.startswith("#"):
            key, value = line.split("=", 1)
            values[key] = value
    return values


def http_status(url, context=None):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(url, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", int(port)), timeout=1):
            return True
    except OSError:
        return False


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            stat = handle.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


@pytest.fixture()
def lab(tmp_path):
    run_dir = tmp_path / "run"
    started = ips_lab(run_dir, "up")
    records = {}
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        for part in PARTS:
            records[part] = json.loads((run_dir / "pids" / ("%s.json" % part)).read_text())
        yield run_dir, read_env(run_dir / "env"), records
    finally:
        ips_lab(run_dir, "down")


def check_smb(env):
    from smbprotocol.connection import Connection
    from smbprotocol.session import Session
    from smbprotocol.tree import TreeConnect

    connection = Connection(uuid.uuid4(), env["IPS_LAB_SMB_HOST"], int(env["IPS_LAB_SMB_PORT"]))
    connection.connect(timeout=10)
    try:
        session = Session(connection, env["IPS_LAB_SMB_USER"], env["IPS_LAB_SMB_PASSWORD"])
        session.connect()
        for share in (env["IPS_LAB_SMB_EXPORT_SHARE"], env["IPS_LAB_SMB_PVS_SHARE"]):
            tree = TreeConnect(session, r"\\%s\%s" % (env["IPS_LAB_SMB_HOST"], share))
            tree.connect()
            tree.disconnect()
    finally:
        connection.disconnect()


def test_up_answers_then_down_leaves_nothing(lab):
    run_dir, env, records = lab

    # The env file: every documented key, absolute paths, the run dir we asked for.
    contract = (REPO / "docs" / "lab.md").read_text()
    for key in env:
        assert "`%s`" % key in contract, "%s is not in docs/lab.md" % key
    for key in ("CITRIX_CLOUD_CUSTOMER_ID", "CITRIX_CLOUD_CLIENT_ID", "CITRIX_CLOUD_CLIENT_SECRET", "CITRIX_CLOUD_API_URL",
                "CITRIX_CLOUD_CA_PATH", "IPS_LAB_ADMIN_TOKEN", "IPS_LAB_RESOURCE_LOCATION_ID", "IPS_LAB_RUN_DIR",
                "IPS_LAB_SMB_HOST", "IPS_LAB_SMB_PORT", "IPS_LAB_SMB_USER", "IPS_LAB_SMB_PASSWORD", "IPS_LAB_SMB_DOMAIN",
                "IPS_LAB_SMB_EXPORT_SHARE", "IPS_LAB_SMB_EXPORT_DIR", "IPS_LAB_SMB_PVS_SHARE", "IPS_LAB_SMB_PVS_DIR",
                "IPS_LAB_AZURITE_BLOB_URL", "IPS_LAB_AZURITE_ACCOUNT", "IPS_LAB_AZURITE_KEY", "IPS_LAB_MOTO_URL",
                "IPS_LAB_GCS_URL", "IPS_LAB_VCSIM_HOST", "IPS_LAB_VCSIM_PORT", "IPS_LAB_VCSIM_USER", "IPS_LAB_VCSIM_PASSWORD"):
        assert env.get(key), "%s is missing from the env file" % key
    assert Path(env["IPS_LAB_RUN_DIR"]) == run_dir.resolve()
    for key in ("CITRIX_CLOUD_CA_PATH", "IPS_LAB_SMB_EXPORT_DIR", "IPS_LAB_SMB_PVS_DIR"):
        assert Path(env[key]).is_absolute() and Path(env[key]).exists(), key
    assert oct((run_dir / "env").stat().st_mode & 0o777) == "0o600"

    # Every endpoint answers.
    check_smb(env)
    assert http_status(env["IPS_LAB_AZURITE_BLOB_URL"] + "?comp=list") in (200, 403)
    assert http_status(env["IPS_LAB_MOTO_URL"] + "/moto-api/") == 200
    assert http_status(env["IPS_LAB_GCS_URL"] + "/storage/v1/b") == 200

    from pyVim.connect import Disconnect, SmartConnect

    vc = SmartConnect(host=env["IPS_LAB_VCSIM_HOST"], port=int(env["IPS_LAB_VCSIM_PORT"]), user=env["IPS_LAB_VCSIM_USER"],
                      pwd=env["IPS_LAB_VCSIM_PASSWORD"], disableSslCertValidation=True)
    assert vc.content.about.apiType == "VirtualCenter"
    # a fresh lab's VMs are powered off, as the service needs for an export (a newcomer's first export works)
    from pyVmomi import vim
    view = vc.content.viewManager.CreateContainerView(vc.content.rootFolder, [vim.VirtualMachine], True)
    states = dict((vm.name, str(vm.runtime.powerState)) for vm in view.view)
    assert states and set(states.values()) == {"poweredOff"}, states
    Disconnect(vc)
    # and a GCS bucket is ready for a Google Cloud upload
    assert http_status(env["IPS_LAB_GCS_URL"] + "/storage/v1/b/" + env["IPS_LAB_GCS_BUCKET"]) == 200

    # The Citrix Cloud stand-in: TLS verified against the lab CA, and it answers.
    context = ssl.create_default_context(cafile=env["CITRIX_CLOUD_CA_PATH"])
    assert env["CITRIX_CLOUD_API_URL"].startswith("https://127.0.0.1:")
    assert http_status(env["CITRIX_CLOUD_API_URL"] + "/", context=context) > 0
    # The Windows host: its WS-Management endpoint behind the same CA asks for credentials.
    assert env["IPS_LAB_WINHOST_CA_PATH"] == env["CITRIX_CLOUD_CA_PATH"]
    assert env["IPS_LAB_WINHOST_URL"] == "https://127.0.0.1:%s/wsman" % env["IPS_LAB_WINHOST_PORT"]
    assert http_status(env["IPS_LAB_WINHOST_URL"], context=context) == 405  # GET: WS-Management is POST only

    # A second `up` keeps the running processes.
    again = ips_lab(run_dir, "up")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already up" in again.stdout
    for part in PARTS:
        assert json.loads((run_dir / "pids" / ("%s.json" % part)).read_text())["pid"] == records[part]["pid"]
    status = ips_lab(run_dir, "status")
    assert status.returncode == 0, status.stdout

    # Down: no recorded pid alive, no recorded port listening, no pid file left.
    stopped = ips_lab(run_dir, "down")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    for part, record in records.items():
        assert not alive(record["pid"]), "%s (pid %s) is still running" % (part, record["pid"])
    deadline = time.monotonic() + 5
    still = [r["port"] for r in records.values() if listening(r["port"])]
    while still and time.monotonic() < deadline:
        time.sleep(0.2)
        still = [p for p in still if listening(p)]
    assert not still, "ports still listening after down: %s" % still
    assert not list((run_dir / "pids").glob("*.json"))
    assert ips_lab(run_dir, "status").returncode == 1


def test_failed_up_stops_what_it_started(tmp_path):
    """A part that cannot start (its overridden port is taken) fails `up`, which then stops the
    parts it had already started and leaves no pid record behind."""
    run_dir = tmp_path / "run"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        env = dict(os.environ)
        for key in list(env):
            if key.startswith("IPS_LAB_") or key.startswith("CITRIX_CLOUD_"):
                del env[key]
        env.update(IPS_LAB_RUN_DIR=str(run_dir), IPS_LAB_MOTO_PORT=str(port),
                   PYTHONPATH=os.pathsep.join(p for p in (str(LAB), os.environ.get("PYTHONPATH", "")) if p))
        failed = subprocess.run([sys.executable, "-m", "ips_lab.cli", "up"], env=env, capture_output=True, text=True,
                                timeout=120, check=False)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "IPS_LAB_MOTO_PORT" in failed.stderr
    started = [int(line.split("pid")[1].split()[0]) for line in failed.stdout.splitlines() if " up " in line and "pid" in line]
    assert started, failed.stdout
    for pid in started:
        assert not alive(pid), "pid %d survived a failed up" % pid
    assert not list((run_dir / "pids").glob("*.json"))
    assert not (run_dir / "env").exists()


def test_status_into_a_closed_pipe_is_quiet(tmp_path):
    """`ips-lab status | head -1`: the reader leaves early; no BrokenPipeError traceback, the usual exit code."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write of the child now fails with EPIPE
    env = dict(os.environ, IPS_LAB_RUN_DIR=str(tmp_path / "run"))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(LAB), env.get("PYTHONPATH", "")) if p)
    try:
        done = subprocess.run([sys.executable, "-m", "ips_lab.cli", "status"], env=env, stdout=write_end, stderr=subprocess.PIPE,
                              text=True, timeout=60, check=False)
    finally:
        os.close(write_end)
    assert done.returncode == 1, done.stderr  # an empty run dir: every part down, which status reports by its exit code
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr

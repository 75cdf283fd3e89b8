"""Fixtures for the lab's own tests: the stand-in in-process on a free port, a raw API client, Samba."""

import secrets

import pytest
from ipslab_helpers import Api, free_port, lab_config

from ips_lab.citrix.server import start_in_thread
from ips_lab.launchers import find_program
from ips_lab.launchers.samba import private_samba


@pytest.fixture()
def config():
    return lab_config()


@pytest.fixture()
def server(tmp_path, config):
    srv = start_in_thread(str(tmp_path / "state"), config)
    yield srv
    srv.stop()


@pytest.fixture()
def api(server, config):
    return Api(server, config)


@pytest.fixture()
def admin(server):
    return server.admin


@pytest.fixture()
def wallet(api):
    """Seed the credentials jobs refer to; returns their ids by platform."""
    creds = {
        "vsphere": {"id": "vc", "type": "UsernamePassword", "username": "administrator@vsphere.local", "password": "vc-" + secrets.token_hex(8)},
        "azure": {"id": "az", "type": "Azure", "tenantId": "t", "clientId": "c", "clientSecret": "az-" + secrets.token_hex(8)},
        "aws": {"id": "aws", "type": "Aws", "accessKeyId": "AKIA0000", "secretAccessKey": "aws-" + secrets.token_hex(8)},
        "gcp": {"id": "gcp", "type": "Gcp", "serviceAccountKey": {"type": "service_account", "project_id": "p", "client_email": "e@p",
                                                                  "private_key": "gcp-" + secrets.token_hex(8)}},
        "smb": {"id": "smb", "type": "UsernamePassword", "username": "nobody-here", "password": "smb-" + secrets.token_hex(8)},
    }
    for body in creds.values():
        resp = api.ips("POST", "credentials", body)
        assert resp.status == 201, resp.raw
    return creds


# --- Samba (reference feasibility.md section 2), started by the lab's own helper -------------


@pytest.fixture(scope="session")
def samba(tmp_path_factory):
    """smbd on a free loopback port, one share `exports`, user = the current unix user."""
    if not find_program("smbd"):
        pytest.skip("smbd is not installed (apt-get install samba): the export-over-SMB tests need a real Samba")
    base = tmp_path_factory.mktemp("samba")
    with private_samba(base, {"exports": base / "share"}, free_port()) as smb:
        yield {"host": smb.host, "port": smb.port, "user": smb.user, "password": smb.password, "share": "exports", "share_dir": base / "share"}


# --- the Windows host (App Layering appliance) stand-in, in a private lab ----------------------


@pytest.fixture(scope="session")
def winhost_lab(tmp_path_factory):
    """`ips-lab up --parts azure,cloud,winhost` in a tmp run dir (Samba, Azurite, the Azure plane, the Citrix Cloud
    stand-in for the lab CA, the Windows host); `ips-lab down` at the end."""
    from winhost_helpers import PARTS, WinhostLab, ips_lab

    run_dir = tmp_path_factory.mktemp("winhost") / "run"
    started = ips_lab(run_dir, "up", "--parts", PARTS)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield WinhostLab(run_dir)
    finally:
        ips_lab(run_dir, "down")


@pytest.fixture()
def winhost(winhost_lab):
    """The Windows host reset (no tasks, sessions, faults or calls); tasks take no lab time, only their work's."""
    winhost_lab.admin.reset()
    winhost_lab.admin.set_config(task_seconds=0)
    return winhost_lab

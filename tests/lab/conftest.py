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

"""Fixtures for the lab's own tests: the stand-in in-process on a free port, a raw API client, Samba."""

import os
import secrets
import shutil
import socket
import subprocess

import pytest
from ipslab_helpers import Api, free_port, lab_config, wait_for

from ips_lab.cloud.server import start_in_thread


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


# --- Samba (reference feasibility.md section 2) ----------------------------------------------

SMB_CONF = """[global]
  server role = standalone server
  workgroup = WORKGROUP
  netbios name = IPSLABTEST
  interfaces = 127.0.0.1
  bind interfaces only = yes
  smb ports = {port}
  disable netbios = yes
  private dir = {base}/private
  lock directory = {base}/lock
  state directory = {base}/state
  cache directory = {base}/cache
  pid directory = {base}/pid
  ncalrpc dir = {base}/ncalrpc
  log file = {base}/log/log.%m
  log level = 1
  passdb backend = tdbsam:{base}/private/passdb.tdb
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  server min protocol = SMB2_10
  map to guest = never
  usershare path =
[exports]
  path = {share}
  read only = no
  guest ok = no
"""


@pytest.fixture(scope="session")
def samba(tmp_path_factory):
    """smbd on a free loopback port, one share `exports`, user = the current unix user."""
    smbd = shutil.which("smbd") or ("/usr/sbin/smbd" if os.path.exists("/usr/sbin/smbd") else None)
    if smbd is None:
        pytest.skip("smbd is not installed (apt-get install samba): the export-over-SMB tests need a real Samba")
    base = tmp_path_factory.mktemp("samba")
    share = base / "share"
    for sub in ("private", "lock", "state", "cache", "pid", "ncalrpc", "log"):
        (base / sub).mkdir()
    share.mkdir()
    port = free_port()
    conf = base / "smb.conf"
    conf.write_text(SMB_CONF.format(base=base, port=port, share=share))
    user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    password = "Pw-" + secrets.token_hex(8)
    feed = "%s\n%s\n" % (password, password)
    if os.geteuid() == 0:
        subprocess.run([shutil.which("smbpasswd") or "/usr/bin/smbpasswd", "-c", str(conf), "-s", "-a", user], input=feed, text=True,
                       check=True, capture_output=True)
    else:
        subprocess.run([shutil.which("pdbedit") or "/usr/bin/pdbedit", "-s", str(conf), "-a", "-u", user, "-t"], input=feed, text=True,
                       check=True, capture_output=True)
    log = open(base / "smbd.out", "wb")
    # Its own session: on exit smbd signals its whole process group, which must not include pytest.
    proc = subprocess.Popen([smbd, "--foreground", "--no-process-group", "--debug-stdout", "-s", str(conf)], stdout=log, stderr=log,
                            start_new_session=True)

    def listening():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            assert proc.poll() is None, (base / "smbd.out").read_text()
            return False

    try:
        wait_for(listening, timeout=15, what="smbd on port %d" % port)
        yield {"host": "127.0.0.1", "port": port, "user": user, "password": password, "share": "exports", "share_dir": share}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()

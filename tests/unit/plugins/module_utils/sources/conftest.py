"""A private Samba server on a free loopback port, started for the session and stopped by its pid.

Every path it uses is under a temporary directory (nothing in /etc/samba is read or written); the
SMB user is the current unix user with a random password (feasibility notes, section 2).
"""

import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections import namedtuple

import pytest

from smb_helpers import free_port

Smb = namedtuple("Smb", ["host", "port", "share", "share_dir", "user", "password"])

SMB_CONF = """[global]
  server role = standalone server
  workgroup = WORKGROUP
  netbios name = IPSUNIT
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
  use sendfile = yes
  aio read size = 1
  aio write size = 1
[images]
  path = {share}
  read only = yes
  guest ok = no
"""


def wait_port(port, proc, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


@pytest.fixture(scope="session")
def smb(tmp_path_factory):
    smbd = shutil.which("smbd") or ("/usr/sbin/smbd" if os.path.exists("/usr/sbin/smbd") else None)
    if not smbd:
        pytest.skip("Samba is not installed (apt-get install samba)")
    pytest.importorskip("smbclient")
    base = tmp_path_factory.mktemp("samba")
    share = base / "share"
    for d in ("private", "lock", "state", "cache", "pid", "ncalrpc", "log"):
        (base / d).mkdir()
    share.mkdir()
    port = free_port()
    conf = base / "smb.conf"
    conf.write_text(SMB_CONF.format(port=port, base=base, share=share))
    user = pwd.getpwuid(os.getuid()).pw_name
    password = "Pw-" + secrets.token_urlsafe(12)
    tool = ["smbpasswd", "-c", str(conf), "-s", "-a", user] if os.getuid() == 0 else ["pdbedit", "-s", str(conf), "-a", "-u", user, "-t"]
    subprocess.run(tool, input="%s\n%s\n" % (password, password), text=True, check=True, capture_output=True)
    log = open(base / "smbd.out", "wb")
    proc = subprocess.Popen([smbd, "--foreground", "--no-process-group", "--debug-stdout", "-s", str(conf)], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)  # smbd signals its whole process group when it stops
    try:
        if not wait_port(port, proc):
            pytest.fail("smbd did not start: %s" % (base / "smbd.out").read_text()[-2000:])
        yield Smb("127.0.0.1", port, "images", share, user, password)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()

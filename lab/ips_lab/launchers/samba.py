"""Samba: smbd on a high loopback port with its own config dir, two shares, one random password.

The SMB account is the current unix user (smbd never switches uid that way, so it works as root
and as an ordinary user): smbpasswd adds it as root, pdbedit as anyone else.
"""

import collections
import contextlib
import os
import pathlib
import pwd
import secrets
import subprocess
import time

from ips_lab.runstate import HOST, port_listening
from ips_lab.launchers import Launch, StandIn, find_program

EXPORT_SHARE = "ips-exports"
PVS_SHARE = "pvs-store"
# A share the lab's account may read but not write (the preflight's "export folder not writable" case).
READONLY_SHARE = "ips-readonly"
DOMAIN = "WORKGROUP"

GLOBAL_CONF = """# Written by the lab; nothing in /etc/samba is used.
[global]
  server role = standalone server
  workgroup = {domain}
  netbios name = IPSLAB
  interfaces = {host}
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
"""

SHARE_CONF = """
[{name}]
  path = {path}
  read only = {read_only}
  guest ok = no
  valid users = {user}
"""

SambaInfo = collections.namedtuple("SambaInfo", ["host", "port", "user", "password", "domain", "shares"])


def write_config(base, port, user, shares, read_only=False, read_only_shares=()):
    """Write smb.conf under `base` (and its private dirs) for `shares` ({name: folder}); returns its path.
    `read_only` makes every share read-only, `read_only_shares` the named ones."""
    base = pathlib.Path(base)
    for sub in ("private", "lock", "state", "cache", "pid", "ncalrpc", "log"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(base / "private", 0o700)
    text = GLOBAL_CONF.format(domain=DOMAIN, host=HOST, port=port, base=base)
    for name, folder in shares.items():
        pathlib.Path(folder).mkdir(parents=True, exist_ok=True)
        text += SHARE_CONF.format(name=name, path=folder, user=user, read_only="yes" if read_only or name in read_only_shares else "no")
    conf = base / "smb.conf"
    conf.write_text(text)
    return conf


def smbd_argv(conf):
    return [find_program("smbd"), "--foreground", "--no-process-group", "--debug-stdout", "-s", str(conf)]


def current_user():
    return pwd.getpwuid(os.getuid()).pw_name


@contextlib.contextmanager
def private_samba(base, shares, port, read_only=False, timeout=15.0):
    """smbd for tests: its own dirs under `base`, `shares` ({name: folder}), on 127.0.0.1:`port`,
    the current unix user with a random password; stopped by its pid on exit. Yields SambaInfo."""
    user, password = current_user(), "Pw-" + secrets.token_urlsafe(12)
    conf = write_config(base, port, user, shares, read_only)
    set_password(conf, user, password)
    with open(pathlib.Path(base) / "smbd.out", "wb") as log:
        # Its own session: on exit smbd signals its whole process group, which must not hold the caller.
        proc = subprocess.Popen(smbd_argv(conf), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + timeout
            while not port_listening(port):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("smbd did not start: %s" % (pathlib.Path(base) / "smbd.out").read_text()[-2000:])
                time.sleep(0.05)
            yield SambaInfo(HOST, port, user, password, DOMAIN, dict(shares))
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def set_password(conf, user, password):
    """Give the SMB account `user` this password: smbpasswd as root, pdbedit as anyone else."""
    secret = ("%s\n%s\n" % (password, password)).encode()
    if os.getuid() == 0:
        commands = [[find_program("smbpasswd"), "-c", str(conf), "-s", "-a", user]]
    else:
        pdbedit = find_program("pdbedit")
        # pdbedit -a refuses an existing account: drop it first (a missing one is fine).
        subprocess.run([pdbedit, "-s", str(conf), "-x", "-u", user],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        commands = [[pdbedit, "-s", str(conf), "-a", "-u", user, "-t"]]
    for argv in commands:
        done = subprocess.run(argv, input=secret, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
        if done.returncode != 0:
            output = done.stdout.decode(errors="replace").strip()
            raise RuntimeError("%s failed (rc %d): %s" % (os.path.basename(argv[0]), done.returncode, output))


class Samba(StandIn):
    name = "samba"
    port_key = "SMB"
    ready_timeout = 20.0

    def prepare(self, port, deps, previous):
        shares_dir = self.run.path / "shares"
        export_dir, pvs_dir, readonly_dir = shares_dir / EXPORT_SHARE, shares_dir / PVS_SHARE, shares_dir / READONLY_SHARE
        user = current_user()
        password = (previous or {}).get("values", {}).get("IPS_LAB_SMB_PASSWORD") or secrets.token_urlsafe(18)
        conf = write_config(self.folder, port, user, {EXPORT_SHARE: export_dir, PVS_SHARE: pvs_dir, READONLY_SHARE: readonly_dir},
                            read_only_shares=(READONLY_SHARE,))
        set_password(conf, user, password)
        values = {
            "IPS_LAB_SMB_HOST": HOST,
            "IPS_LAB_SMB_PORT": str(port),
            "IPS_LAB_SMB_USER": user,
            "IPS_LAB_SMB_PASSWORD": password,
            "IPS_LAB_SMB_DOMAIN": DOMAIN,
            "IPS_LAB_SMB_EXPORT_SHARE": EXPORT_SHARE,
            "IPS_LAB_SMB_EXPORT_DIR": str(export_dir),
            "IPS_LAB_SMB_PVS_SHARE": PVS_SHARE,
            "IPS_LAB_SMB_PVS_DIR": str(pvs_dir),
            "IPS_LAB_SMB_READONLY_SHARE": READONLY_SHARE,
        }
        return Launch(smbd_argv(conf), {}, values)

    def answers(self, record):
        return port_listening(record["port"])

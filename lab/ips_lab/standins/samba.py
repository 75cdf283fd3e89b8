"""Samba: smbd on a high loopback port with its own config dir, two shares, one random password.

The SMB account is the current unix user (smbd never switches uid that way, so it works as root
and as an ordinary user): smbpasswd adds it as root, pdbedit as anyone else.
"""

import os
import pwd
import secrets
import subprocess

from ips_lab.runstate import HOST, port_listening
from ips_lab.standins import Launch, StandIn, find_program

EXPORT_SHARE = "ips-exports"
PVS_SHARE = "pvs-store"
DOMAIN = "WORKGROUP"

SMB_CONF = """# Written by `ips-lab up`; nothing in /etc/samba is used.
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

[{export_share}]
  path = {export_dir}
  read only = no
  guest ok = no
  valid users = {user}

[{pvs_share}]
  path = {pvs_dir}
  read only = no
  guest ok = no
  valid users = {user}
"""


class Samba(StandIn):
    name = "samba"
    port_key = "SMB"
    ready_timeout = 20.0

    def prepare(self, port, deps, previous):
        base = self.folder
        for sub in ("private", "lock", "state", "cache", "pid", "ncalrpc", "log"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(base / "private", 0o700)
        shares = self.run.path / "shares"
        export_dir, pvs_dir = shares / EXPORT_SHARE, shares / PVS_SHARE
        for folder in (export_dir, pvs_dir):
            folder.mkdir(parents=True, exist_ok=True)
        user = pwd.getpwuid(os.getuid()).pw_name
        password = (previous or {}).get("values", {}).get("IPS_LAB_SMB_PASSWORD") or secrets.token_urlsafe(18)
        conf = base / "smb.conf"
        conf.write_text(SMB_CONF.format(domain=DOMAIN, host=HOST, port=port, base=base, user=user,
                                        export_share=EXPORT_SHARE, export_dir=export_dir,
                                        pvs_share=PVS_SHARE, pvs_dir=pvs_dir))
        self._set_password(conf, user, password)
        argv = [find_program("smbd"), "--foreground", "--no-process-group", "--debug-stdout", "-s", str(conf)]
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
        }
        return Launch(argv, {}, values)

    @staticmethod
    def _set_password(conf, user, password):
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

    def answers(self, record):
        return port_listening(record["port"])

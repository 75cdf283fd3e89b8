"""The lab's run dir (lab/run/ or $IPS_LAB_RUN_DIR): pid records, logs, free ports, the env file.

Layout of the run dir:

    pids/<part>.json   what `ips-lab up` started: pid, the process start time (to tell a reused
                       pid apart), port, argv, and the part's lines of the env file
    logs/<part>.log    stdout and stderr of the part
    env                the env file of docs/lab.md (mode 0600: it holds the lab's secrets)
    <part>/            each stand-in's own state (configs, data, shares)
"""

import http.client
import json
import os
import signal
import socket
import ssl
import time
import urllib.error
import urllib.request
from pathlib import Path

LAB_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = LAB_DIR.parent

# The order of the keys in the env file; docs/lab.md is the contract.
ENV_KEYS = (
    "CITRIX_CLOUD_CUSTOMER_ID",
    "CITRIX_CLOUD_CLIENT_ID",
    "CITRIX_CLOUD_CLIENT_SECRET",
    "CITRIX_CLOUD_API_URL",
    "CITRIX_CLOUD_CA_PATH",
    "IPS_LAB_ADMIN_TOKEN",
    "IPS_LAB_RESOURCE_LOCATION_ID",
    "IPS_LAB_DAAS_URL",
    "IPS_LAB_DAAS_SITE_ID",
    "IPS_LAB_DAAS_ONPREM_URL",
    "IPS_LAB_DAAS_ADMIN_USER",
    "IPS_LAB_DAAS_ADMIN_PASSWORD",
    "IPS_LAB_RUN_DIR",
    "IPS_LAB_SMB_HOST",
    "IPS_LAB_SMB_PORT",
    "IPS_LAB_SMB_USER",
    "IPS_LAB_SMB_PASSWORD",
    "IPS_LAB_SMB_DOMAIN",
    "IPS_LAB_SMB_EXPORT_SHARE",
    "IPS_LAB_SMB_EXPORT_DIR",
    "IPS_LAB_SMB_PVS_SHARE",
    "IPS_LAB_SMB_PVS_DIR",
    "IPS_LAB_AZURITE_BLOB_URL",
    "IPS_LAB_AZURITE_ACCOUNT",
    "IPS_LAB_AZURITE_KEY",
    "IPS_LAB_MOTO_URL",
    "IPS_LAB_GCS_URL",
    "IPS_LAB_VCSIM_HOST",
    "IPS_LAB_VCSIM_PORT",
    "IPS_LAB_VCSIM_USER",
    "IPS_LAB_VCSIM_PASSWORD",
)

HOST = "127.0.0.1"


def default_run_dir():
    override = os.environ.get("IPS_LAB_RUN_DIR")
    if override:
        return Path(override).expanduser().resolve()
    return LAB_DIR / "run"


class RunDir(object):
    """Paths inside one run dir and the pid records kept there."""

    def __init__(self, path=None):
        self.path = Path(path).resolve() if path else default_run_dir()
        self.pids = self.path / "pids"
        self.logs = self.path / "logs"
        self.env_file = self.path / "env"

    def create(self):
        for folder in (self.path, self.pids, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path, 0o700)

    def part_dir(self, name):
        folder = self.path / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def log_path(self, name):
        return self.logs / ("%s.log" % name)

    def record_path(self, name):
        return self.pids / ("%s.json" % name)

    def read_record(self, name):
        try:
            return json.loads(self.record_path(name).read_text())
        except (OSError, ValueError):
            return None

    def write_record(self, name, record):
        write_private(self.record_path(name), json.dumps(record, indent=2, sort_keys=True) + "\n")

    def remove_record(self, name):
        try:
            self.record_path(name).unlink()
        except FileNotFoundError:
            pass

    def write_env(self, values):
        """Write the env file: KEY=value lines in the documented order, then any extra keys."""
        lines = ["# The local lab's endpoints and credentials (docs/lab.md). Written by `ips-lab up`."]
        keys = [k for k in ENV_KEYS if k in values] + sorted(k for k in values if k not in ENV_KEYS)
        for key in keys:
            value = str(values[key])
            if any(c.isspace() for c in value):
                raise ValueError("env value of %s contains white space; move the lab to a path without spaces" % key)
            lines.append("%s=%s" % (key, value))
        write_private(self.env_file, "\n".join(lines) + "\n")

    def remove_env(self):
        try:
            self.env_file.unlink()
        except FileNotFoundError:
            pass

    def tail_log(self, name, lines=30):
        try:
            text = self.log_path(name).read_text(errors="replace")
        except OSError:
            return "(no log at %s)" % self.log_path(name)
        return "\n".join(text.splitlines()[-lines:])


def write_private(path, text):
    """Write a file readable by the owner only, atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(str(tmp), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(str(tmp), str(path))


def read_env_file(path):
    values = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
    return values


# --- processes --------------------------------------------------------------------------------

def _proc_stat_fields(pid):
    """The fields of /proc/PID/stat after the command name (state first), or None if the process is gone."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            stat = handle.read()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()


def proc_start_time(pid):
    """The start time of a process (clock ticks since boot), or None if it is gone or a zombie."""
    fields = _proc_stat_fields(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def proc_cpu_seconds(pid):
    """CPU-seconds a process and the children it waited for have used (user + system), or None if it is gone."""
    fields = _proc_stat_fields(pid)
    if fields is None:
        return None
    return sum(int(f) for f in fields[11:15]) / float(os.sysconf("SC_CLK_TCK"))


def record_alive(record):
    """True if the process of a pid record is still the one the lab started."""
    if not record or not record.get("pid"):
        return False
    started = proc_start_time(int(record["pid"]))
    return started is not None and started == record.get("start_time")


def stop_pid(pid, start_time, timeout=5.0):
    """SIGTERM one pid, wait up to `timeout`, then SIGKILL that pid only. Returns how it ended."""
    if proc_start_time(pid) != start_time:
        return "gone"
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return "gone"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc_start_time(pid) != start_time:
            return "stopped"
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return "stopped"
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and proc_start_time(pid) == start_time:
        time.sleep(0.05)
    return "killed"


# --- ports and readiness ----------------------------------------------------------------------

class PortPicker(object):
    """Hands out free loopback ports, never the same one twice within one `up`."""

    def __init__(self):
        self.taken = set()

    def take(self, env_key, preferred=None):
        """The port of IPS_LAB_<KEY>_PORT if set, else `preferred` if free, else a free port."""
        override = os.environ.get("IPS_LAB_%s_PORT" % env_key)
        if override:
            port = int(override)
            if not port_free(port):
                raise RuntimeError("port %d (IPS_LAB_%s_PORT) is already in use on %s" % (port, env_key, HOST))
        elif preferred and preferred not in self.taken and port_free(preferred):
            port = int(preferred)
        else:
            port = self._free()
        self.taken.add(port)
        return port

    def _free(self):
        for _attempt in range(50):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind((HOST, 0))
                port = sock.getsockname()[1]
            if port not in self.taken:
                return port
        raise RuntimeError("no free loopback port found")


def port_free(port):
    """True if a server could listen on the port now (connections in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, int(port)))
        except OSError:
            return False
    return True


def port_listening(port, host=HOST, timeout=0.5):
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def http_answers(url, timeout=2.0, cafile=None, verify=True):
    """True if an HTTP(S) server answers `url` with any status code (TLS verified against `cafile`)."""
    try:
        context = None
        if url.startswith("https:"):
            if verify:
                context = ssl.create_default_context(cafile=cafile)
            else:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
        # No proxy, whatever the environment says: every stand-in is on loopback.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        with opener.open(request, timeout=timeout) as answer:
            answer.read(1)
        return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError, http.client.HTTPException):
        return False

"""Integration tests: the collection's modules, run by ansible-playbook, against the running lab.

`make test` starts the lab first (`make lab-up`); the lab's env file gives every endpoint and
credential. Each target under targets/ is an ansible-test style role whose tasks assert the
module's behaviour; the runner here adds what YAML can't check: -vvvv output free of secrets,
and what the lab saw on the wire.
"""

import json
import os
import resource
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TARGETS = Path(__file__).resolve().parent / "targets"


def read_env_file(path):
    env = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            env[key] = value
    return env


def ips_lab(run_dir, *args):
    """`ips-lab ARGS` on the lab of `run_dir`; raises with its output when it fails."""
    env = dict(os.environ, IPS_LAB_RUN_DIR=str(run_dir))
    done = subprocess.run([str(Path(sys.executable).with_name("ips-lab"))] + list(args), env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError("ips-lab %s failed (rc %d):\n%s" % (" ".join(args), done.returncode, done.stdout[-3000:] + done.stderr[-3000:]))
    return done.stdout


def lab_run_dir():
    """The run dir of the lab these tests use (each xdist worker's own with IPS_LAB_PER_WORKER=1)."""
    run_dir = Path(os.environ.get("IPS_LAB_RUN_DIR") or REPO / "lab" / "run")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and os.environ.get("IPS_LAB_PER_WORKER") == "1":
        run_dir = run_dir.with_name("%s-%s" % (run_dir.name, worker))
    return run_dir


def leaks(values, output="", paths=(), admins=()):
    """Where any of the secret `values` appears: `output`, every file under `paths` (journals, progress files),
    the lab's logs and the requests its stand-ins recorded (`admins`: LabAdmin / PlaneAdmin). [] when nowhere."""
    places = [("the output", output)]
    files = []
    for path in [Path(p) for p in paths] + [lab_run_dir() / "logs"]:
        files.extend(sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path] if path.is_file() else [])
    for f in files:
        places.append((str(f), f.read_bytes().decode("utf-8", "replace")))
    for admin in admins:
        places.append(("the requests %s recorded" % getattr(admin, "url", "the lab"), json.dumps(admin.requests())))
    return ["%s in %s" % ("a secret of %d characters" % len(v), where) for v in values if v for where, text in places if v in text]


@pytest.fixture(scope="session")
def lab_env():
    """The lab's endpoints and credentials. Tests reset the lab and change its settings, so under pytest-xdist
    with IPS_LAB_PER_WORKER=1 (what `make test` runs) each worker starts a lab of its own beside the given one
    and stops it at the end: suites side by side, never sharing state."""
    run_dir = lab_run_dir()
    if run_dir.name != Path(os.environ.get("IPS_LAB_RUN_DIR") or REPO / "lab" / "run").name:
        owner = run_dir / ".pytest-owner"
        if (run_dir / "env").exists() and owner.exists() and owner.read_text() == str(os.getpid()):
            # started by this worker already (tests/reliability loads these fixtures a second time): share it
            yield read_env_file(run_dir / "env")
            return
        if (run_dir / "env").exists():
            ips_lab(run_dir, "down", "--purge")  # the leftovers of an interrupted run
        ips_lab(run_dir, "up")
        owner.write_text(str(os.getpid()))
        try:
            yield read_env_file(run_dir / "env")
        finally:
            # what this worker's lab cost, for the CPU report at the end (pytest_terminal_summary)
            down = ips_lab(run_dir, "down", "--purge")
            run_dir.with_name(run_dir.name + ".cpu").write_text("".join(line.strip() + "\n" for line in down.splitlines() if "CPU-s" in line))
        return
    env_file = run_dir / "env"
    if not env_file.exists():
        pytest.fail("The lab is not running (%s is missing): start it with `make lab-up`." % env_file)
    yield read_env_file(env_file)


@pytest.fixture(autouse=True)
def own_token_cache(tmp_path, monkeypatch):
    """Each test starts with no cached Citrix Cloud token (the modules keep it under $XDG_CACHE_HOME between tasks):
    a token cached by an earlier test, with another token_ttl, must not decide what this one sees."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture(scope="session")
def lab_admin(lab_env):
    from ips_lab.common.admin import LabAdmin

    return LabAdmin.from_env(lab_env)


@pytest.fixture()
def lab(lab_admin):
    """A clean lab for one test: no jobs, credentials, faults or recorded requests."""
    lab_admin.reset()
    yield lab_admin
    lab_admin.clear_faults()


@pytest.fixture(scope="session")
def test_secrets():
    """Secret values only these tests know, so any of them in the output is a leak."""
    return {
        "smb_password": "smb-" + secrets.token_hex(12),
        "vcenter_password": "vc-" + secrets.token_hex(12),
        "aws_secret_access_key": "aws-" + secrets.token_hex(16),
        "aws_session_token": "sess-" + secrets.token_hex(16),
        "azure_client_secret": "az-" + secrets.token_hex(16),
        "gcp_private_key": "-----BEGIN PRIVATE KEY-----\\ngcp" + secrets.token_hex(24) + "\\n-----END PRIVATE KEY-----\\n",
    }


@pytest.fixture(scope="session")
def find_leaks():
    """leaks() for the tests that run modules without a playbook."""
    return leaks


class PlaybookRun(object):
    def __init__(self, proc):
        self.rc = proc.returncode
        self.output = proc.stdout + proc.stderr

    def assert_ok(self):
        assert self.rc == 0, self.output[-6000:]

    def assert_no_secret(self, values, paths=(), admins=()):
        """No secret in the -vvvv output, nor in the files under `paths`, the lab's logs or requests (`admins`)."""
        leaked = leaks(values, self.output, paths, admins)
        assert not leaked, "secret values leaked: %s" % leaked


@pytest.fixture()
def run_target(lab_env, tmp_path):
    """Run targets/<name> as a role at -vvvv with the lab's env; returns a PlaybookRun."""

    def run(name, extra_vars=None, env=None):
        playbook = tmp_path / "play.yml"
        playbook.write_text(
            "- name: Integration target %s\n  hosts: localhost\n  gather_facts: false\n  roles:\n    - role: %s\n" % (name, name)
        )
        vars_file = tmp_path / "vars.json"
        vars_file.write_text(json.dumps(extra_vars or {}))
        full_env = dict(os.environ)
        full_env.update(lab_env)
        full_env.update(
            ANSIBLE_ROLES_PATH=str(TARGETS),
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
            ANSIBLE_LOCALHOST_WARNING="False",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_RETRY_FILES_ENABLED="False",
        )
        full_env.update(env or {})
        cmd = [str(Path(sys.executable).with_name("ansible-playbook")), "-vvvv", "-i", "localhost,", "-c", "local",
               "-e", "@%s" % vars_file, str(playbook)]
        return PlaybookRun(subprocess.run(cmd, env=full_env, cwd=str(tmp_path), capture_output=True, text=True, timeout=600, check=False))

    return run


# The CPU each test costs (its own and that of the processes it waited for: ansible-playbook, the modules),
# printed like --durations: the suite is CPU-bound on a 2-core machine, so this is what to cut first.
CPU_SPENT = []


def _cpu_seconds():
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def pytest_runtest_setup(item):
    item.user_properties.append(("cpu_start", _cpu_seconds()))
    item.user_properties.append(("wall_start", time.time()))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item, call):
    if call.when == "teardown":
        start = dict(item.user_properties).get("cpu_start")
        if start is not None:
            item.user_properties.append(("cpu_seconds", round(_cpu_seconds() - start, 1)))
            item.user_properties.append(("wall_end", time.time()))


# When each test ran, on which worker, and how busy the machine was meanwhile: the suite's wall time is its last
# worker's end, so what counts is what runs last and whether the cores were idle then.
TIMELINE = []  # (worker, start, end, nodeid)
MACHINE_BUSY = []  # (time, busy fraction of all cores since the sample before)


def pytest_runtest_logreport(report):
    if report.when == "teardown":
        props = dict(report.user_properties)
        spent = props.get("cpu_seconds")
        if spent is not None:
            CPU_SPENT.append((spent, report.nodeid))
        if props.get("wall_start") and props.get("wall_end"):
            node = getattr(report, "node", None)
            worker = getattr(getattr(node, "gateway", None), "id", "main")
            TIMELINE.append((worker, props["wall_start"], props["wall_end"], report.nodeid))


def _cpu_ticks():
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    return sum(fields), fields[3] + fields[4]  # all, idle + iowait


def _sample_machine(stop, every=30.0):
    last = (time.time(),) + _cpu_ticks()
    while not stop.wait(every):
        now = (time.time(),) + _cpu_ticks()
        total = now[1] - last[1]
        if total > 0:
            MACHINE_BUSY.append((now[0], 1.0 - (now[2] - last[2]) / float(total)))
        last = now


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput") and os.path.exists("/proc/stat"):
        # a daemon thread: it ends with the session
        threading.Thread(target=_sample_machine, args=(threading.Event(),), daemon=True).start()


def _write_timeline(terminalreporter):
    start = min(begin for _w, begin, _e, _n in TIMELINE)
    terminalreporter.write_sep("-", "when each worker ran out of tests (s from the first test's start; its last three tests)")
    for worker in sorted(set(w for w, _b, _e, _n in TIMELINE)):
        runs = sorted((r for r in TIMELINE if r[0] == worker), key=lambda r: r[2])
        terminalreporter.write_line("%-5s done at %4.0f s: %s" % (worker, runs[-1][2] - start, "; ".join(
            "%s %.0f-%.0f" % (nodeid.split("/")[-1], begin - start, end - start) for _w, begin, end, nodeid in runs[-3:])))
    if MACHINE_BUSY:
        terminalreporter.write_line("the machine's cores were busy (%% per 30 s): %s" % " ".join(
            "%.0f" % (busy * 100) for when, busy in MACHINE_BUSY if when >= start))


def pytest_terminal_summary(terminalreporter, config):
    if hasattr(config, "workerinput"):  # an xdist worker: the controller prints the report
        return
    if CPU_SPENT:
        terminalreporter.write_sep("=", "most CPU-seconds per test (own + waited-for processes)")
        for seconds, nodeid in sorted(CPU_SPENT, reverse=True)[:int(os.environ.get("IPS_TEST_CPU_TOP", "12"))]:
            terminalreporter.write_line("%7.1f  %s" % (seconds, nodeid))
        per_file = {}
        for seconds, nodeid in CPU_SPENT:
            per_file[nodeid.split("::")[0]] = per_file.get(nodeid.split("::")[0], 0) + seconds
        terminalreporter.write_sep("-", "per file")
        for path, seconds in sorted(per_file.items(), key=lambda item: -item[1]):
            terminalreporter.write_line("%7.1f  %s" % (seconds, path))
        terminalreporter.write_line("%7.1f  in all %d tests" % (sum(seconds for seconds, nodeid in CPU_SPENT), len(CPU_SPENT)))
    if TIMELINE:
        _write_timeline(terminalreporter)
    base = Path(os.environ.get("IPS_LAB_RUN_DIR") or REPO / "lab" / "run")
    for report in sorted(base.parent.glob(base.name + "-*.cpu")):
        terminalreporter.write_sep("-", "the lab of %s" % report.name[len(base.name) + 1:-4])
        terminalreporter.write_line(report.read_text().rstrip())
        report.unlink()

"""One private lab for the cloud-plane tests: `ips-lab up --parts azure,ebs,gce,iam` (which also starts
Azurite, moto and the GCS emulator) in a tmp run dir, `ips-lab down` at the end. A lab started
with `make lab-up` (lab/run) is left alone."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "lab"
PARTS = "azure,ebs,gce,iam"


def ips_lab(run_dir, *args):
    env = dict(os.environ)
    for key in list(env):
        if key.startswith("IPS_LAB_") or key.startswith("CITRIX_CLOUD_"):
            del env[key]
    env["IPS_LAB_RUN_DIR"] = str(run_dir)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(LAB), env.get("PYTHONPATH", "")) if p)
    return subprocess.run([sys.executable, "-m", "ips_lab.cli"] + list(args), env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def read_env(path):
    values = {}
    for line in Path(path).read_text().splitlines():
        if line and not line.startswith("#"):
            key, value = line.split("=", 1)
            values[key] = value
    return values


class CloudLab(object):
    def __init__(self, run_dir):
        self.run_dir = run_dir
        self.env = read_env(run_dir / "env")

    def up(self):
        return ips_lab(self.run_dir, "up", "--parts", PARTS)


@pytest.fixture(scope="session")
def cloud_lab(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("lab_clouds") / "run"
    started = ips_lab(run_dir, "up", "--parts", PARTS)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield CloudLab(run_dir)
    finally:
        ips_lab(run_dir, "down")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")

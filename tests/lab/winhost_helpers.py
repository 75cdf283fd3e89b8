"""Driving the lab's Windows host as the collection will: pypsrp as a third-party client (RunspacePool,
PowerShell.add_cmdlet().add_parameter()), against a private lab (`ips-lab up --parts azure,cloud,winhost`)."""

import contextlib
import os
import subprocess
import sys
from pathlib import Path

from pypsrp.complex_objects import GenericComplexObject, PSCredential
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan

from ips_lab.common.admin import LabAdmin

REPO = Path(__file__).resolve().parents[2]
PARTS = "azure,cloud,winhost"


def ips_lab(run_dir, *args):
    env = dict(os.environ)
    for key in list(env):
        if key.startswith("IPS_LAB_") or key.startswith("CITRIX_CLOUD_"):
            del env[key]
    env["IPS_LAB_RUN_DIR"] = str(run_dir)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO / "lab"), env.get("PYTHONPATH", "")) if p)
    return subprocess.run([sys.executable, "-m", "ips_lab.cli"] + list(args), env=env, capture_output=True, text=True,
                          timeout=180, check=False)


def read_env(path):
    return dict(line.split("=", 1) for line in Path(path).read_text().splitlines() if "=" in line)


class WinhostLab(object):
    def __init__(self, run_dir):
        self.run_dir = run_dir
        self.env = read_env(run_dir / "env")
        self.admin = LabAdmin.from_env(self.env, "winhost")

    def wsman(self, auth="basic", password=None, cert_validation=None, user=None):
        env = self.env
        return WSMan(env["IPS_LAB_WINHOST_HOST"], port=int(env["IPS_LAB_WINHOST_PORT"]), path="wsman", ssl=True, auth=auth,
                     username=user or env["IPS_LAB_WINHOST_USER"], password=password or env["IPS_LAB_WINHOST_PASSWORD"],
                     cert_validation=env["IPS_LAB_WINHOST_CA_PATH"] if cert_validation is None else cert_validation,
                     connection_timeout=10, read_timeout=30, operation_timeout=10)

    def credential(self, password=None):
        return PSCredential(username=self.env["IPS_LAB_APPLIANCE_USER"], password=password or self.env["IPS_LAB_APPLIANCE_PASSWORD"])

    @contextlib.contextmanager
    def pool(self, auth="basic", connect=True):
        """An open runspace pool; with connect, Connect-AlAppliance already ran in it."""
        with RunspacePool(self.wsman(auth)) as pool:
            pool.exchange_keys()
            if connect:
                out, ps = run(pool, "Connect-AlAppliance", Address=self.env["IPS_LAB_APPLIANCE_ADDRESS"], Credential=self.credential(),
                              IgnoreCertificateErrors=True)
                assert not ps.had_errors, errors(ps)
            yield pool

    def connector_id(self, pool, key):
        out, ps = run(pool, "Get-AlConnectorConfig", Name=self.env[key])
        assert len(out) == 1, errors(ps)
        return out[0]["Id"]


def plain(value):
    """A received object as dicts and lists."""
    if isinstance(value, GenericComplexObject):
        props = dict(value.adapted_properties)
        props.update(value.extended_properties)
        if props:
            return dict((k, plain(v)) for k, v in props.items())
        return value.to_string
    if isinstance(value, dict):
        return dict((k, plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def run(pool, cmdlet, *positional, **params):
    """Run one cmdlet with named parameters (a value of SWITCH sends a bare switch); ([objects], ps)."""
    ps = PowerShell(pool)
    ps.add_cmdlet(cmdlet)
    for value in positional:
        ps.add_argument(value)
    for name, value in params.items():
        if value is SWITCH:
            ps.add_parameter(name)
        else:
            ps.add_parameter(name, value)
    out = ps.invoke()
    return [plain(o) for o in out], ps


SWITCH = object()


def errors(ps):
    return [str(e) for e in ps.streams.error]


def error_ids(ps):
    return [e.fq_error for e in ps.streams.error]

"""The lab's stand-ins, one module each, started by `ips-lab up` in the order of PARTS.

A stand-in knows how to prepare its own state under the run dir, the command that serves it on
127.0.0.1, its lines of the env file, and a quick check that it answers.
"""

import collections
import os
import shutil
import sys

from ips_lab.runstate import LAB_DIR

Launch = collections.namedtuple("Launch", ["argv", "env", "values"])


class StandIn(object):
    """One part of the lab. Subclasses set `name` and `port_key` and implement prepare/answers."""

    name = ""
    port_key = ""
    ready_timeout = 30.0
    depends = ()

    def __init__(self, run):
        self.run = run

    @property
    def folder(self):
        return self.run.part_dir(self.name)

    def prepare(self, port, deps, previous):
        """Write configs; return a Launch. `deps` maps dependency names to their pid records,
        `previous` is this part's old record (reuse its secrets) or None (fresh secrets)."""
        raise NotImplementedError

    def answers(self, record):
        """True if the part started with `record` answers on its port right now."""
        raise NotImplementedError

    def python_env(self):
        """Environment of a Python stand-in: the lab package importable, no proxy for loopback."""
        env = {"PYTHONPATH": os.pathsep.join(p for p in (str(LAB_DIR), os.environ.get("PYTHONPATH", "")) if p),
               "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
        return env


def python():
    """The interpreter of the venv ips-lab runs from; its stand-ins (moto, ...) are installed there."""
    return sys.executable


def find_program(name, extra_dirs=("/usr/sbin", "/sbin", "/usr/bin")):
    found = shutil.which(name)
    if found:
        return found
    for folder in extra_dirs:
        candidate = os.path.join(folder, name)
        if os.access(candidate, os.X_OK):
            return candidate
    raise MissingProgram("%s is not installed; run `make setup`" % name)


class MissingProgram(RuntimeError):
    pass


def all_parts(run):
    from ips_lab.launchers.azure import Azure
    from ips_lab.launchers.azurite import Azurite
    from ips_lab.launchers.citrix import Citrix
    from ips_lab.launchers.ebs import Ebs
    from ips_lab.launchers.gce import Gce
    from ips_lab.launchers.gcs import Gcs
    from ips_lab.launchers.iam import Iam
    from ips_lab.launchers.moto import Moto
    from ips_lab.launchers.samba import Samba
    from ips_lab.launchers.vcsim import Vcsim
    from ips_lab.launchers.winhost import WinHost

    return [cls(run) for cls in (Samba, Azurite, Moto, Gcs, Vcsim, Azure, Ebs, Iam, Gce, Citrix, WinHost)]

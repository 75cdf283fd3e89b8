"""The Windows host's parts wired together: state, clock, runtime settings, accounts, shells, the appliance
(sessions, connectors, tasks), the PVS farm, faults, recorded calls and the task worker."""

import os

from ..common.clock import LabClock
from ..common.config import RuntimeConfig, is_number
from . import connectors
from .appliance import Appliance
from .auth import Accounts
from .pvs import Pvs
from .faults import HostFaults
from .recorder import CallRecorder
from .shells import Shells
from .tasks import Tasks, TaskStore
from .worker import TaskWorker

# /_lab/config keys: (check, what the check wants)
MUTABLE = {
    "task_seconds": (lambda v: is_number(v) and v >= 0, "a number of seconds >= 0"),
    "progress_step": (lambda v: is_number(v) and 0 < v <= 100, "a number in (0, 100]"),
    "session_ttl_seconds": (lambda v: is_number(v) and v > 0, "a number of seconds > 0"),
    "appliance_certificate_trusted": (lambda v: isinstance(v, bool), "true or false"),
}
DEFAULTS = {"task_seconds": 4, "progress_step": 1, "session_ttl_seconds": 1800, "appliance_certificate_trusted": False}


class WinHost(object):
    def __init__(self, state_dir, config):
        self.config = dict(DEFAULTS, **config)
        self.config["connectors"] = connectors.build(self.config.get("connector_names"), self.config.get("smb"))
        self.state_dir = str(state_dir)
        os.makedirs(self.state_dir, exist_ok=True)
        self.store = TaskStore(os.path.join(self.state_dir, "winhost.sqlite"))
        self.clock = LabClock(self.store)
        self.runtime = RuntimeConfig(self.store, self.config, MUTABLE)
        self.accounts = Accounts(self.state_dir, self.config["user"], self.config["password"])
        self.shells = Shells()
        self.faults = HostFaults(self.store)
        self.recorder = CallRecorder(self.clock)
        self.tasks = Tasks(self.store, self.clock, self.runtime, self.faults)
        self.appliance = Appliance(self.config, self.store, self.clock, self.runtime, self.faults, self.tasks, self.recorder)
        self.pvs = Pvs(self.config, self.state_dir, self.clock, self.runtime, self.faults)
        self.appliance.pvs = self.pvs
        self.worker = TaskWorker(self.tasks, self.config, os.path.join(self.state_dir, "scratch"), self.tasks.all)

    def start(self):
        self.pvs.seed_share()
        self.worker.start()

    def reset(self):
        """Forget tasks, appliance sessions, faults and recorded calls; settings to defaults.

        Open runspace pools stay (the Windows host did not restart) but their appliance sessions are gone.
        The clock keeps its offset (lab time never runs backwards) and task ids keep growing.
        """
        self.store.reset()
        self.recorder.clear()
        self.pvs.reset()

    def close(self):
        self.worker.stop()
        self.pvs.stop()
        self.shells.clear()
        self.store.close()

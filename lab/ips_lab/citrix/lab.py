"""The lab's parts wired together: state, clock, config, tokens, wallet, jobs, faults, recorder, worker, DaaS site."""

import os

from ..common.clock import LabClock
from ..common.config import RuntimeConfig
from ..common.faults import Faults
from ..daas.site import DaasSite
from .auth import Tokens
from .config import MUTABLE, load_config
from .jobs import Jobs
from .recorder import Recorder
from .store import IpsStore
from .wallet import Wallet
from .worker import Worker


class Lab(object):
    def __init__(self, state_dir, config):
        self.config = load_config(config)
        self.state_dir = str(state_dir)
        os.makedirs(self.state_dir, exist_ok=True)
        self.store = IpsStore(os.path.join(self.state_dir, "ips.sqlite"))
        self.clock = LabClock(self.store)
        self.runtime = RuntimeConfig(self.store, self.config, MUTABLE)
        self.tokens = Tokens(self.store, self.clock, self.runtime, self.config)
        self.wallet = Wallet(self.store, self.clock)
        self.jobs = Jobs(self.store, self.clock, self.runtime, self.wallet, self.config["resource_location_ids"])
        self.faults = Faults(self.store)
        self.recorder = Recorder(self.clock)
        # the DaaS REST stand-in (/cvad/manage) lives on the same host as the IPS API, like api.cloud.com
        self.daas = DaasSite(self.state_dir, self.config, self.clock, self.runtime)
        self.worker = Worker(self.jobs, self.wallet, self.config["smb"], os.path.join(self.state_dir, "scratch"),
                             clouds={"moto_url": self.config.get("moto_url"), "azure": self.config.get("azure"),
                                     "gce": self.config.get("gce")})

    def start(self):
        self.worker.start()

    def reset(self):
        """Forget jobs, credentials, faults, job failures and recorded requests; config to defaults.

        Tokens stay valid and the clock keeps its offset (lab time never runs backwards).
        """
        self.store.reset()
        self.daas.reset()
        self.recorder.clear()

    def close(self):
        self.worker.stop()
        self.store.close()
        self.daas.close()

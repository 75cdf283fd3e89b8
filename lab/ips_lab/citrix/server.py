"""The Citrix Cloud stand-in served over HTTPS on loopback (the lab's one server, common/server.py),
and start_in_thread() for tests."""

from ..common.admin import LabAdmin
from ..common.server import Serving
from ..common.tls import ensure_ca
from .handler import LabRequestHandler
from .lab import Lab


class LabServer(Serving):
    """A running stand-in: .url, .port, .ca_path, .admin (a LabAdmin), .lab, .stop()."""

    def __init__(self, state_dir, config):
        self.lab = Lab(state_dir, config)
        self.ca_path, cert, key = ensure_ca(state_dir)
        try:
            super().__init__((self.lab.config["host"], self.lab.config["port"]), LabRequestHandler, self.lab, cert, key,
                             name="ips-lab-https")
        except OSError:
            self.lab.close()
            raise
        self.admin = LabAdmin(self.url, self.lab.config["admin_token"], self.ca_path)

    def start(self):
        self.lab.start()
        return super().start()

    def stop(self):
        super().stop()
        self.lab.close()


def start_in_thread(state_dir, config):
    """Start the stand-in in this process (port 0 picks a free port); returns the LabServer."""
    return LabServer(state_dir, config).start()

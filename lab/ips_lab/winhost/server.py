"""The Windows host served over HTTPS on loopback (the lab's one server, common/server.py, with the lab
CA), and start_in_thread() for tests and for `python -m ips_lab.winhost`."""

from ..common.admin import LabAdmin
from ..common.server import Serving
from ..common.tls import ensure_ca
from .handler import WinHostHandler
from .host import WinHost


class WinHostServer(Serving):
    """A running Windows host: .url (https://127.0.0.1:PORT), .wsman_url, .ca_path, .admin, .host, .stop()."""

    def __init__(self, state_dir, config):
        self.host = WinHost(state_dir, config)
        # the lab CA (launchers/winhost.py names the cloud part's folder); in tests the state dir's own
        self.ca_path, cert, key = ensure_ca(config.get("tls_dir") or state_dir)
        try:
            super().__init__((config.get("host", "127.0.0.1"), config.get("port", 0)), WinHostHandler, self.host, cert, key,
                             name="ips-lab-winhost")
        except OSError:
            self.host.close()
            raise
        self.wsman_url = self.url + "/wsman"
        self.admin = LabAdmin(self.url, config["admin_token"], self.ca_path)

    def start(self):
        self.host.start()
        return super().start()

    def stop(self):
        super().stop()
        self.host.close()


def start_in_thread(state_dir, config):
    """Start the Windows host in this process (port 0 picks a free port); returns the WinHostServer."""
    return WinHostServer(state_dir, config).start()

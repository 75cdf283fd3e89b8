"""`python -m ips_lab.winhost --state-dir DIR --config FILE`: serve the Windows host until SIGTERM."""

import sys

from ..common.server import serve_main
from .server import start_in_thread

if __name__ == "__main__":
    sys.exit(serve_main("ips_lab.winhost", start_in_thread))

"""python -m ips_lab.citrix --state-dir DIR --config FILE.json

Serves the Citrix Cloud stand-in, prints `READY https://127.0.0.1:PORT` once listening, and
stops cleanly on SIGTERM or SIGINT (the same entry point as the cloud planes).
"""

import sys

from ..common.server import serve_main
from .server import start_in_thread


def main(argv=None):
    return serve_main("python -m ips_lab.citrix", start_in_thread, argv)


if __name__ == "__main__":
    sys.exit(main())

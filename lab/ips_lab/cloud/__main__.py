"""python -m ips_lab.cloud --state-dir DIR --config FILE.json

Serves the Citrix Cloud stand-in, prints `READY https://127.0.0.1:PORT` once listening, and
stops cleanly on SIGTERM or SIGINT.
"""

import argparse
import json
import logging
import signal
import sys
import threading

from .server import start_in_thread


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ips_lab.cloud", description="The lab's Citrix Cloud API stand-in.")
    parser.add_argument("--state-dir", required=True, help="where ips.sqlite, the TLS files and scratch files live")
    parser.add_argument("--config", required=True, help="the lab config JSON file (see docs/lab.md)")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with open(args.config) as src:
        config = json.load(src)

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    server = start_in_thread(args.state_dir, config)
    print("READY %s" % server.url, flush=True)
    while not stopping.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

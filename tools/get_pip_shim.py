# Offline stand-in for ansible-test's get-pip bootstrap script (installed by `make setup` as
# ~/.ansible/test/cache/get_pip_<pip version>.py, the name ansible-test looks for).
#
# ansible-test creates every sanity venv without pip, then downloads get-pip.py from
# ci-files.testing.ansible.com, which is not reachable here. This does the same job offline:
# ensurepip, then `pip install` the pins ansible-test asks for through the configured index.
"""Bootstrap pip in an empty venv from ensurepip, then install the requested pins."""

import ensurepip
import os
import subprocess
import sys


def main():
    saved = dict(os.environ)
    ensurepip.bootstrap(upgrade=True)
    # ensurepip drops the PIP_* settings and sets PIP_CONFIG_FILE=/dev/null, so a later pip would
    # ignore the machine's pip configuration (its CA bundle and indexes): put the environment back.
    os.environ.clear()
    os.environ.update(saved)
    args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
    return subprocess.call([sys.executable, "-m", "pip", "install"] + args)


if __name__ == "__main__":
    sys.exit(main())

"""The background upload's watchdog (_upload/watchdog.py): it ends an upload nobody waits for, or one that stopped moving."""

import json
import os
import subprocess
import sys
import time

from ansible_collections.citrix_community.ips.plugins.module_utils._upload.progress import Progress
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.watchdog import EXIT_CODE, Watchdog, watched_path


class Clock(object):
    def __init__(self):
        self.now = time.time()

    def __call__(self):
        return self.now


def test_unwatched_and_stalled(tmp_path):
    path = str(tmp_path / "progress.json")
    progress = Progress(path, total=100, heartbeat=0)
    clock = Clock()
    dog = Watchdog(progress, unwatched=60, stalled=120, clock=clock)
    progress.set_phase("upload")
    assert dog.reason() is None  # nobody ever waited: a synchronous task, its playbook waits for it
    open(watched_path(path), "w").close()
    os.utime(watched_path(path), (clock.now - 30, clock.now - 30))
    assert dog.reason() is None
    os.utime(watched_path(path), (clock.now - 61, clock.now - 61))
    assert "nobody has waited" in dog.reason()
    clock.now += 100
    os.utime(watched_path(path), (clock.now, clock.now))
    progress.add(done=10)  # moving: fine
    assert dog.reason() is None
    clock.now += 121
    os.utime(watched_path(path), (clock.now, clock.now))
    assert "has not moved for" in dog.reason()


def test_an_abandoned_upload_exits_at_once_and_says_why(tmp_path):
    """A real process whose threads are all blocked ends itself; its progress file says why."""
    path = str(tmp_path / "progress.json")
    code = (
        "import sys, threading, time\n"
        "from ansible_collections.citrix_community.ips.plugins.module_utils._upload.progress import Progress\n"
        "from ansible_collections.citrix_community.ips.plugins.module_utils._upload.watchdog import Watchdog, watched_path\n"
        "p = Progress(sys.argv[1], total=10, heartbeat=0)\n"
        "p.set_phase('upload')\n"
        "Watchdog(p, unwatched=3600, stalled=0.5, every=0.1).start()\n"
        "threading.Event().wait()\n")  # blocked for good, like a read without a deadline
    proc = subprocess.run([sys.executable, "-c", code, path], timeout=60, check=False)
    assert proc.returncode == EXIT_CODE
    shown = json.loads(open(path).read())
    assert shown["phase"] == "abandoned" and "run the task again" in shown["reason"]
    assert os.stat(path).st_mode & 0o777 == 0o600

"""The per-target upload lock (_upload/lock.py): real flocks, a real second process killed with SIGKILL."""

import os
import signal
import socket
import subprocess
import sys

import pytest

from ansible_collections.citrix_community.ips.plugins.module_utils._upload.lock import UploadBusy, UploadLock

KEY = "azure:sub:rg:disk-a"


def test_a_second_upload_of_the_same_object_is_refused_until_the_first_ends(tmp_path):
    first = UploadLock(str(tmp_path), KEY).acquire("disk disk-a in rg")
    with pytest.raises(UploadBusy) as err:
        UploadLock(str(tmp_path), KEY).acquire("disk disk-a in rg")
    text = str(err.value)
    assert "another upload to disk disk-a in rg is running on this host" in text and "process %d" % os.getpid() in text
    assert "resumes where that one stopped" in text
    # another target object is not held up
    UploadLock(str(tmp_path), "azure:sub:rg:disk-b").acquire("disk disk-b in rg").release()
    first.release()
    assert not os.path.exists(first.path), "the lock file outlived its upload"
    UploadLock(str(tmp_path), KEY).acquire("disk disk-a in rg").release()


def test_a_killed_upload_leaves_no_lock_behind(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "from ansible_collections.citrix_community.ips.plugins.module_utils._upload.lock import UploadLock\n"
        "UploadLock(sys.argv[1], sys.argv[2]).acquire('x')\n"
        "print('locked', flush=True)\n"
        "time.sleep(60)\n"), str(tmp_path), KEY], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(UploadBusy, match="process %d" % holder.pid):
            UploadLock(str(tmp_path), KEY).acquire("disk disk-a in rg")
        # a re-run sees the live worker: pid, host and start time from the lock it holds
        seen = UploadLock(str(tmp_path), KEY).holder()
        assert seen["pid"] == holder.pid and seen["host"] == socket.gethostname() and seen["started"] > 0
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    lock = UploadLock(str(tmp_path), KEY)
    assert os.path.exists(lock.path), "the killed holder's lock file is still there (it could not remove it)"
    # ... and the moment it is killed, sees it dead (no heartbeat has to go stale first)
    assert lock.holder() is None
    lock.acquire("disk disk-a in rg").release()  # the kernel dropped the flock with the process

# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One upload per target object on this host at a time.

Two ips_upload runs writing one disk, snapshot or image (a re-run while the background upload of
a killed playbook still runs, two AWX jobs of one template) would send the same units twice, and
the first to finish would revoke the SAS or complete the snapshot under the other; with overwrite,
the second would delete the target the first is writing. So an upload holds an exclusive flock on
a lock file beside the journals, named after the target object (whatever the source). The kernel
drops a flock when its process dies: a killed upload never leaves a stale lock, and its re-run
resumes at once. The lock file is removed while still held; a waiter that then locks the removed
file notices (another inode at the path) and tries again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import json
import os
import socket
import time

from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.journal import journal_path, make_folder


def _holder(fd):
    """The holder record of an open lock file: {pid, host, started} ({"pid": n} from older versions, {} if unreadable)."""
    raw = os.pread(fd, 512, 0).decode("ascii", "replace").strip()
    try:
        data = json.loads(raw)
    except ValueError:
        return {"pid": int(raw)} if raw.isdigit() else {}
    return data if isinstance(data, dict) else {"pid": data}


class UploadBusy(IPSError):
    """Another upload to the same target object runs on this host."""


class UploadLock(object):
    def __init__(self, journal_dir, object_key):
        self.path = journal_path(journal_dir, object_key, suffix=".lock")
        self._fd = None

    def acquire(self, what):
        """Hold the lock, or raise UploadBusy naming `what` (the target object) and the holder's pid."""
        make_folder(os.path.dirname(self.path), "journal_dir")
        for _attempt in range(10):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except (IOError, OSError) as exc:
                holder = _holder(fd)
                os.close(fd)
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                raise UploadBusy("another upload to %s is running on this host right now (process %s); let it finish - the upload "
                                 "role attaches to it - or stop that process and run this again: it resumes where that one stopped"
                                 % (what, holder.get("pid", "unknown")))
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except OSError:
                same = False  # removed by the previous holder between our open and our lock
            if same:
                os.ftruncate(fd, 0)
                os.write(fd, (json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": round(time.time(), 3)}) + "\n")
                         .encode("ascii"))
                self._fd = fd
                return self
            os.close(fd)
        raise UploadBusy("could not lock %s for the upload to %s (it keeps being replaced); run this again" % (self.path, what))

    def holder(self):
        """Who runs the upload to this object right now: {pid, host, started} of the process holding the lock, or None.

        The kernel drops a flock the moment its process dies, so a dead upload is seen as dead at once, not after a
        heartbeat has had time to go stale. Only looks: a free lock is released again at once."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return None  # no lock file: no upload has run, or the last one ended cleanly
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except (IOError, OSError) as exc:
                if exc.errno in (errno.EAGAIN, errno.EACCES):
                    return _holder(fd) or {"pid": None}
                raise
            return None  # lockable: whoever wrote it is gone
        finally:
            os.close(fd)

    def release(self):
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.unlink(self.path)
        except OSError:
            pass
        os.close(fd)

# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a re-run finds the appliance task it started: one small file per normalised request.

The appliance's tasks carry no tags a re-run could search by (the cloud service's jobs do), so the
task id (WorkTicketId) is written here the moment the start cmdlet returns it, keyed by the
request's idempotency key. A re-run reads it back: running -> attach, completed -> no change,
failed -> start again (and say why the last one failed). The folder is the user's own, 0700, each
file 0600, written atomically; a file that is not the user's own or that others can read is
ignored (a re-run then looks at the output artifact, and starts a task when there is none).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat
import tempfile
import time

from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError


def default_dir():
    """$XDG_STATE_HOME/citrix_community.ips/appliance-tasks, else ~/.local/state/citrix_community.ips/appliance-tasks."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "citrix_community.ips", "appliance-tasks")


class JournalError(IPSError):
    """The journal folder cannot be used; the message names the option."""


class Journal(object):
    def __init__(self, folder, option="appliance.journal_dir", wall=time.time):
        self.folder = folder or default_dir()
        self.option = option
        self._wall = wall

    def _path(self, key):
        return os.path.join(self.folder, "%s.json" % key)

    @staticmethod
    def _private(st, kind):
        return kind(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & (stat.S_IRWXG | stat.S_IRWXO)

    def _ensure_folder(self):
        try:
            if not os.path.isdir(self.folder):
                os.makedirs(self.folder, 0o700)
            ok = self._private(os.lstat(self.folder), stat.S_ISDIR)
        except OSError as err:
            raise JournalError("%s %s cannot be created (%s): set %s to a folder of your own." % (self.option, self.folder, err.strerror, self.option))
        if not ok:
            raise JournalError("%s %s must be a folder of your own that others cannot read (mode 0700): fix its owner and "
                               "mode, or set %s to another folder." % (self.option, self.folder, self.option))

    def read(self, key):
        """The entry of this request, or None (never written, unreadable, or not private)."""
        try:
            if not self._private(os.lstat(self.folder), stat.S_ISDIR):
                return None
            fd = os.open(self._path(key), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        try:
            if not self._private(os.fstat(fd), stat.S_ISREG):
                return None
            with os.fdopen(fd, "r") as handle:
                fd = None
                data = json.load(handle)
        except (OSError, ValueError):
            return None
        finally:
            if fd is not None:
                os.close(fd)
        if not isinstance(data, dict) or data.get("key") != key or not isinstance(data.get("task_id"), int):
            return None
        return data

    def write(self, key, **entry):
        """Record (atomically) what a re-run of this request must find: the task id and the request."""
        self._ensure_folder()
        entry.update(key=key, written_at=self._wall())
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(prefix=".task-", dir=self.folder)  # 0600 from the start
            with os.fdopen(fd, "w") as handle:
                json.dump(entry, handle, sort_keys=True)
            os.replace(tmp, self._path(key))
            tmp = None
        except OSError as err:
            raise JournalError("%s %s: cannot record task %s (%s); the task runs on: note its id." % (
                self.option, self.folder, entry.get("task_id"), err.strerror))
        finally:
            if tmp is not None:
                try:
                    os.remove(tmp)
                except OSError:
                    pass
        return entry

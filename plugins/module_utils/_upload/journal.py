# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local journal that lets a killed upload resume.

One file per (target, source identity) under `journal_dir` (default
~/.cache/citrix_community.ips/uploads/). Line 1 is a JSON header written atomically (temp file,
fsync, rename); every later line is appended with one os.write on an O_APPEND descriptor, so a
SIGKILL loses nothing that was written (the kernel holds it) and at worst leaves a torn last line,
which is ignored on reading:

    {"version": 1, "key": ..., "identity": ..., "unit": 524288, ...}     header
    M <json>          target facts: {"snapshot_id": ..., "client_token": ...}, GCS parts ...
    S <unit>          a unit handed to a sender (in flight)
    D <unit> [hex]    the target acknowledged the unit (EBS: with its SHA-256, for the aggregate)
    Z <unit>          the unit is all zeros: nothing to send

So after a kill, in flight = units with S and no D: exactly what a re-run sends again.
The journal is removed once the target is complete and tagged.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import threading

from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError

DEFAULT_DIR = os.path.join("~", ".cache", "citrix_community.ips", "uploads")
VERSION = 1


def journal_path(journal_dir, key, suffix=".journal"):
    """<journal_dir>/<sha256 of key><suffix>: the journal, or with suffix .lock the upload lock (lock.py)."""
    folder = os.path.expanduser(journal_dir or DEFAULT_DIR)
    name = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40] + suffix
    return os.path.join(folder, name)


class PathError(IPSError):
    """A folder the upload must write cannot be made: names the option and the fix."""


def make_folder(folder, option):
    """Make `folder` (0700) unless it is one already; PathError naming `option` when a file or permissions stand in the way."""
    if os.path.isdir(folder):
        return
    try:
        os.makedirs(folder, mode=0o700)
    except OSError as e:
        if not os.path.isdir(folder):
            raise PathError("%s %s cannot be created (%s); give a folder the user that runs the task can write"
                            % (option, folder, e.strerror or e))


def atomic_write(path, text):
    """Write `text` to `path` through a temp file and rename (readers never see half a file)."""
    folder = os.path.dirname(path) or "."
    tmp = os.path.join(folder, ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, path)


class Journal(object):
    """Load or start the journal of one upload; record starts, completions and target facts."""

    def __init__(self, journal_dir, key, identity, unit, fresh=False):
        self.path = journal_path(journal_dir, key)
        self.key = key
        self.identity = identity
        self.unit = unit
        self.meta = {}
        self.done = {}  # unit -> digest hex or "" (sent) / None (zero)
        self.started = set()
        self.resumed = False
        self._fd = None
        self._lock = threading.Lock()
        make_folder(os.path.dirname(self.path), "journal_dir")
        if not fresh and os.path.exists(self.path) and self._load():
            self.resumed = True
        else:
            header = {"version": VERSION, "key": key, "identity": identity, "unit": unit}
            atomic_write(self.path, json.dumps(header, sort_keys=True) + "\n")
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)

    def _load(self):
        with open(self.path, "rb") as src:
            lines = src.read().decode("utf-8", "replace").split("\n")
        try:
            header = json.loads(lines[0])
        except ValueError:
            return False
        if header.get("version") != VERSION or header.get("identity") != self.identity or header.get("unit") != self.unit \
                or header.get("key") != self.key:
            return False
        complete = lines[1:-1]  # the last element is "" after a final newline, or a torn line: ignored
        for line in complete:
            kind, _sep, rest = line.partition(" ")
            try:
                if kind == "M":
                    self.meta.update(json.loads(rest))
                elif kind == "S":
                    self.started.add(int(rest))
                elif kind == "D":
                    idx, _sep, digest = rest.partition(" ")
                    self.done[int(idx)] = digest
                elif kind == "Z":
                    self.done[int(rest)] = None
            except ValueError:
                continue
        return True

    def reset(self):
        """Forget everything (the target object the journal described is gone or was replaced)."""
        with self._lock:
            self.meta = {}
            self.done = {}
            self.started = set()
            self.resumed = False
            header = {"version": VERSION, "key": self.key, "identity": self.identity, "unit": self.unit}
            atomic_write(self.path, json.dumps(header, sort_keys=True) + "\n")
            if self._fd is not None:
                os.close(self._fd)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)

    def _append(self, line):
        os.write(self._fd, (line + "\n").encode("utf-8"))

    def set_meta(self, **facts):
        with self._lock:
            self.meta.update(facts)
            self._append("M " + json.dumps(facts, sort_keys=True))

    def start(self, unit):
        self._append("S %d" % unit)

    def complete(self, unit, digest=""):
        with self._lock:
            self.done[unit] = digest
        self._append("D %d %s" % (unit, digest) if digest else "D %d" % unit)

    def zero(self, unit):
        with self._lock:
            self.done[unit] = None
        self._append("Z %d" % unit)

    @property
    def in_flight(self):
        """Units started and not acknowledged (after a kill: what a re-run sends again)."""
        return sorted(self.started - set(self.done))

    def sent_units(self):
        return sorted(u for u, d in self.done.items() if d is not None)

    def close(self):
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def remove(self):
        self.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


def read_journal(path):
    """(header, started, done) of a journal file, for tests and the progress display."""
    with open(path, "rb") as src:
        lines = src.read().decode("utf-8", "replace").split("\n")
    header = json.loads(lines[0])
    started, done = set(), {}
    for line in lines[1:-1]:
        kind, _sep, rest = line.partition(" ")
        if kind == "S":
            started.add(int(rest))
        elif kind == "D":
            idx, _sep, digest = rest.partition(" ")
            done[int(idx)] = digest
        elif kind == "Z":
            done[int(rest)] = None
    return header, started, done

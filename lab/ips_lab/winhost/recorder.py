"""The calls the Windows host ran: cmdlet, each parameter with the .NET type it arrived as and its value
(secure strings and credential passwords masked), positional arguments, and the error id when it failed."""

import threading

from ..common.clock import iso

MAX_RECORDS = 5000


class CallRecorder(object):
    def __init__(self, clock):
        self._clock = clock
        self._lock = threading.Lock()
        self._items = []

    def record(self, entry):
        """Keep `entry` (a dict the caller may still complete, e.g. with "error")."""
        entry["time"] = iso(self._clock.now())
        with self._lock:
            self._items.append(entry)
            del self._items[:-MAX_RECORDS]

    def items(self):
        with self._lock:
            return [dict(e) for e in self._items]

    def clear(self):
        with self._lock:
            self._items = []

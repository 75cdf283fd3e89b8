"""The lab clock: wall time plus an offset tests can advance; the offset is persisted."""

import time
from datetime import datetime, timezone


class LabClock(object):
    def __init__(self, store):
        self._store = store
        self._offset = float(store.get_meta("clock_offset", 0.0))

    def now(self):
        return time.time() + self._offset

    def advance(self, seconds):
        with self._store.lock:
            self._offset += float(seconds)
            self._store.set_meta("clock_offset", self._offset)
        return self._offset

    @property
    def offset(self):
        return self._offset


def iso(ts):
    """ISO-8601 UTC with microseconds, as the service writes timestamps."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

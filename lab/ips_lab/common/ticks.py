"""The loop of the lab's job workers (the Citrix Cloud stand-in's and the Windows host's): a tick every BUSY_SECONDS
while jobs run, so their work starts on time; every IDLE_SECONDS when none does, so an idle lab costs next to no
CPU (a test run keeps half a dozen labs up for a quarter of an hour); and at once when a job is submitted (`poke`)."""

import logging
import threading

LOG = logging.getLogger(__name__)
BUSY_SECONDS = 0.05
IDLE_SECONDS = 0.5


class Ticks(object):
    def __init__(self, tick, name, busy_seconds=BUSY_SECONDS, idle_seconds=IDLE_SECONDS):
        """`tick()` does one round of work and returns whether jobs are still running."""
        self._tick = tick
        self._name = name
        self._busy, self._idle = busy_seconds, idle_seconds
        self.stopping = threading.Event()
        self._poked = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self):
        self._thread.start()

    def poke(self):
        self._poked.set()

    def stop(self, timeout=30):
        self.stopping.set()
        self._poked.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self):
        wait = self._busy
        while True:
            self._poked.wait(wait)
            self._poked.clear()
            if self.stopping.is_set():
                return
            try:
                busy = self._tick()
            except Exception:  # a worker that dies would freeze every job; log and go on
                LOG.exception("%s tick failed", self._name)
                busy = True
            wait = self._busy if busy else self._idle

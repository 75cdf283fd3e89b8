"""The lab workers' loop (lab/ips_lab/common/ticks.py): fast while jobs run, rare when idle, at once when poked.
The idle wait here is long (5 s), so the bounds hold on a loaded machine too."""

import threading
import time

from ips_lab.common.ticks import Ticks

BUSY, IDLE = 0.05, 5.0


def wait_for(cond, seconds):
    deadline = time.monotonic() + seconds
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.01)
    return cond()


def test_idle_ticks_are_rare_a_poke_ticks_at_once_and_busy_ticks_are_fast():
    calls, busy = [], threading.Event()

    def tick():
        calls.append(time.monotonic())
        return busy.is_set()

    ticks = Ticks(tick, "test-ticks", busy_seconds=BUSY, idle_seconds=IDLE)
    ticks.start()
    try:
        assert wait_for(lambda: len(calls) == 1, IDLE / 2), "no first tick"
        time.sleep(1.0)
        assert len(calls) == 1, "an idle loop ticked again before its idle wait ended: %d ticks" % len(calls)
        poked = time.monotonic()
        ticks.poke()
        assert wait_for(lambda: len(calls) == 2, IDLE / 2), "a poke did not tick before the idle wait ended"
        assert calls[1] - poked < IDLE / 2
        busy.set()
        ticks.poke()
        assert wait_for(lambda: len(calls) >= 8, IDLE / 2), "busy ticks came at the idle pace: %d ticks" % len(calls)
    finally:
        ticks.stop(5)
    assert not ticks._thread.is_alive()  # pylint: disable=protected-access
    ended = len(calls)
    time.sleep(3 * BUSY)
    assert len(calls) == ended


def test_a_tick_that_raises_is_logged_and_the_loop_goes_on(caplog):
    calls = []

    def tick():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return False

    ticks = Ticks(tick, "test-ticks", busy_seconds=BUSY, idle_seconds=IDLE)
    ticks.start()
    try:
        # a tick that raised counts as busy: the next one comes at the busy pace
        assert wait_for(lambda: len(calls) >= 2, IDLE / 2)
    finally:
        ticks.stop(5)
    assert "test-ticks tick failed" in caplog.text

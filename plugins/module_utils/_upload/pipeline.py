# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The read-once pipeline: readers -> zero skip -> bounded queue -> senders, for one target or
several (fan-out: one read of the source feeds every target).

    readers (source.parallel_reads threads)  take the reads in file order, fill buffers from a
                                             fixed pool, offer each buffer to every lane that
                                             still needs some of it
    lanes (one per target)                   UnitLane (Azure 4 MiB windows, EBS 512 KiB blocks)
                                             cuts a buffer into units; the GCP target's PartLane
                                             (gcp.py) copies bytes into archive parts
    zero skip                                `ZERO.startswith(view)`: memcmp, no copy
    bounded queue                            the buffer pool is the bound: memory is
                                             pool x read_size whatever the disk size and the
                                             number of targets (pool_size: the hungriest lane's
                                             senders + readers + 2); a buffer is free again
                                             when the last lane releases it
    back-pressure                            each lane's work queue is bounded: a full one makes
                                             the readers wait, so the slowest target sets the
                                             pace and nothing piles up in memory
    senders (`concurrency` threads per lane) target.send(unit, data) with retries and back-off
    journal (one per target)                 S before a send, D after the acknowledgement

A lane that fails stops alone; the others go on. Pieces of one unit that arrive in several reads
are copied into one unit buffer (uncovered bytes stay zero, as they read on the virtual disk) and
emitted when the unit's planned bytes are in.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

try:
    import queue
except ImportError:  # pragma: no cover
    import Queue as queue  # type: ignore

from ansible_collections.citrix_community.ips.plugins.module_utils import _retries, _waiter
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError

ZERO = bytes(8 * 1024 * 1024)


def is_zero(view):
    """True if every byte of `view` (len <= 8 MiB) is zero; memcmp speed, no copy."""
    return ZERO.startswith(view)


class UploadError(IPSError):
    """The upload failed: what the target said, and what to do."""


def retrier(tries=8):
    """The shared retry loop (`_retries.Retrier`) with the upload's budget: `tries` attempts, back-off
    from 0.5 s up to 30 s; a target's `classify(exc)` -> (retry, throttled, wait) decides each failure."""
    return _retries.Retrier(_retries.policy(max_retries=max(1, int(tries)) - 1, max_delay=30.0, base_delay=0.5))


def retry_after(exc):
    """Seconds the service asked to wait (the Retry-After of the failed response an SDK exception carries:
    azure-core's and requests' both keep it on `exc.response.headers`), or 0 (back off by the formula)."""
    headers = getattr(getattr(exc, "response", None), "headers", None)
    try:
        value = headers.get("Retry-After") if headers is not None else None
    except AttributeError:
        return 0
    return _retries.parse_retry_after(value) or 0


class RateLimit(object):
    """A shared byte budget per second (Azure: stay under the disk tier's ingest cap instead of provoking 503s).

    A token bucket holding `burst` seconds of the rate: time the senders did not use (every sender waiting on a slow
    request) is credited up to one second, so they catch up afterwards, as the service's own bucket allows; without the
    credit a stall was lost for good (a paced upload ran at 0.77 of its cap on a loaded machine, refused nothing)."""

    def __init__(self, bytes_per_second, clock=time.monotonic, pause=_waiter.pause, burst=1.0):
        self.rate = float(bytes_per_second)
        self.clock = clock
        self.pause = pause
        self.burst = float(burst)
        self._next = clock()
        self._lock = threading.Lock()

    def take(self, nbytes):
        with self._lock:
            now = self.clock()
            start = max(now - self.burst, self._next)
            self._next = start + nbytes / self.rate
        if start > now:
            self.pause(start - now)


class _Buffer(object):
    __slots__ = ("data", "refs")

    def __init__(self, size):
        self.data = bytearray(size)
        self.refs = 0


class _Pool(object):
    def __init__(self, count, size):
        self._lock = threading.Lock()
        self._free = queue.Queue()
        for _i in range(count):
            self._free.put(_Buffer(size))

    def get(self, stop):
        while not stop.is_set():
            try:
                return self._free.get(timeout=0.2)
            except queue.Empty:
                continue
        return None

    def put(self, buf):
        self._free.put(buf)

    def ref(self, buf):
        with self._lock:
            buf.refs += 1

    def release(self, buf):
        """One holder is done with `buf`; the last one gives it back to the pool."""
        with self._lock:
            buf.refs -= 1
            free = buf.refs == 0
        if free:
            self._free.put(buf)


class Stats(object):
    def __init__(self):
        self.bytes_read = 0
        self.bytes_sent = 0
        self.units_sent = 0
        self.units_zero = 0
        self.requests = 0
        self.lock = threading.Lock()

    def add(self, **kw):
        with self.lock:
            for key, value in kw.items():
                setattr(self, key, getattr(self, key) + value)


def pool_size(concurrency, unit, read_size, readers):
    """Buffers the pipeline needs: what the senders hold (concurrency x unit, in read-size buffers),
    one being filled per reader, and two filled ones waiting, so a sender never waits for a reader
    that has a buffer to read into. Azure (8 x 4 MiB, 2 readers, 8 MiB reads): 8 buffers = 64 MiB;
    EBS (16 x 512 KiB): 5 buffers = 40 MiB."""
    return -(-concurrency * unit // read_size) + readers + 2


class UnitLane(object):
    """One unit target's share of the read-once pass: the units it still needs (its own plan), its journal, its
    bounded work queue and its `concurrency` senders. A lane that fails stops alone (`lane.stop`); the others go on.

    target: `whole_units` (EBS: a unit is sent whole; Azure: any aligned piece), `send(index, virtual_offset, view)
    -> (bytes_sent, requests, digest)`, `classify(exc) -> (retry, throttled, wait_seconds)`; with `paces_requests`,
    send takes `pace(nbytes)` and calls it before each request (the lane's rate is charged what is sent).
    """

    def __init__(self, image, plan, target, journal, progress, concurrency=8, retry=None, rate=None):
        self.image = image
        self.plan = plan
        self.target = target
        self.journal = journal
        self.progress = progress
        self.concurrency = max(1, int(concurrency))
        self.retry = retry or retrier()
        self.rate = rate
        # a piece target that sends less than it is given (Azure: the non-zero runs of a window) is paced by each
        # request it makes (send's `pace`): charging the whole window paced a sparse one as if it were all data
        self.paced_by_target = rate is not None and getattr(target, "paces_requests", False)
        self.unit = plan.unit_size
        self.whole = getattr(target, "whole_units", True)
        self.stats = Stats()
        self.stop = threading.Event()
        self.errors = []
        # back-pressure: a sender-bound queue; a full one makes the readers wait (the slowest lane sets the pace)
        self.work = queue.Queue(maxsize=self.concurrency * 2)
        self.partial = {}  # unit -> [bytearray(unit), bytes still expected]
        self.lock = threading.Lock()
        self.remaining = dict(plan.coverage)  # piece targets: stored bytes of a unit not yet acknowledged
        self.touched = set()  # piece targets: units of which something non-zero was sent
        self.started = set()
        self.threads = []

    def memory(self):
        """Bytes of read buffers this lane's senders can hold at once (what the shared pool must cover)."""
        return self.concurrency * self.unit

    def wants(self, r):
        first, last = r.virtual_offset // self.unit, (r.virtual_offset + r.length - 1) // self.unit
        return any(i in self.plan.coverage for i in range(first, last + 1))

    def fail(self, exc):
        self.errors.append(exc)
        self.stop.set()

    def counted(self, index, view):
        """The progress a unit or piece is worth: its stored bytes (what progress.total adds up), not a whole unit's
        padded length (an EBS block holding a few KiB of data is 512 KiB long)."""
        return self.plan.coverage.get(index, len(view)) if self.whole else len(view)

    def settle(self, index, nbytes, sent_something):
        """Piece targets: a piece of `index` is acknowledged (or was zero); journal the unit when all are."""
        with self.lock:
            self.remaining[index] -= nbytes
            if sent_something:
                self.touched.add(index)
            last = self.remaining[index] == 0
            any_sent = index in self.touched
        if last:
            if any_sent:
                self.journal.complete(index)
            else:
                self.journal.zero(index)

    def emit(self, index, voff, view, buf, pool, halt):
        """A complete unit (or, for piece targets, one piece): zeros are journaled, the rest queued for a sender
        (holding a reference on `buf` until the sender is done with it)."""
        if is_zero(view):
            if self.whole:
                self.journal.zero(index)
            else:
                self.settle(index, len(view), False)
            self.stats.add(units_zero=1 if self.whole else 0)
            self.progress.add(done=self.counted(index, view))
            return
        if buf is not None:
            pool.ref(buf)
        while not self.stop.is_set() and not halt.is_set():
            try:
                self.work.put((index, voff, view, buf), timeout=0.2)
                return
            except queue.Full:
                continue
        if buf is not None:
            pool.release(buf)

    def take(self, r, view, buf, pool, halt):
        """The pieces of read `r` (its bytes in `view`, in pool buffer `buf`) that this lane still needs."""
        unit, whole = self.unit, self.whole
        pos = r.virtual_offset
        end = r.virtual_offset + r.length
        while pos < end and not self.stop.is_set():
            idx = pos // unit
            stop_at = min(end, (idx + 1) * unit)
            start, pos = pos, stop_at
            if idx not in self.plan.coverage:
                continue  # done already (a resumed lane)
            piece = view[start - r.virtual_offset:stop_at - r.virtual_offset]
            aligned = start % 512 == 0 and stop_at % 512 == 0
            if (not whole and aligned) or (start == idx * unit and stop_at - start == unit):
                self.emit(idx, start, piece, buf, pool, halt)
                continue
            if not whole:
                raise UploadError("%s stores data at virtual bytes %d to %d, not on 512-byte sectors; a VHD/VHDX cannot do "
                                  "that: copy the image again from its origin" % (self.image.name, start, stop_at))
            # EBS: a unit in several pieces, or a short last unit: copy into a zeroed unit buffer
            # (bytes no piece covers are zeros on the virtual disk too)
            with self.lock:
                slot = self.partial.get(idx)
                if slot is None:
                    slot = self.partial[idx] = [bytearray(unit), self.plan.coverage[idx]]
                slot[0][start - idx * unit:stop_at - idx * unit] = piece
                slot[1] -= stop_at - start
                ready = slot[1] == 0
                if ready:
                    del self.partial[idx]
            if ready:
                self.emit(idx, idx * unit, memoryview(slot[0]), None, pool, halt)

    def sender(self, pool, halt, done_reading):
        journal, target, stats = self.journal, self.target, self.stats
        while True:
            try:
                item = self.work.get(timeout=0.2)
            except queue.Empty:
                if self.stop.is_set() or halt.is_set() or (done_reading.is_set() and self.work.empty()):
                    return
                continue
            index, voff, view, buf = item
            try:
                if self.stop.is_set() or halt.is_set():
                    continue
                if self.rate is not None and not self.paced_by_target:
                    self.rate.take(len(view))
                if self.whole or index not in self.started:
                    self.started.add(index)
                    journal.start(index)
                pace = {"pace": self.rate.take} if self.paced_by_target else {}
                sent, requests, digest = self.retry.call(target.classify, target.send, index, voff, view, **pace)
                if self.whole:
                    journal.complete(index, digest or "")
                    stats.add(units_sent=1)
                else:
                    self.settle(index, len(view), sent > 0)
                stats.add(bytes_sent=sent, requests=requests)
                self.progress.add(done=self.counted(index, view), sent=sent)
            except Exception as exc:  # pylint: disable=broad-except
                self.fail(exc)
            finally:
                if buf is not None:
                    pool.release(buf)

    def launch(self, pool, halt, done_reading):
        def run():
            try:
                self.sender(pool, halt, done_reading)
            except Exception as exc:  # pylint: disable=broad-except
                self.fail(exc)
        self.threads = [threading.Thread(target=run, name="ips-send-%s-%d" % (self.target.name, i)) for i in range(self.concurrency)]
        for t in self.threads:
            t.daemon = True
            t.start()

    def join(self, pool):
        for t in self.threads:
            t.join()
        if not self.errors and self.partial:
            self.fail(UploadError("internal error: %d units of %s were never completed" % (len(self.partial), self.image.name)))
        # a failed lane: what is still queued gives its buffers back
        while True:
            try:
                _i, _v, _view, buf = self.work.get_nowait()
            except queue.Empty:
                break
            if buf is not None:
                pool.release(buf)

    def result(self):
        """Stats of this lane, or raises its first failure (an UploadError naming the target)."""
        if self.errors:
            if isinstance(self.errors[0], IPSError):
                raise self.errors[0]
            raise self.target.send_error(self.errors[0])
        stats = self.stats
        if not self.whole:
            stats.units_sent = len(self.touched)
            stats.units_zero = sum(1 for u in self.plan.coverage if u not in self.touched)
        stats.retries = self.retry.retries
        stats.throttled = self.retry.throttled
        stats.units_skipped = len(self.plan.skipped_units)
        return stats


def run_lanes(image, reads, lanes, read_size, stop=None):
    """The read-once pass shared by every lane (one per target): readers take `reads` in file order into buffers
    of one pool and offer each buffer to every lane that is still running and needs some of it; a buffer goes back
    to the pool when the last lane is done with it. Memory is the pool (sized for the hungriest lane, not for
    their number) plus each lane's own bounded buffers. A lane that fails stops alone; the others go on.
    Returns the bytes read. Every lane's outcome is then in `lane.result()`."""
    halt = stop or threading.Event()
    readers = max(1, int(getattr(image.source, "parallel_reads", 1) or 1))
    hungriest = max(lanes, key=lambda lane: lane.memory())
    pool = _Pool(pool_size(1, max(hungriest.memory(), read_size), read_size, readers), read_size)
    todo = queue.Queue()
    for r in reads:
        todo.put(r)
    read_stats = Stats()
    failures = []
    done_reading = threading.Event()

    def reader():
        try:
            while not halt.is_set():
                live = [lane for lane in lanes if not lane.stop.is_set()]
                if not live:
                    return
                try:
                    r = todo.get_nowait()
                except queue.Empty:
                    return
                wanting = [lane for lane in live if lane.wants(r)]
                if not wanting:
                    continue
                buf = pool.get(halt)
                if buf is None:
                    return
                buf.refs = 1  # the reader's own, until every lane has taken its pieces
                try:
                    view = memoryview(buf.data)[:r.length]
                    got = image.source.readinto_at(r.file_offset, view)
                    if got != r.length:
                        raise UploadError("%s ended while reading %d bytes at offset %d (the file is shorter than its allocation "
                                          "table says); copy the image again from its origin" % (image.name, r.length, r.file_offset))
                    read_stats.add(bytes_read=got)
                    wanting[0].progress.add(read=got)  # the lanes of one upload share its progress: counted once
                    for lane in wanting:
                        try:
                            lane.take(r, view, buf, pool, halt)
                        except Exception as exc:  # pylint: disable=broad-except
                            lane.fail(exc)
                finally:
                    pool.release(buf)
        except Exception as exc:  # pylint: disable=broad-except
            # the source failed: every lane stops with that error
            failures.append(exc)
            for lane in lanes:
                lane.fail(exc)

    for lane in lanes:
        lane.launch(pool, halt, done_reading)
    reader_threads = [threading.Thread(target=reader, name="ips-read-%d" % i) for i in range(readers)]
    for t in reader_threads:
        t.daemon = True
        t.start()
    for t in reader_threads:
        t.join()
    done_reading.set()
    for lane in lanes:
        lane.join(pool)
    return read_stats.bytes_read


def run_units(image, plan, target, journal, progress, concurrency=8, read_size=None, retry=None, stop=None, rate=None):
    """Upload every unit of `plan` to `target` (a fan-out of one); returns Stats. Raises the failure."""
    lane = UnitLane(image, plan, target, journal, progress, concurrency=concurrency, retry=retry, rate=rate)
    bytes_read = run_lanes(image, plan.reads, [lane], plan.read_size, stop=stop)
    stats = lane.result()
    stats.bytes_read = bytes_read
    return stats

# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The read-once pipeline: readers -> zero skip -> bounded queue -> senders, for unit targets
(Azure 4 MiB windows, EBS 512 KiB blocks).

    readers (source.parallel_reads threads)  take the plan's reads in file order, fill buffers
                                             from a fixed pool, cut them into units
    zero skip                                `ZERO.startswith(view)`: memcmp, no copy
    bounded queue                            the buffer pool is the bound: memory is
                                             pool x read_size whatever the disk size
                                             (pool_size: senders' share + readers + 2)
    senders (`concurrency` threads)          target.send(unit, data) with retries and back-off
    journal                                  S before a send, D after the acknowledgement

Pieces of one unit that arrive in several reads are copied into one unit buffer (uncovered bytes
stay zero, as they read on the virtual disk) and emitted when the unit's planned bytes are in.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

try:
    import queue
except ImportError:  # pragma: no cover
    import Queue as queue  # type: ignore

from ansible_collections.citrix_community.ips.plugins.module_utils import _retries
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError

ZERO = bytes(8 * 1024 * 1024)


def is_zero(view):
    """True if every byte of `view` (len <= 8 MiB) is zero; memcmp speed, no copy."""
    return ZERO.startswith(view)


class UploadError(IPSError):
    """The upload failed: what the target said, and what to do."""


def retrier(tries=8, sleep=time.sleep):
    """The shared retry loop (`_retries.Retrier`) with the upload's budget: `tries` attempts, back-off
    from 0.5 s up to 30 s; a target's `classify(exc)` -> (retry, throttled, wait) decides each failure."""
    return _retries.Retrier(_retries.policy(max_retries=max(1, int(tries)) - 1, max_delay=30.0, base_delay=0.5), sleep=sleep)


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
    """A shared byte budget per second (Azure: stay under the disk tier's ingest cap instead of provoking 503s)."""

    def __init__(self, bytes_per_second, clock=time.monotonic, sleep=time.sleep):
        self.rate = float(bytes_per_second)
        self.clock = clock
        self.sleep = sleep
        self._next = clock()
        self._lock = threading.Lock()

    def take(self, nbytes):
        with self._lock:
            now = self.clock()
            start = max(now, self._next)
            self._next = start + nbytes / self.rate
        if start > now:
            self.sleep(start - now)


class _Buffer(object):
    __slots__ = ("data", "refs")

    def __init__(self, size):
        self.data = bytearray(size)
        self.refs = 0


class _Pool(object):
    def __init__(self, count, size):
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


def run_units(image, plan, target, journal, progress, concurrency=8, read_size=None, retry=None, stop=None, rate=None):
    """Upload every unit of `plan` to `target`; returns Stats. Raises the first failure.

    target: `whole_units` (EBS: a unit is sent whole; Azure: any aligned piece), `send(index, virtual_offset, view)
    -> (bytes_sent, requests, digest)`, `classify(exc) -> (retry, throttled, wait_seconds)`.
    """
    retry = retry or retrier()
    stop = stop or threading.Event()
    stats = Stats()
    unit = plan.unit_size
    read_size = plan.read_size
    readers = max(1, int(getattr(image.source, "parallel_reads", 1) or 1))
    concurrency = max(1, int(concurrency))
    # the bound on memory: every buffer in use is in this pool (plus unit copies for split units)
    pool = _Pool(pool_size(concurrency, unit, read_size, readers), read_size)
    reads = queue.Queue()
    for r in plan.reads:
        reads.put(r)
    work = queue.Queue(maxsize=concurrency * 2)
    errors = []
    partial = {}  # unit -> [bytearray(unit), bytes still expected]
    partial_lock = threading.Lock()

    def fail(exc):
        errors.append(exc)
        stop.set()

    def release(buf):
        with partial_lock:
            buf.refs -= 1
            free = buf.refs == 0
        if free:
            pool.put(buf)

    whole = getattr(target, "whole_units", True)
    remaining = dict(plan.coverage)  # piece targets: stored bytes of a unit not yet acknowledged
    touched = set()  # piece targets: units of which something non-zero was sent

    def counted(index, view):
        """The progress a unit or piece is worth: its stored bytes (what progress.total adds up), not a whole unit's
        padded length (an EBS block holding a few KiB of data is 512 KiB long)."""
        return plan.coverage.get(index, len(view)) if whole else len(view)

    def settle(index, nbytes, sent_something):
        """Piece targets: a piece of `index` is acknowledged (or was zero); journal the unit when all are."""
        with partial_lock:
            remaining[index] -= nbytes
            if sent_something:
                touched.add(index)
            last = remaining[index] == 0
            any_sent = index in touched
        if last:
            if any_sent:
                journal.complete(index)
            else:
                journal.zero(index)

    def emit(index, voff, view, buf):
        """A complete unit (or, for piece targets, one piece): zeros are journaled, the rest queued for a sender."""
        if is_zero(view):
            if whole:
                journal.zero(index)
            else:
                settle(index, len(view), False)
            stats.add(units_zero=1 if whole else 0)
            progress.add(done=counted(index, view))
            if buf is not None:
                release(buf)
            return
        while not stop.is_set():
            try:
                work.put((index, voff, view, buf), timeout=0.2)
                return
            except queue.Full:
                continue
        if buf is not None:
            release(buf)

    def reader():
        try:
            while not stop.is_set():
                try:
                    r = reads.get_nowait()
                except queue.Empty:
                    return
                buf = pool.get(stop)
                if buf is None:
                    return
                view = memoryview(buf.data)[:r.length]
                got = image.source.readinto_at(r.file_offset, view)
                if got != r.length:
                    raise UploadError("%s ended while reading %d bytes at offset %d (the file is shorter than its allocation table "
                                      "says); copy the image again from its origin" % (image.name, r.length, r.file_offset))
                stats.add(bytes_read=got)
                progress.add(read=got)
                pieces = []
                pos = r.virtual_offset
                end = r.virtual_offset + r.length
                while pos < end:
                    idx = pos // unit
                    stop_at = min(end, (idx + 1) * unit)
                    pieces.append((idx, pos, stop_at))
                    pos = stop_at
                with partial_lock:
                    buf.refs = len(pieces) + 1
                for idx, start, stop_at in pieces:
                    piece = view[start - r.virtual_offset:stop_at - r.virtual_offset]
                    aligned = start % 512 == 0 and stop_at % 512 == 0
                    if (not whole and aligned) or (start == idx * unit and stop_at - start == unit):
                        emit(idx, start, piece, buf)
                        continue
                    if not whole:
                        raise UploadError("%s stores data at virtual bytes %d to %d, not on 512-byte sectors; a VHD/VHDX cannot do "
                                          "that: copy the image again from its origin" % (image.name, start, stop_at))
                    # EBS: a unit in several pieces, or a short last unit: copy into a zeroed unit buffer
                    # (bytes no piece covers are zeros on the virtual disk too)
                    with partial_lock:
                        slot = partial.get(idx)
                        if slot is None:
                            slot = partial[idx] = [bytearray(unit), plan.coverage[idx]]
                        slot[0][start - idx * unit:stop_at - idx * unit] = piece
                        slot[1] -= stop_at - start
                        ready = slot[1] == 0
                        if ready:
                            del partial[idx]
                    release(buf)
                    if ready:
                        emit(idx, idx * unit, memoryview(slot[0]), None)
                release(buf)
        except Exception as exc:  # pylint: disable=broad-except
            fail(exc)

    def sender():
        try:
            while True:
                try:
                    item = work.get(timeout=0.2)
                except queue.Empty:
                    if stop.is_set() or (done_reading.is_set() and work.empty()):
                        return
                    continue
                index, voff, view, buf = item
                try:
                    if stop.is_set():
                        continue
                    if rate is not None:
                        rate.take(len(view))
                    if whole or index not in started:
                        started.add(index)
                        journal.start(index)
                    sent, requests, digest = retry.call(target.classify, target.send, index, voff, view)
                    if whole:
                        journal.complete(index, digest or "")
                        stats.add(units_sent=1)
                    else:
                        settle(index, len(view), sent > 0)
                    stats.add(bytes_sent=sent, requests=requests)
                    progress.add(done=counted(index, view), sent=sent)
                finally:
                    if buf is not None:
                        release(buf)
        except Exception as exc:  # pylint: disable=broad-except
            fail(exc)

    started = set()
    done_reading = threading.Event()
    reader_threads = [threading.Thread(target=reader, name="ips-read-%d" % i) for i in range(readers)]
    sender_threads = [threading.Thread(target=sender, name="ips-send-%d" % i) for i in range(concurrency)]
    for t in reader_threads + sender_threads:
        t.daemon = True
        t.start()
    for t in reader_threads:
        t.join()
    if not errors and partial:
        fail(UploadError("internal error: %d units of %s were never completed" % (len(partial), image.name)))
    done_reading.set()
    for t in sender_threads:
        t.join()
    if errors:
        if isinstance(errors[0], IPSError):
            raise errors[0]
        raise target.send_error(errors[0])
    if not whole:
        stats.units_sent = len(touched)
        stats.units_zero = sum(1 for u in plan.coverage if u not in touched)
    stats.retries = retry.retries
    stats.throttled = retry.throttled
    return stats

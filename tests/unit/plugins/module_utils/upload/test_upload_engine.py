"""Unit tests of the upload engine's pure parts: plan, zero runs, journal, tar stream, CRC combine, rate limit."""

import gzip
import io
import os
import random
import sys
import tarfile
import time
import zlib
from collections import namedtuple
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ansible_collections.citrix_community.ips.plugins.module_utils._upload.zeros import nonzero_runs
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.journal import Journal, read_journal
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.pipeline import RateLimit, is_zero
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.plan import Plan
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.tarstream import (
    CRC32C, GZIP_HEADER, StoredStream, archive_head, archive_tail, crc32_combine, decode_entries, deflate_part, encode_entries,
    gzip_trailer, incompressible, merge_entries, sparse_part)

MIB = 1024 * 1024
Ext = namedtuple("Ext", ["virtual_offset", "length", "file_offset"])


class FakeImage(object):
    def __init__(self, extents, virtual_size, data=None):
        self._extents = extents
        self.virtual_size = virtual_size
        self.source = self
        self.data = data

    def extents(self):
        return iter(self._extents)

    def readinto_at(self, offset, buf):
        chunk = self.data[offset:offset + len(buf)]
        buf[:len(chunk)] = chunk
        return len(chunk)


def test_plan_cuts_reads_at_units_and_counts_coverage():
    img = FakeImage([Ext(MIB, 3 * MIB, 0), Ext(0, 512 * 1024, 3 * MIB)], 8 * MIB)
    plan = Plan(img, 524288, read_size=MIB)
    assert sum(r.length for r in plan.reads) == 3 * MIB + 512 * 1024
    assert plan.coverage == dict([(i, 524288) for i in range(2, 8)] + [(0, 524288)])
    assert all(r.length <= MIB for r in plan.reads)


def test_plan_skips_done_units_without_reading_them():
    img = FakeImage([Ext(0, 4 * MIB, 0)], 4 * MIB)
    plan = Plan(img, MIB, read_size=4 * MIB, done={1, 2})
    assert plan.bytes_to_read == 2 * MIB and plan.skipped_units == {1, 2}


def test_zero_detection_and_runs():
    buf = bytearray(4 * MIB)
    assert is_zero(memoryview(buf))
    buf[100] = 1
    buf[2 * MIB] = 1
    runs = nonzero_runs(memoryview(buf), base=8 * MIB)
    assert runs == [(8 * MIB, 8 * MIB + 512), (10 * MIB, 10 * MIB + 512)]  # the sectors, not the 64 KiB scan steps
    buf[200 * 1024] = 1  # two sectors of data cannot pay for a 200 KiB gap: never bridged
    assert nonzero_runs(memoryview(buf))[:2] == [(0, 512), (200 * 1024, 200 * 1024 + 512)]
    dense = bytearray(b"\x01" * (4 * MIB))
    dense[MIB:MIB + 1024] = bytes(1024)  # a 1 KiB hole in 4 MiB of data is within 1 %: one request
    assert nonzero_runs(memoryview(dense)) == [(0, 4 * MIB)]


def _sectors(buf):
    return [i for i in range(0, len(buf), 512) if any(buf[i:i + 512])]


@pytest.mark.parametrize("seed", range(12))
def test_runs_send_only_nonzero_sectors_plus_one_percent(seed):
    """Scattered writes (4 KiB, 1 KiB, single bytes) anywhere: every non-zero byte is covered, at most 1 % of zeros sent."""
    rnd = random.Random(seed)
    buf = bytearray(4 * MIB)
    for _i in range(rnd.randint(1, 60)):
        at, size = rnd.randrange(len(buf)), rnd.choice([1, 512, 1024, 4096, 70000])
        buf[at:at + size] = rnd.randbytes(min(size, len(buf) - at))
    runs = nonzero_runs(memoryview(buf))
    sectors = _sectors(buf)
    covered = set()
    for start, end in runs:
        assert start % 512 == 0 and end % 512 == 0 and end - start <= 4 * MIB
        covered.update(range(start, end, 512))
    assert set(sectors) <= covered
    assert sum(e - s for s, e in runs) <= len(sectors) * 512 * 1.01


def test_journal_survives_a_torn_line_and_reports_in_flight(tmp_path):
    j = Journal(str(tmp_path), "k", "id-1", 524288)
    j.set_meta(snapshot_id="snap-1")
    for u in (1, 2, 3):
        j.start(u)
    j.complete(1, "ab" * 32)
    j.zero(5)
    j.close()
    with open(j.path, "ab") as f:
        f.write(b"D 2 cd")  # torn: no newline
    k = Journal(str(tmp_path), "k", "id-1", 524288)
    assert k.resumed and k.meta["snapshot_id"] == "snap-1"
    assert k.done == {1: "ab" * 32, 5: None} and k.in_flight == [2, 3]
    other = Journal(str(tmp_path), "k", "id-2", 524288)  # another source: starts afresh
    assert not other.resumed and other.done == {}
    header, started, done = read_journal(other.path)
    assert header["identity"] == "id-2" and not started and not done


def test_crc32_combine():
    a, b = os.urandom(1000), os.urandom(77777)
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_crc32c_combine_is_what_cloud_storage_keeps_for_a_composite_object():
    google_crc32c = pytest.importorskip("google_crc32c")
    a, b = os.urandom(1000), os.urandom(77777)
    assert crc32_combine(google_crc32c.value(a), google_crc32c.value(b), len(b), CRC32C) == google_crc32c.value(a + b)
    assert crc32_combine(google_crc32c.value(a), google_crc32c.value(b), len(b)) != google_crc32c.value(a + b)


def test_part_crc32c_without_a_copy_of_the_part():
    """A part's CRC32C (x-goog-hash) is the library's, computed without a bytes() copy of the whole part: four workers
    held four 8 MiB copies at once (tracemalloc counts the copies Python makes)."""
    import tracemalloc
    google_crc32c = pytest.importorskip("google_crc32c")
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.gcp import crc32c
    part = bytearray(os.urandom(8 * MIB + 12345))
    tracemalloc.start()
    try:
        got = crc32c(part)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got == google_crc32c.value(bytes(part))
    assert peak < 2 * MIB, "crc32c held %d bytes for an 8 MiB part" % peak


def _sparse_archive(img, realsize, part, level=1):
    """The GCP archive the way gcp.py makes it: head segment, one deflated segment per part of stored bytes (an
    all-zero part: none), tail segment with the gzip trailer. Returns (gzip bytes, entries, tar data bytes)."""
    stream = StoredStream(img, realsize, part)
    segs, entries, crc, total = [], [], 0, 0
    for i in range(stream.parts):
        ents, chunks = sparse_part(stream.fill(img, i, bytearray(part)), nonzero_runs)
        assert decode_entries(encode_entries(ents)) == ents  # what the journal keeps for a resumed upload
        entries += ents
        part_crc = 0
        for c in chunks:
            part_crc = zlib.crc32(c, part_crc)
        crc = crc32_combine(crc, part_crc, sum(len(c) for c in chunks))
        total += sum(len(c) for c in chunks)
        if chunks:
            segs.append(deflate_part(chunks, last=False, level=level))
    head = archive_head(entries, realsize)
    tail = archive_tail(total, len(head))
    assert (len(head) + total + len(tail)) % (20 * 512) == 0
    crc = crc32_combine(crc32_combine(zlib.crc32(head), crc, total), zlib.crc32(tail), len(tail))
    out = [deflate_part(head, last=False, level=level, prefix=GZIP_HEADER)] + segs
    out.append(deflate_part(tail, last=True, level=level) + gzip_trailer(crc, len(head) + total + len(tail)))
    return b"".join(out), entries, total


@pytest.mark.parametrize("part", [16384, 10 ** 6 // 512 * 512])  # parts end inside extents and inside zero runs
def test_sparse_tar_in_full_flush_parts_is_one_valid_gzip(part):
    data = bytearray(os.urandom(3 * MIB))
    data[100 * 1024:300 * 1024] = bytes(200 * 1024)  # zero runs inside the first extent: left out of the archive
    data[MIB - 512:MIB] = bytes(512)  # a zero sector at an extent's end
    data[2 * MIB + 4096:2 * MIB + 8192] = bytes(4096)
    # virtual 2 GiB with data at 0, 1 GiB + 4 KiB and 2 GiB - 1 MiB (entries need base-256 above 8 GiB only)
    extents = [Ext(0, MIB, 0), Ext(1024 * MIB + 4096, MIB, MIB), Ext(2048 * MIB - MIB, MIB, 2 * MIB)] + [
        Ext(10 * MIB + i * 8192, 4096, 0) for i in range(30)] + [  # many entries: extension headers
        Ext(20 * MIB, 4096, 150 * 1024)]  # an extent that is all zeros: no entry, nothing sent
    img = FakeImage(extents, 2048 * MIB, data)
    archive, entries, total = _sparse_archive(img, 2048 * MIB, part)
    nonzero = sum(1 for i in range(0, MIB, 512) if any(data[i:i + 512])) * 512 + 2 * MIB - 4096 + 30 * 4096
    assert nonzero <= total <= nonzero * 1.01  # the non-zero sectors, and zeros only within 1 %
    assert not any(o <= 200 * 1024 < o + n for o, n in entries)
    assert not any(o <= 20 * MIB < o + n for o, n in entries)
    raw = gzip.decompress(archive)
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        (member,) = tar.getmembers()
        assert member.name == "disk.raw" and member.issparse() and member.size == 2048 * MIB
        assert [tuple(e) for e in member.sparse if e[1]] == merge_entries(entries)
        f = tar.extractfile(member)
        assert f.read(MIB) == data[:MIB]
        f.seek(1024 * MIB + 4096)
        assert f.read(MIB) == data[MIB:2 * MIB]
        f.seek(2048 * MIB - MIB)
        assert f.read(MIB) == data[2 * MIB:]
        f.seek(10 * MIB + 8192)
        assert f.read(4096) == data[:4096]
        f.seek(20 * MIB)
        assert f.read(4096) == bytes(4096)
        f.seek(5 * MIB)
        assert f.read(4096) == bytes(4096)


def test_sparse_archive_of_an_all_zero_image_holds_no_data():
    img = FakeImage([Ext(0, 4 * MIB, 0)], 1024 * MIB, bytes(4 * MIB))
    archive, entries, total = _sparse_archive(img, 1024 * MIB, MIB)
    assert entries == [] and total == 0 and len(archive) < 200
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(archive))) as tar:
        (member,) = tar.getmembers()
        assert member.size == 1024 * MIB and tar.extractfile(member).read(MIB) == bytes(MIB)


def test_deflate_stores_incompressible_steps_and_deflates_the_rest():
    """GCP parts: random (already compressed) data is stored, not run through deflate (~10x the CPU for a ratio of
    1.000); text is still deflated; the two in one part make one valid raw deflate stream."""
    rnd, text = os.urandom(3 * MIB), (b"compressible text, a line of it. " * 40000)[:MIB]
    assert incompressible(memoryview(rnd)) and not incompressible(memoryview(text))
    # CPU time (not wall time: the machine's load does not move it much), against deflating the same bytes at level 1
    cpu = time.process_time()
    zlib.compressobj(1, zlib.DEFLATED, -15, 9).compress(rnd)
    reference = time.process_time() - cpu
    cpu = time.process_time()
    out = deflate_part([rnd], last=True, level=6)
    spent = time.process_time() - cpu
    assert spent < 0.5 * reference, (spent, reference)  # before: the same as deflating, or more (level 6)
    assert zlib.decompress(bytes(out), -15) == rnd
    assert len(out) <= len(rnd) * 1.001
    mixed = deflate_part([text, rnd, text], last=False, level=1)
    d = zlib.decompressobj(-15)
    assert d.decompress(bytes(mixed)) == text + rnd + text
    assert len(mixed) < len(rnd) + 0.05 * 2 * len(text)  # both text steps were deflated
    assert (mixed[0] >> 1) & 3 != 0  # a text step starts with a Huffman block


def test_rate_limit_paces_without_sleeping_for_real():
    now = [0.0]
    slept = []
    rl = RateLimit(MIB, clock=lambda: now[0], pause=slept.append)
    rl.take(MIB)
    rl.take(MIB)
    rl.take(MIB)
    assert slept == [1.0, 2.0]


def test_rate_limit_credits_a_stall_up_to_one_second():
    """Time nobody sent in (every sender in a slow request) is made up for, one second of the rate at most (what the
    service's own bucket holds): before, the schedule restarted from the end of the stall and the rate was lost."""
    for stall in (5.0, 100.0):
        now = [0.0]
        slept = []
        rl = RateLimit(MIB, clock=lambda: now[0], pause=slept.append)
        rl.take(MIB)
        now[0] = stall
        for _i in range(4):
            rl.take(MIB // 2)
        # the first second's worth (1 MiB) goes at once, then the pace again
        assert slept == [0.5], (stall, slept)


def test_progress_heartbeat_refreshes_the_file_while_nothing_happens_and_stops_on_close(tmp_path):
    import json
    import time
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.progress import Progress
    path = tmp_path / "progress.json"
    progress = Progress(str(path), total=10, target="azure", heartbeat=0.05)
    first = json.loads(path.read_text())["updated"]
    deadline = time.monotonic() + 10
    while json.loads(path.read_text())["updated"] == first and time.monotonic() < deadline:
        time.sleep(0.02)
    assert json.loads(path.read_text())["updated"] > first, "no heartbeat rewrote the progress file"
    progress.close()
    time.sleep(0.2)  # a beat already under way finishes
    last = path.read_text()
    time.sleep(0.3)
    assert path.read_text() == last, "the heartbeat goes on after close()"


class _Recorder(object):
    """What a target receives, kept in memory: the engine's lanes are plain Python here (the lab's
    planes test the real targets, tests/integration/test_upload_modules.py)."""

    name = "recorder"
    whole_units = True
    tries = 1

    def __init__(self, stored=None):
        self.stored = stored
        self.units = {}
        self.parts = {}

    def send(self, index, voff, view):
        self.units[index] = bytes(view)
        return len(view), 1, ""

    def send_part(self, i, buf, journal, retry):
        self.parts[i] = bytes(memoryview(buf)[:self.stored.part_length(i)])
        journal.complete(i, "")
        return len(self.parts[i]), False

    def classify(self, exc):
        return False, False, 0


def test_fan_out_reads_once_and_feeds_a_unit_lane_and_a_part_lane(tmp_path):
    """One read pass, two lanes: a unit lane (EBS-like 512 KiB blocks) and the GCP part lane. The file stores
    the virtual blocks out of order, and the part lane has few buffers, so some parts are dropped to the
    second pass: what it sent must still be byte for byte the image's stored bytes (what GCP scans and sends),
    and the image is read once."""
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.gcp import PART, PartLane
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.pipeline import UnitLane, run_lanes
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.progress import Progress
    rnd = random.Random(5)
    block = 2 * MIB
    order = list(range(24))
    rnd.shuffle(order)  # virtual block v is stored at file slot order.index(v)
    data = rnd.randbytes(len(order) * block)
    extents = [Ext(v * block, block, order.index(v) * block) for v in order]
    img = FakeImage(extents, 64 * MIB, data)
    img.name = "scrambled"
    stream = StoredStream(img, 1024 * MIB, PART)
    progress = Progress()
    unit_target, part_target = _Recorder(), _Recorder(stream)
    unit_journal = Journal(str(tmp_path), "unit", "id", 524288)
    part_journal = Journal(str(tmp_path), "part", "id", PART)
    plan = Plan(img, 524288, read_size=8 * MIB)
    unit_lane = UnitLane(img, plan, unit_target, unit_journal, progress, concurrency=2)
    part_lane = PartLane(part_target, part_journal, progress, concurrency=1)
    part_lane.limit = 2
    read = run_lanes(img, Plan(img, 524288, read_size=8 * MIB).reads, [unit_lane, part_lane], 8 * MIB)
    assert read == len(data)  # every stored byte once, for both lanes
    assert unit_lane.result().units_sent == len(plan.coverage)
    for index, got in unit_target.units.items():
        assert got == bytes(_virtual(img, index * 524288, 524288))
    part_lane.result()
    assert part_lane.made <= 2  # memory: never more part buffers than the limit
    for i, got in part_target.parts.items():
        want = bytearray(stream.part_length(i))
        stream.fill(img, i, want)
        assert got == bytes(want), "part %d differs from the image's stored bytes" % i
    # what the shared pass did not send is exactly what the second pass (transfer) still has to
    assert set(part_target.parts) == set(part_journal.done)
    assert part_lane.dropped and part_lane.dropped.isdisjoint(part_journal.done)


def test_a_fan_outs_gcp_lane_has_two_part_workers_whatever_the_concurrency(tmp_path):
    """In a fan-out the shared pass goes at the slowest target's pace: GCP's lane gets at most 2 part workers (and 4 part
    buffers of 8 MiB), not the fan-out's concurrency. Before, it took 4 by default (or the 8 or 16 set for Azure): the 4
    idled 91-97 % of the capped fan-out, each holding a part buffer and its deflate output (fan-out peak RSS 345-361 MiB
    uncapped, 314-322 MiB with 2)."""
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.gcp import PART, GcpTarget
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.progress import Progress
    img = FakeImage([Ext(0, 64 * MIB, 0)], 64 * MIB, bytes(64 * MIB))
    stream = StoredStream(img, 1024 * MIB, PART)
    journal = Journal(str(tmp_path), "part", "id", PART)
    for concurrency, workers in ((1, 1), (2, 2), (4, 2), (16, 2)):
        # the target's own method on a stand-in target (a GcpTarget needs a bucket); the lane is the real PartLane
        lane = GcpTarget.lane(_Recorder(stream), journal, Progress(), concurrency)
        assert (lane.concurrency, lane.limit) == (workers, workers + 2), (concurrency, lane.concurrency, lane.limit)


def _virtual(img, offset, length):
    out = bytearray(length)
    for e in img.extents():
        a, b = max(offset, e.virtual_offset), min(offset + length, e.virtual_offset + e.length)
        if a < b:
            out[a - offset:b - offset] = img.data[e.file_offset + a - e.virtual_offset:e.file_offset + b - e.virtual_offset]
    return out


def test_fan_out_totals_when_the_first_target_failed_before_it_had_a_result():
    """A target that fails at its first look-up (its cloud refused the credentials) has only the error in its result;
    the fan-out's totals still come out, from the source, naming the failed target (it raised KeyError before)."""
    from types import SimpleNamespace
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.base import _totals
    img = FakeImage([Ext(0, MIB, 0)], 64 * MIB, bytes(MIB))
    img.allocated_bytes = MIB
    aws = SimpleNamespace(name="aws", fingerprint="f1", image=img)
    azure = SimpleNamespace(name="azure", fingerprint="f1", image=img)
    results = [{"target": "aws", "failed": True, "msg": "the EBS front refused the key"},
               {"target": "azure", "fingerprint": "f1", "virtual_size": 64 * MIB, "allocated_bytes": MIB, "changed": True,
                "bytes_read_shared": MIB, "bytes_sent": 4096, "duration": 1.5}]
    out = _totals([aws, azure], results)
    assert out["failed"] == ["aws"] and out["fingerprint"] == "f1" and out["virtual_size"] == 64 * MIB
    assert out["allocated_bytes"] == MIB
    assert out["bytes_read"] == MIB and out["bytes_sent"] == 4096 and out["changed"] is True


def test_fan_out_targets_start_and_finish_at_once(tmp_path):
    """The targets of a fan-out create and seal their objects in parallel (Azure's disk creation and revoke, the
    snapshot's start and completion, GCP's compose and image insert): each fake target's start, and then its finish,
    waits for the other's; one after the other, the first would time out."""
    import threading
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.base import Target, run_upload
    img = FakeImage([Ext(0, MIB, 0)], 64 * MIB, bytes(range(256)) * 4096)
    img.name, img.identity, img.allocated_bytes = "fan.vhdx", "fan-identity", MIB
    both = threading.Barrier(2, timeout=10)

    class Sealer(Target):
        unit_size = 524288
        default_concurrency = 2

        def __init__(self, name):
            super(Sealer, self).__init__({}, img, "fp", tries=1)
            self.name = name
            self.units = {}

        def object_key(self):
            return "fake:" + self.name

        def describe_name(self):
            return "fake " + self.name

        def target_size(self):
            return img.virtual_size

        def exists(self):
            return None

        def start(self, journal):
            both.wait()  # threading.BrokenBarrierError after 10 s when the other target's start does not run meanwhile

        def send(self, index, voff, view):
            self.units[index] = bytes(view)
            return len(view), 1, "d"

        def finish(self, journal):
            both.wait()  # threading.BrokenBarrierError after 10 s when the other target's finish does not run meanwhile

    a, b = Sealer("a"), Sealer("b")
    out = run_upload([a, b], journal_dir=str(tmp_path))
    assert out["failed"] == [], out
    assert sorted(a.units) == sorted(b.units) == [0, 1] and a.units[0] == bytes(range(256)) * 2048

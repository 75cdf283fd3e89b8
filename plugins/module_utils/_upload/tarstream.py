# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GCP raw-disk archive, generated from the allocation map: a GNU (oldgnu) sparse tar with one
member `disk.raw`, gzip'd - Google's own recipe is `tar --format=oldgnu -Sczf`.

The sparse map lists the non-zero 512-byte runs of the image's stored extents, so holes cost nothing
(neither read nor compressed nor sent) and zero runs inside allocated blocks are read and scanned but
neither compressed nor sent. The image's stored bytes (in virtual order) are cut into parts of
`part` bytes; each part is scanned for its non-zero runs, which are deflated on their own ending in a
full flush, so parts can be compressed in parallel, uploaded as separate objects and composed into one
object, and a killed upload resumes at part granularity. The header, which needs every part's sparse
entries, is a segment of its own made last (gzip header + deflated tar header), composed first; a last
segment holds the tar padding, the final deflate block, and the gzip CRC-32 and length. The CRC-32
of the whole is combined from the per-segment CRCs (zlib's crc32_combine, in Python).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import bisect
import struct
import time
import zlib

BLOCK = 512
RECORD = 20 * BLOCK
MEMBER = "disk.raw"
GZIP_HEADER = b"\x1f\x8b\x08\x00" + b"\x00\x00\x00\x00" + b"\x00\xff"


def _num(value, width):
    """A tar numeric field: octal with a NUL, or GNU base-256 when it does not fit."""
    text = "%0*o" % (width - 1, value)
    if len(text) <= width - 1:
        return text.encode("ascii") + b"\0"
    out = bytearray(width)
    out[0] = 0x80
    for i in range(width - 1, 0, -1):
        out[i] = value & 0xFF
        value >>= 8
    return bytes(out)


def _checksum(header):
    header[148:156] = b" " * 8
    header[148:156] = ("%06o" % sum(header)).encode("ascii") + b"\0 "


def sparse_headers(entries, stored, realsize, mtime=None):
    """The oldgnu header (type 'S') and its extension blocks for sparse map `entries` [(offset, length)]."""
    entries = list(entries) + [(realsize, 0)]  # the terminal entry: the file extends to realsize
    mtime = int(time.time()) if mtime is None else int(mtime)
    h = bytearray(BLOCK)
    h[0:len(MEMBER)] = MEMBER.encode("ascii")
    h[100:108] = _num(0o644, 8)
    h[108:116] = _num(0, 8)
    h[116:124] = _num(0, 8)
    h[124:136] = _num(stored, 12)
    h[136:148] = _num(mtime, 12)
    h[156:157] = b"S"
    h[257:265] = b"ustar  \0"
    h[265:269] = b"root"
    h[297:301] = b"root"
    first, rest = entries[:4], entries[4:]
    for i, (off, length) in enumerate(first):
        h[386 + 24 * i:398 + 24 * i] = _num(off, 12)
        h[398 + 24 * i:410 + 24 * i] = _num(length, 12)
    h[482] = 1 if rest else 0
    h[483:495] = _num(realsize, 12)
    _checksum(h)
    blocks = [bytes(h)]
    while rest:
        chunk, rest = rest[:21], rest[21:]
        e = bytearray(BLOCK)
        for i, (off, length) in enumerate(chunk):
            e[24 * i:24 * i + 12] = _num(off, 12)
            e[24 * i + 12:24 * i + 24] = _num(length, 12)
        e[504] = 1 if rest else 0
        blocks.append(bytes(e))
    return b"".join(blocks)


def merge_entries(entries):
    """Sparse-map entries [(offset, length)] in ascending order, touching ones joined."""
    out = []
    for off, length in entries:
        if out and out[-1][0] + out[-1][1] == off:
            out[-1][1] += length
        else:
            out.append([off, length])
    return [tuple(e) for e in out]


class StoredStream(object):
    """The image's stored bytes in virtual order (extents merged, cut at `realsize`), cut into parts of `part` bytes.

    A part is filled from the image and then scanned for zero runs (`sparse_part`): what it sends is its non-zero
    runs, and its sparse-map entries are known from its own bytes, so parts are independent of each other and the
    archive's header, which lists every entry, is made last (`archive_head`).
    """

    def __init__(self, image, realsize, part):
        runs = sorted((e.virtual_offset, min(e.length, realsize - e.virtual_offset), e.file_offset) for e in image.extents()
                      if e.virtual_offset < realsize)
        merged = []
        for voff, length, foff in runs:
            if merged and merged[-1][0] + merged[-1][1] == voff and merged[-1][2] + merged[-1][1] == foff:
                merged[-1][1] += length
            else:
                merged.append([voff, length, foff])
        self.runs = merged
        self._voffs = [voff for voff, _length, _foff in merged]
        self._starts = []
        pos = 0
        for _voff, length, _foff in merged:
            self._starts.append(pos)
            pos += length
        self.stored = pos
        self.part = part
        self.parts = -(-pos // part)
        self.realsize = realsize

    def part_length(self, index):
        return min(self.part, self.stored - index * self.part)

    def stream_offset(self, virtual_offset):
        """Where the image's stored byte at `virtual_offset` sits in the stream (a fan-out copies its shared reads by it)."""
        i = bisect.bisect_right(self._voffs, virtual_offset) - 1
        if i < 0 or virtual_offset >= self.runs[i][0] + self.runs[i][1]:
            raise ValueError("virtual offset %d is not stored data of the image" % virtual_offset)
        return self._starts[i] + virtual_offset - self.runs[i][0]

    def pieces(self, index, buf):
        """Part `index` as it lies in `buf` (len >= part): its pieces [(virtual offset, file offset, memoryview)] in virtual order."""
        start = index * self.part
        end = start + self.part_length(index)
        view = memoryview(buf)
        out = []
        i = max(bisect.bisect_right(self._starts, start) - 1, 0)
        while i < len(self.runs) and self._starts[i] < end:
            voff, length, foff = self.runs[i]
            a, b = max(self._starts[i], start), min(self._starts[i] + length, end)
            if a < b:
                out.append((voff + a - self._starts[i], foff + a - self._starts[i], view[a - start:b - start]))
            i += 1
        return out

    def fill(self, source, index, buf):
        """Read part `index` into `buf` (len >= part); returns its pieces [(virtual offset, memoryview)] in virtual order."""
        pieces = []
        for voff, foff, dst in self.pieces(index, buf):
            got = source.readinto_at(foff, dst)
            if got != len(dst):
                raise IOError("short read at %d" % foff)
            pieces.append((voff, dst))
        return pieces


def sparse_part(pieces, zero_runs):
    """The non-zero runs of a part's pieces: (entries [(virtual offset, length)], chunks [memoryview]).

    `zero_runs(view, base)` gives the (start, end) runs to keep (zeros.nonzero_runs): zero runs between them are
    left out of the archive; the tar sparse map says where the kept runs belong."""
    entries, chunks = [], []
    for voff, view in pieces:
        for start, end in zero_runs(view, voff):
            entries.append((start, end - start))
            chunks.append(view[start - voff:end - voff])
    return merge_entries(entries), chunks


def archive_head(entries, realsize, mtime=0):
    """The tar bytes before the data: the oldgnu sparse header (and extension blocks) for all `entries`."""
    entries = merge_entries(entries)
    return sparse_headers(entries, sum(length for _o, length in entries), realsize, mtime)


def archive_tail(data_length, head_length):
    """The tar bytes after the data: padding to a block, the two zero end blocks, and padding to a 10 KiB record."""
    end = head_length + data_length
    pad = -end % BLOCK + 2 * BLOCK
    pad += -(end + pad) % RECORD
    return bytes(pad)


def encode_entries(entries):
    """Sparse-map entries as one journal-safe word (zlib'd, base64): a resumed upload rebuilds the header from it."""
    text = ",".join("%x+%x" % (off, length) for off, length in entries)
    return base64.urlsafe_b64encode(zlib.compress(text.encode("ascii"))).decode("ascii")


def decode_entries(word):
    text = zlib.decompress(base64.urlsafe_b64decode(word.encode("ascii"))).decode("ascii")
    return [tuple(int(x, 16) for x in pair.split("+")) for pair in text.split(",") if pair]


DEFLATE_STEP = 1024 * 1024


# a step whose first 32 KiB deflate (level 1) to more than 90 % of their size goes into stored blocks: deflating
# data that is already compressed or random costs ~10x the CPU of storing it (49 against 556 MiB/s measured) for
# a ratio of 1.000; the probe costs ~3 % of a step
PROBE = 32 * 1024
STORE_ABOVE = 0.9


def incompressible(view):
    """True if `view` looks like data deflate cannot shrink (its first PROBE bytes at level 1 keep > 90 %)."""
    probe = view[:PROBE]
    return len(zlib.compress(probe, 1)) > STORE_ABOVE * len(probe)


def deflate_part(chunks, last, level=6, prefix=b""):
    """Raw deflate of one part (a buffer, or a list of buffers taken in order) ending in a full flush (or the final
    block when `last`), after `prefix`.

    Fed in 1 MiB steps into one growing bytearray: no whole-part intermediate output and no
    `out + tail` copy, so a part costs its input buffer plus its compressed size. A step that `incompressible` finds
    incompressible goes into stored blocks (level 0): where the kind of data changes, one deflate stream ends in a full
    flush and the next begins, which a raw deflate stream allows (as between parts)."""
    out = bytearray(prefix)
    comp = stored = None
    for data in (chunks if isinstance(chunks, list) else [chunks]):
        view = memoryview(data)
        for pos in range(0, len(view), DEFLATE_STEP):
            step = view[pos:pos + DEFLATE_STEP]
            store = incompressible(step) if len(step) >= PROBE or comp is None else stored
            if comp is None or store != stored:
                if comp is not None:
                    out += comp.flush(zlib.Z_FULL_FLUSH)
                comp, stored = zlib.compressobj(0 if store else level, zlib.DEFLATED, -15, 9), store
            out += comp.compress(step)
    if comp is None:
        comp = zlib.compressobj(level, zlib.DEFLATED, -15, 9)
    out += comp.flush(zlib.Z_FINISH if last else zlib.Z_FULL_FLUSH)
    return out


def gzip_trailer(crc, length):
    return struct.pack("<II", crc & 0xFFFFFFFF, length & 0xFFFFFFFF)


# -- crc32_combine (zlib's GF(2) matrix method) -------------------------------------------------

def _gf2_times(mat, vec):
    total = 0
    i = 0
    while vec:
        if vec & 1:
            total ^= mat[i]
        vec >>= 1
        i += 1
    return total


def _gf2_square(mat):
    return [_gf2_times(mat, mat[n]) for n in range(32)]


CRC32 = 0xEDB88320  # gzip's CRC-32 (reflected polynomial)
CRC32C = 0x82F63B78  # Castagnoli: Cloud Storage's crc32c (reflected polynomial)


def crc32_combine(crc1, crc2, len2, poly=CRC32):
    """CRC of A+B from crc(A), crc(B) and len(B): gzip's CRC-32, or with poly=CRC32C Cloud Storage's crc32c."""
    if len2 <= 0:
        return crc1
    odd = [poly] + [1 << n for n in range(31)]
    even = _gf2_square(odd)
    odd = _gf2_square(even)
    while True:
        even = _gf2_square(odd)
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _gf2_square(even)
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return (crc1 ^ crc2) & 0xFFFFFFFF

# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GCP raw-disk archive, generated from the allocation map: a GNU (oldgnu) sparse tar with one
member `disk.raw`, gzip'd - Google's own recipe is `tar --format=oldgnu -Sczf`.

The sparse map is the image's stored extents in virtual order, so holes cost nothing: neither read
nor compressed nor sent. The archive is cut into parts of `part_size` tar bytes; each part is
deflated on its own and ends with a full flush, so parts can be compressed in parallel, uploaded
as separate objects, composed into one object (a single valid gzip member: header in the first
part, CRC-32 and length in the last), and a killed upload resumes at part granularity. The CRC-32
of the whole is combined from the per-part CRCs (zlib's crc32_combine, in Python).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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


class TarLayout(object):
    """Where every byte of the archive comes from: header bytes, image file ranges, or zeros.

    pieces: sorted [(tar_offset, length, kind, ref)], kind 'b' (ref = bytes), 'f' (ref = file offset), 'z'.
    """

    def __init__(self, image, realsize, mtime=0):
        runs = sorted((e.virtual_offset, min(e.length, realsize - e.virtual_offset), e.file_offset) for e in image.extents()
                      if e.virtual_offset < realsize)
        merged = []
        for voff, length, foff in runs:
            if merged and merged[-1][0] + merged[-1][1] == voff and merged[-1][2] + merged[-1][1] == foff:
                merged[-1][1] += length
            else:
                merged.append([voff, length, foff])
        # the sparse map needs non-overlapping, ascending entries; file ranges may be split, the map merges virtual runs
        entries = []
        for voff, length, _foff in merged:
            if entries and entries[-1][0] + entries[-1][1] == voff:
                entries[-1][1] += length
            else:
                entries.append([voff, length])
        stored = sum(length for _v, length, _f in merged)
        header = sparse_headers([tuple(e) for e in entries], stored, realsize, mtime)
        self.pieces = [(0, len(header), "b", header)]
        pos = len(header)
        for voff, length, foff in merged:
            self.pieces.append((pos, length, "f", foff))
            pos += length
        data_end = pos
        pad = -data_end % BLOCK + 2 * BLOCK
        end = data_end + pad
        end += -end % RECORD
        self.pieces.append((data_end, end - data_end, "z", None))
        self.size = end
        self.stored = stored
        self.realsize = realsize
        self._starts = [p[0] for p in self.pieces]
        self._by_file = sorted((p[3], p[0], p[1]) for p in self.pieces if p[2] == "f")
        self._file_starts = [f[0] for f in self._by_file]

    def tar_offset(self, file_offset):
        """Where image file byte `file_offset` (a stored byte) sits in the archive."""
        i = bisect.bisect_right(self._file_starts, file_offset) - 1
        foff, toff, length = self._by_file[max(i, 0)]
        if i < 0 or file_offset >= foff + length:
            raise ValueError("file offset %d is not stored data of the image" % file_offset)
        return toff + file_offset - foff

    def file_bytes(self, start, end):
        """How many archive bytes in [start, end) come from the image file."""
        total = 0
        i = max(bisect.bisect_right(self._starts, start) - 1, 0)
        while i < len(self.pieces) and self.pieces[i][0] < end:
            off, length, kind, _ref = self.pieces[i]
            if kind == "f":
                total += max(0, min(off + length, end) - max(off, start))
            i += 1
        return total

    def fill(self, source, start, buf):
        """Fill memoryview `buf` with archive bytes [start, start + len(buf)); returns bytes read from the source.
        With `source` None the image file's bytes are left as they are (a fan-out copies them in from its shared reads)."""
        end = start + len(buf)
        i = max(bisect.bisect_right(self._starts, start) - 1, 0)
        read = 0
        while i < len(self.pieces) and self.pieces[i][0] < end:
            off, length, kind, ref = self.pieces[i]
            a, b = max(off, start), min(off + length, end)
            if a < b:
                dst = buf[a - start:b - start]
                if kind == "b":
                    dst[:] = ref[a - off:b - off]
                elif kind == "z":
                    dst[:] = bytes(b - a)
                elif source is not None:
                    got = source.readinto_at(ref + a - off, dst)
                    if got != b - a:
                        raise IOError("short read at %d" % (ref + a - off))
                    read += got
            i += 1
        return read


DEFLATE_STEP = 1024 * 1024


def deflate_part(data, last, level=6, prefix=b""):
    """Raw deflate of one part ending in a full flush (or the final block when `last`), after `prefix`.

    Fed in 1 MiB steps into one growing bytearray: no whole-part intermediate output and no
    `out + tail` copy, so a part costs its input buffer plus its compressed size."""
    comp = zlib.compressobj(level, zlib.DEFLATED, -15, 9)
    out = bytearray(prefix)
    view = memoryview(data)
    for pos in range(0, len(view), DEFLATE_STEP):
        out += comp.compress(view[pos:pos + DEFLATE_STEP])
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


def crc32_combine(crc1, crc2, len2):
    """CRC-32 of A+B from crc(A), crc(B) and len(B)."""
    if len2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]
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

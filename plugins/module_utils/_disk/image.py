# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every opened disk image offers: its geometry, its identity and its allocation map.

The allocation map is a list of extents, each `Extent(virtual_offset, length, file_offset)`: the
bytes at [virtual_offset, virtual_offset + length) of the virtual disk are stored at file_offset
in the image file. Everything outside the extents reads as zeros. Extents come in ascending
*file* order, so a reader that walks them streams the file forward; runs that are adjacent both
in the file and on the virtual disk are merged.

When the source can tell where its file has holes (a sparse local file: SEEK_DATA/SEEK_HOLE), the
extents are also cut to the file's data ranges. A hole in the file reads as zeros, so skipping it
changes nothing in the disk's content, and a fixed image on a sparse file is not read in full.

The map is kept in three arrays of 64-bit integers (24 bytes per extent), built once on first use.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bisect
import threading
from array import array
from collections import namedtuple

from ansible_collections.citrix_community.ips.plugins.module_utils._disk.errors import RECOPY, DiskFormatError

Extent = namedtuple("Extent", ["virtual_offset", "length", "file_offset"])


def read_exact(source, offset, length, what):
    """`length` bytes at `offset` of `source`, or DiskFormatError naming `what` when the file ends first."""
    name = getattr(source, "name", None) or "disk image"
    if offset < 0 or offset + length > source.size:
        raise DiskFormatError(name, "the %s (bytes %d to %d) lies beyond the end of the file (%d bytes)" % (what, offset, offset + length, source.size),
                              RECOPY)
    data = source.read_at(offset, length)
    if len(data) != length:
        raise DiskFormatError(name, "the file ended while reading the %s at byte %d" % (what, offset), RECOPY)
    return data


class DiskImage(object):
    """Base of the format readers; see `open_image` in this package.

    Attributes set by the readers:
      format                'vhd' or 'vhdx'
      subformat             'fixed' or 'dynamic'
      virtual_size          bytes of the virtual disk
      logical_sector_size   512 or 4096
      physical_sector_size  512 or 4096
      block_size            allocation unit of a dynamic image (VHDX: also of a fixed one); None for a fixed VHD
      unique_id             the image's id as a GUID string (VHD footer unique id, VHDX virtual disk id)
      identity              stable fingerprint: same file, same string; another image, another string
      source                the byte source it reads from
      name                  the source's name, used in messages
    """

    format = None
    subformat = None
    virtual_size = 0
    logical_sector_size = 512
    physical_sector_size = 512
    block_size = None
    unique_id = None
    identity = None

    def __init__(self, source, skip_file_holes=True):
        self.source = source
        self.name = getattr(source, "name", None) or "disk image"
        self.skip_file_holes = skip_file_holes
        self._lock = threading.Lock()
        self._map = None  # (virtual offsets, lengths, file offsets), ascending file offset
        self._by_virtual = None  # (virtual offsets, lengths, file offsets), ascending virtual offset

    # -- to be provided by each format -------------------------------------------------------

    def _raw_runs(self):
        """Yield (virtual_offset, length, file_offset) of stored data in ascending file order (not merged)."""
        raise NotImplementedError

    # -- the allocation map ------------------------------------------------------------------

    def _build_map(self):
        with self._lock:
            if self._map is not None:
                return self._map
            voffs, lens, foffs = array("Q"), array("Q"), array("Q")
            cur = None
            for voff, length, foff in self._raw_runs():
                if length <= 0:
                    continue
                if cur is not None and cur[2] + cur[1] == foff and cur[0] + cur[1] == voff:
                    cur[1] += length
                    continue
                if cur is not None:
                    self._emit(cur, voffs, lens, foffs)
                cur = [voff, length, foff]
            if cur is not None:
                self._emit(cur, voffs, lens, foffs)
            self._map = (voffs, lens, foffs)
            return self._map

    def _emit(self, run, voffs, lens, foffs):
        voff, length, foff = run
        data_ranges = getattr(self.source, "data_ranges", None) if self.skip_file_holes else None
        pieces = data_ranges(foff, length) if data_ranges is not None else ((foff, length),)
        for piece_off, piece_len in pieces:
            voffs.append(voff + piece_off - foff)
            lens.append(piece_len)
            foffs.append(piece_off)

    def extents(self):
        """Iterate the `Extent`s of stored data, ascending file offset, adjacent runs merged."""
        voffs, lens, foffs = self._build_map()
        for i in range(len(voffs)):
            yield Extent(voffs[i], lens[i], foffs[i])

    @property
    def extent_count(self):
        return len(self._build_map()[0])

    @property
    def allocated_bytes(self):
        """Bytes the image really stores (sum of the extent lengths): what an upload must read."""
        return sum(self._build_map()[1])

    # -- reading -----------------------------------------------------------------------------

    def read_extent(self, extent):
        """The stored bytes of one extent (one read of extent.length bytes: split big extents first)."""
        return self.source.read_at(extent.file_offset, extent.length)

    def _virtual_index(self):
        with self._lock:
            if self._by_virtual is None:
                voffs, lens, foffs = self._map
                order = sorted(range(len(voffs)), key=voffs.__getitem__)
                self._by_virtual = (array("Q", (voffs[i] for i in order)), array("Q", (lens[i] for i in order)),
                                    array("Q", (foffs[i] for i in order)))
            return self._by_virtual

    def read_virtual(self, offset, length):
        """Bytes [offset, offset + length) of the virtual disk, zeros where nothing is stored.

        Meant for verification and tests; an upload walks `extents()` instead.
        """
        if offset < 0 or length < 0 or offset + length > self.virtual_size:
            raise ValueError("range %d+%d is outside the virtual disk (%d bytes)" % (offset, length, self.virtual_size))
        self._build_map()
        voffs, lens, foffs = self._virtual_index()
        out = bytearray(length)
        end = offset + length
        i = max(bisect.bisect_right(voffs, offset) - 1, 0)
        while i < len(voffs) and voffs[i] < end:
            start = max(voffs[i], offset)
            stop = min(voffs[i] + lens[i], end)
            if start < stop:
                out[start - offset:stop - offset] = self.source.read_at(foffs[i] + start - voffs[i], stop - start)
            i += 1
        return bytes(out)

    def __repr__(self):
        return "<%s %s %s %d bytes: %s>" % (type(self).__name__, self.format, self.subformat, self.virtual_size, self.name)

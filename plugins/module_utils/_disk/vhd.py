# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""VHD reader: fixed and dynamic disks (VHD spec v1.0; all fields big-endian).

Fixed: the data, then a 512-byte footer (511 bytes in some very old files).
Dynamic: a footer copy at 0, a dynamic header ("cxsparse") with the block allocation table (BAT),
then blocks, each a sector bitmap followed by block_size bytes of data, and the footer at the end.
Only sectors whose bitmap bit is set hold data; a block with a full bitmap is one run.
Differencing disks (type 4) are refused: their unallocated parts live in another file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import struct
import sys
import uuid
from array import array
from collections import namedtuple

from ansible_collections.citrix_community.ips.plugins.module_utils._disk.errors import RECOPY, DiskFormatError
from ansible_collections.citrix_community.ips.plugins.module_utils._disk.footer import (
    COOKIE, FOOTER_SIZE, FOOTER_STRUCT, SECTOR, TYPE_DIFFERENCING, TYPE_DYNAMIC, TYPE_FIXED, VERSION, vhd_checksum)
from ansible_collections.citrix_community.ips.plugins.module_utils._disk.image import DiskImage, read_exact

VhdFooter = namedtuple("VhdFooter", [
    "cookie", "features", "version", "data_offset", "timestamp", "creator_app", "creator_version", "creator_host_os",
    "original_size", "current_size", "cylinders", "heads", "sectors_per_track", "disk_type", "checksum", "unique_id",
    "saved_state"])

DYN_COOKIE = b"cxsparse"
DYN_HEADER_SIZE = 1024
DYN_CHECKSUM_OFFSET = 36
# cookie, data offset, table offset, header version, max table entries, block size, checksum
DYN_STRUCT = struct.Struct(">8sQQIIII")
UNUSED = 0xFFFFFFFF
BAT_CHUNK_ENTRIES = 256 * 1024  # 1 MiB of BAT per read
BITMAP_BATCH = 256

# qemu-img cannot read a differencing VHD either (its vpc driver has no parent support): only tools that merge are named.
MERGE_HINT = ("merge the chain to a new base first and use that file: for a PVS vDisk with versions, Merge-PvsDisk -NewBase in PVS "
              "(or citrix_community.ips.ips_pvs_vdisk with merge_versions: true); otherwise Hyper-V Merge-VHD (Edit Disk > Merge)")


class FooterError(ValueError):
    """Internal: why 512 bytes are not a valid footer."""


def parse_footer(data):
    """A VhdFooter from 512 bytes, or FooterError saying what is wrong with them."""
    if len(data) != FOOTER_SIZE:
        raise FooterError("a footer is 512 bytes, got %d" % len(data))
    if data[:8] != COOKIE:
        raise FooterError("no 'conectix' cookie")
    footer = VhdFooter(*FOOTER_STRUCT.unpack_from(data, 0))
    if footer.checksum != vhd_checksum(data):
        raise FooterError("footer checksum mismatch (stored 0x%08x, computed 0x%08x)" % (footer.checksum, vhd_checksum(data)))
    return footer


def _bat_array(raw):
    entries = array("I")
    if entries.itemsize != 4:  # pragma: no cover - no such platform in practice
        entries = array("L")
    entries.frombytes(raw)
    if sys.byteorder == "little":
        entries.byteswap()
    return entries


def _bitmap_runs(bitmap, sectors):
    """(first sector, count) runs of set bits among the first `sectors` bits, MSB first."""
    runs = []
    start = None
    full_bytes = sectors // 8
    data = bytearray(bitmap)
    for i in range(full_bytes):
        byte = data[i]
        if byte == 0xFF:
            if start is None:
                start = i * 8
            continue
        if byte == 0:
            if start is not None:
                runs.append((start, i * 8 - start))
                start = None
            continue
        for bit in range(8):
            sector = i * 8 + bit
            if byte & (0x80 >> bit):
                if start is None:
                    start = sector
            elif start is not None:
                runs.append((start, sector - start))
                start = None
    for sector in range(full_bytes * 8, sectors):
        if data[sector // 8] & (0x80 >> (sector % 8)):
            if start is None:
                start = sector
        elif start is not None:
            runs.append((start, sector - start))
            start = None
    if start is not None:
        runs.append((start, sectors - start))
    return runs


class VhdImage(DiskImage):
    format = "vhd"
    logical_sector_size = 512
    physical_sector_size = 512

    def __init__(self, source, skip_file_holes=True):
        super(VhdImage, self).__init__(source, skip_file_holes)
        self.footer, self.data_limit = self._find_footer()
        f = self.footer
        if f.disk_type == TYPE_DIFFERENCING:
            raise DiskFormatError(self.name, "this is a differencing VHD (it only holds the changes to a parent disk)", MERGE_HINT)
        if f.disk_type not in (TYPE_FIXED, TYPE_DYNAMIC):
            raise DiskFormatError(self.name, "unknown VHD disk type %d in the footer (2 = fixed, 3 = dynamic)" % f.disk_type, RECOPY)
        if f.version != VERSION:
            raise DiskFormatError(self.name, "unsupported VHD version 0x%08x (expected 0x00010000)" % f.version,
                                  "convert it with Hyper-V or `qemu-img convert` to a standard VHD or VHDX")
        self.virtual_size = f.current_size
        if f.current_size <= 0 or f.current_size % SECTOR:
            raise DiskFormatError(self.name, "the VHD footer declares a disk size of %d bytes, which is not a positive whole number of "
                                  "512-byte sectors" % f.current_size, RECOPY)
        self.unique_id = str(uuid.UUID(bytes=f.unique_id))
        self.creator_app = f.creator_app
        self._packed = None
        self._bat_digest = ""
        if f.disk_type == TYPE_FIXED:
            self.subformat = "fixed"
            self.block_size = None
            # A fixed VHD is its data then the footer: any other length means a cut or padded copy, or a wrong footer.
            if f.current_size != self.data_limit:
                raise DiskFormatError(self.name, "the fixed VHD's footer declares %d bytes of data but the file holds %d before its footer"
                                      % (f.current_size, self.data_limit), RECOPY)
        else:
            self.subformat = "dynamic"
            self._read_dynamic_header()
            self._scan_bat()
        self.identity = "vhd:%s:%d:%d:%d:%s:%d%s" % (
            self.subformat, self.virtual_size, self.logical_sector_size, self.block_size or 0, self.unique_id, source.size, self._bat_digest)

    # -- footer ------------------------------------------------------------------------------

    def _find_footer(self):
        """(footer, bytes of the file before the trailing footer)."""
        size = self.source.size
        if size < FOOTER_SIZE - 1:
            raise DiskFormatError(self.name, "the file is %d bytes, too small to be a VHD" % size, RECOPY)
        tail_len = SECTOR - 1 if size % SECTOR == SECTOR - 1 else FOOTER_SIZE  # very old images: a 511-byte footer
        tail = read_exact(self.source, size - tail_len, tail_len, "footer") + b"\0" * (FOOTER_SIZE - tail_len)
        end = head = None
        end_problem = head_problem = ""
        try:
            end = parse_footer(tail)
        except FooterError as e:
            end_problem = str(e)
        head_bytes = b""
        if size >= 2 * FOOTER_SIZE:
            head_bytes = read_exact(self.source, 0, FOOTER_SIZE, "footer copy")
            try:
                head = parse_footer(head_bytes)
            except FooterError as e:
                head_problem = str(e)
        if end is not None:
            # A dynamic disk keeps the footer twice for redundancy: one intact copy is enough (as in
            # Hyper-V and qemu), but two intact copies that disagree mean the file is not what it claims.
            if end.disk_type != TYPE_FIXED and head is not None and (
                    head.current_size, head.disk_type, head.unique_id, head.data_offset) != (
                    end.current_size, end.disk_type, end.unique_id, end.data_offset):
                raise DiskFormatError(self.name, "the footer at the end and its copy at the start of this dynamic VHD disagree", RECOPY)
            return end, size - tail_len
        if head is not None and head.disk_type in (TYPE_DYNAMIC, TYPE_DIFFERENCING):
            # The trailing footer is damaged or missing (a copy that stopped early?); the copy at 0 is
            # intact. The BAT check still catches any block that a truncation cut off.
            return head, size
        if tail[:8] == COOKIE:
            raise DiskFormatError(self.name, "the VHD footer at the end of the file is damaged: %s" % end_problem, RECOPY)
        if head_bytes[:8] == COOKIE:
            raise DiskFormatError(self.name, "the VHD footer is missing at the end of the file and its copy at the start is damaged: %s"
                                  % head_problem, RECOPY)
        raise DiskFormatError(self.name, "not a VHD or VHDX file: no 'conectix' footer at its end (a VHD cut short loses its footer)",
                              "check the path, or " + RECOPY)

    # -- dynamic -----------------------------------------------------------------------------

    def _read_dynamic_header(self):
        off = self.footer.data_offset
        raw = read_exact(self.source, off, DYN_HEADER_SIZE, "dynamic disk header")
        cookie, _data_off, table_off, version, max_entries, block_size, checksum = DYN_STRUCT.unpack_from(raw, 0)
        if cookie != DYN_COOKIE:
            raise DiskFormatError(self.name, "no 'cxsparse' dynamic disk header at byte %d" % off, RECOPY)
        if checksum != vhd_checksum(raw, DYN_CHECKSUM_OFFSET):
            raise DiskFormatError(self.name, "the dynamic disk header checksum does not match", RECOPY)
        if version != VERSION:
            raise DiskFormatError(self.name, "unsupported dynamic header version 0x%08x" % version,
                                  "convert it with Hyper-V or `qemu-img convert` to a standard VHD or VHDX")
        if block_size < SECTOR * 8 or block_size & (block_size - 1):
            raise DiskFormatError(self.name, "invalid block size %d in the dynamic disk header" % block_size, RECOPY)
        self.block_size = block_size
        self.blocks = -(-self.virtual_size // block_size)
        if max_entries < self.blocks:
            raise DiskFormatError(self.name, "the BAT has %d entries but the disk needs %d" % (max_entries, self.blocks), RECOPY)
        self.table_offset = table_off
        self.sectors_per_block = block_size // SECTOR
        self.bitmap_size = -(-(-(-self.sectors_per_block // 8)) // SECTOR) * SECTOR
        if table_off + 4 * self.blocks > self.source.size:
            raise DiskFormatError(self.name, "the block allocation table (byte %d, %d entries) lies beyond the end of the file"
                                  % (table_off, self.blocks), RECOPY)
        # the structures no block may overlap: the footer copy, the dynamic header and the BAT itself
        self.metadata_ranges = ((0, FOOTER_SIZE, "the footer copy"), (off, off + DYN_HEADER_SIZE, "the dynamic disk header"),
                                (table_off, table_off + 4 * max_entries, "the block allocation table"))

    def _block_length(self, block):
        return min(self.block_size, self.virtual_size - block * self.block_size)

    def _scan_bat(self):
        """Check every allocated block lies inside the file; keep (sector << 32 | block) sorted by file offset."""
        packed = array("Q")
        digest = hashlib.sha256()
        bitmap_size = self.bitmap_size
        limit = self.data_limit
        for first in range(0, self.blocks, BAT_CHUNK_ENTRIES):
            count = min(BAT_CHUNK_ENTRIES, self.blocks - first)
            raw = read_exact(self.source, self.table_offset + 4 * first, 4 * count, "block allocation table")
            digest.update(raw)
            for i, sector in enumerate(_bat_array(raw)):
                if sector == UNUSED:
                    continue
                block = first + i
                start = sector * SECTOR
                if start < FOOTER_SIZE or start + bitmap_size + self._block_length(block) > limit:
                    raise DiskFormatError(self.name, "block %d of the BAT (file bytes %d to %d) lies outside the file's data area (bytes %d to %d)"
                                          % (block, start, start + bitmap_size + self._block_length(block), FOOTER_SIZE, limit), RECOPY)
                end = start + bitmap_size + self._block_length(block)
                for low, high, what in self.metadata_ranges:
                    if start < high and low < end:
                        raise DiskFormatError(self.name, "block %d of the BAT (file bytes %d to %d) overlaps %s (bytes %d to %d)"
                                              % (block, start, end, what, low, high), RECOPY)
                packed.append(sector << 32 | block)
        self._packed = array("Q", sorted(packed))
        for prev, cur in zip(self._packed, self._packed[1:]):
            if ((cur >> 32) - (prev >> 32)) * SECTOR < bitmap_size + self._block_length(prev & UNUSED):
                raise DiskFormatError(self.name, "blocks %d and %d of the BAT overlap in the file" % (prev & UNUSED, cur & UNUSED), RECOPY)
        self._bat_digest = ":bat=" + digest.hexdigest()[:16]

    def _bitmap(self, key):
        return self.source.read_at((key >> 32) * SECTOR, self.bitmap_size)

    def _bitmaps(self):
        """The sector bitmap of each allocated block, in file order (several reads in flight on slow sources)."""
        workers = int(getattr(self.source, "parallel_reads", 1) or 1)
        keys = self._packed
        if workers <= 1:
            for key in keys:
                yield self._bitmap(key)
            return
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for first in range(0, len(keys), BITMAP_BATCH):
                yield from pool.map(self._bitmap, keys[first:first + BITMAP_BATCH])

    def _raw_runs(self):
        if self.subformat == "fixed":
            if self.virtual_size:
                yield (0, self.virtual_size, 0)
            return
        full = b"\xff" * (self.sectors_per_block // 8)
        for key, bitmap in zip(self._packed, self._bitmaps()):
            sector, block = key >> 32, key & UNUSED
            if len(bitmap) != self.bitmap_size:
                raise DiskFormatError(self.name, "the file ended while reading the sector bitmap of block %d" % block, RECOPY)
            data_start = (sector * SECTOR) + self.bitmap_size
            length = self._block_length(block)
            voff = block * self.block_size
            if bitmap[:len(full)] == full:
                yield (voff, length, data_start)
                continue
            for first, count in _bitmap_runs(bitmap, length // SECTOR):
                yield (voff + first * SECTOR, count * SECTOR, data_start + first * SECTOR)

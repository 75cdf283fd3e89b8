# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""VHDX reader: fixed and dynamic disks (MS-VHDX v8.0; all fields little-endian, GUIDs mixed-endian).

Layout: file identifier "vhdxfile" at 0, headers at 64 KiB and 128 KiB (the valid one with the
higher sequence number wins), region tables at 192 KiB and 256 KiB (the first valid one is used),
then the BAT and metadata regions they point to. Payload blocks in state FULLY_PRESENT (6) hold
data; NOT_PRESENT, UNDEFINED, ZERO and UNMAPPED (0-3) read as zeros. Sector-bitmap entries are
interleaved in the BAT after every `chunk ratio` payload entries and only matter to differencing
disks, which are refused, as are files whose log still holds updates (not closed cleanly).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import struct
import sys
import uuid
from array import array

from ansible_collections.citrix_community.ips.plugins.module_utils._disk.crc32c import crc32c
from ansible_collections.citrix_community.ips.plugins.module_utils._disk.errors import RECOPY, DiskFormatError
from ansible_collections.citrix_community.ips.plugins.module_utils._disk.image import DiskImage, read_exact

KIB = 1024
MIB = 1024 * KIB
FILE_SIGNATURE = b"vhdxfile"
HEADER_OFFSETS = (64 * KIB, 128 * KIB)
HEADER_SIZE = 4 * KIB
# signature, checksum, sequence number, file write guid, data write guid, log guid, log version, version, log length, log offset
HEADER_STRUCT = struct.Struct("<4sIQ16s16s16sHHIQ")
REGION_TABLE_OFFSETS = (192 * KIB, 256 * KIB)
REGION_TABLE_SIZE = 64 * KIB
REGION_ENTRY = struct.Struct("<16sQII")
METADATA_TABLE_SIZE = 64 * KIB
METADATA_ENTRY = struct.Struct("<16sIII")
MAX_ENTRIES = 2047
MAX_VIRTUAL_SIZE = 64 * 1024 ** 4
ZERO_GUID = b"\0" * 16

BAT_REGION = uuid.UUID("2DC27766-F623-4200-9D64-115E9BFD4A08")
METADATA_REGION = uuid.UUID("8B7CA206-4790-4B9A-B8FE-575F050F886E")
FILE_PARAMETERS = uuid.UUID("CAA16737-FA36-4D43-B3B6-33F0AA44E76B")
VIRTUAL_DISK_SIZE = uuid.UUID("2FA54224-CD1B-4876-B211-5DBED83BF4B8")
VIRTUAL_DISK_ID = uuid.UUID("BECA12AB-B2E6-4523-93EF-C309E000C746")
LOGICAL_SECTOR_SIZE = uuid.UUID("8141BF1D-A96F-4709-BA47-F233A8FAAB5F")
PHYSICAL_SECTOR_SIZE = uuid.UUID("CDA348C7-445D-4471-9CC9-E9885251C556")
PARENT_LOCATOR = uuid.UUID("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C")
KNOWN_ITEMS = (FILE_PARAMETERS, VIRTUAL_DISK_SIZE, VIRTUAL_DISK_ID, LOGICAL_SECTOR_SIZE, PHYSICAL_SECTOR_SIZE, PARENT_LOCATOR)

PAYLOAD_NOT_PRESENT, PAYLOAD_UNDEFINED, PAYLOAD_ZERO, PAYLOAD_UNMAPPED = 0, 1, 2, 3
PAYLOAD_FULLY_PRESENT, PAYLOAD_PARTIALLY_PRESENT = 6, 7
HOLE_STATES = (PAYLOAD_NOT_PRESENT, PAYLOAD_UNDEFINED, PAYLOAD_ZERO, PAYLOAD_UNMAPPED)
BAT_CHUNK_ENTRIES = 128 * 1024  # 1 MiB of BAT per read

DIRTY_HINT = ("attach and detach it once in Hyper-V (or Mount-VHD / Dismount-VHD), or run `qemu-img check -r all` on it "
              "(or `qemu-img convert` it to a new VHDX), then try again")
# qemu-img cannot read a differencing VHDX (its vhdx driver has no parent support), so only tools that can merge are named.
MERGE_HINT = ("merge the chain to a new base first and use that file: for a PVS vDisk with versions (.avhdx), Merge-PvsDisk -NewBase "
              "in PVS (or citrix_community.ips.ips_pvs_vdisk with merge_versions: true); otherwise Hyper-V Merge-VHD "
              "(Edit Disk > Merge)")
CONVERT_HINT = "convert it with Hyper-V or `qemu-img convert -O vhdx` to a standard VHDX"


def _guid(raw):
    return uuid.UUID(bytes_le=bytes(raw))


def _checked_crc(raw):
    """Whether the CRC-32C at bytes 4..8 of `raw` matches (computed with that field zeroed)."""
    stored = struct.unpack_from("<I", raw, 4)[0]
    data = bytearray(raw)
    data[4:8] = b"\0\0\0\0"
    return stored == crc32c(data)


def _bat_array(raw):
    entries = array("Q")
    entries.frombytes(raw)
    if sys.byteorder == "big":  # pragma: no cover
        entries.byteswap()
    return entries


class VhdxImage(DiskImage):
    format = "vhdx"

    def __init__(self, source, skip_file_holes=True):
        super(VhdxImage, self).__init__(source, skip_file_holes)
        sig = read_exact(source, 0, 8, "file identifier")
        if sig != FILE_SIGNATURE:
            raise DiskFormatError(self.name, "no 'vhdxfile' identifier at the start: not a VHDX file", "check the path")
        self._read_header()
        self._read_region_table()
        self._read_metadata()
        self._scan_bat()
        self.identity = "vhdx:%s:%d:%d:%d:%s:%s:%d" % (
            self.subformat, self.virtual_size, self.logical_sector_size, self.block_size, self.unique_id, self.data_write_guid, source.size)

    # -- headers -----------------------------------------------------------------------------

    def _read_header(self):
        best = None
        problems = []
        for index, offset in enumerate(HEADER_OFFSETS):
            raw = read_exact(self.source, offset, HEADER_SIZE, "header %d" % (index + 1))
            fields = HEADER_STRUCT.unpack_from(raw, 0)
            if fields[0] != b"head":
                problems.append("header %d has no 'head' signature" % (index + 1))
                continue
            if not _checked_crc(raw):
                problems.append("header %d fails its CRC-32C check" % (index + 1))
                continue
            if best is None or fields[2] > best[2]:
                best = fields
        if best is None:
            raise DiskFormatError(self.name, "both VHDX headers are damaged (%s)" % "; ".join(problems), RECOPY)
        _sig, _crc, self.sequence_number, file_write, data_write, log_guid, log_version, version, self.log_length, self.log_offset = best
        if version != 1 or log_version != 0:
            raise DiskFormatError(self.name, "unsupported VHDX version %d (log version %d)" % (version, log_version), CONVERT_HINT)
        if log_guid != ZERO_GUID:
            raise DiskFormatError(self.name, "the VHDX was not closed cleanly: its log still holds updates that were never applied", DIRTY_HINT)
        self.file_write_guid = str(_guid(file_write))
        self.data_write_guid = str(_guid(data_write))

    # -- region table ------------------------------------------------------------------------

    def _read_region_table(self):
        problems = []
        for index, offset in enumerate(REGION_TABLE_OFFSETS):
            raw = read_exact(self.source, offset, REGION_TABLE_SIZE, "region table %d" % (index + 1))
            signature, _crc, count, _reserved = struct.unpack_from("<4sIII", raw, 0)
            if signature != b"regi":
                problems.append("region table %d has no 'regi' signature" % (index + 1))
            elif not _checked_crc(raw):
                problems.append("region table %d fails its CRC-32C check" % (index + 1))
            elif count > MAX_ENTRIES:
                problems.append("region table %d claims %d entries" % (index + 1, count))
            else:
                self._parse_regions(raw, count)
                return
        raise DiskFormatError(self.name, "both VHDX region tables are damaged (%s)" % "; ".join(problems), RECOPY)

    def _parse_regions(self, raw, count):
        regions = {}
        for i in range(count):
            guid, file_offset, length, required = REGION_ENTRY.unpack_from(raw, 16 + i * REGION_ENTRY.size)
            guid = _guid(guid)
            if guid not in (BAT_REGION, METADATA_REGION):
                if required & 1:
                    raise DiskFormatError(self.name, "the VHDX requires a region this reader does not know (%s)" % guid, CONVERT_HINT)
                continue
            what = "BAT" if guid == BAT_REGION else "metadata"
            if file_offset < MIB or file_offset % MIB or length % MIB or not length:
                raise DiskFormatError(self.name, "the %s region (offset %d, %d bytes) is not on 1 MiB boundaries" % (what, file_offset, length), RECOPY)
            if file_offset + length > self.source.size:
                raise DiskFormatError(self.name, "the %s region (bytes %d to %d) lies beyond the end of the file (%d bytes)"
                                      % (what, file_offset, file_offset + length, self.source.size), RECOPY)
            regions[guid] = (file_offset, length)
        for guid, what in ((BAT_REGION, "BAT"), (METADATA_REGION, "metadata")):
            if guid not in regions:
                raise DiskFormatError(self.name, "the region table has no %s region" % what, RECOPY)
        self.bat_offset, self.bat_length = regions[BAT_REGION]
        self.metadata_offset, self.metadata_length = regions[METADATA_REGION]
        if self.bat_offset < self.metadata_offset + self.metadata_length and self.metadata_offset < self.bat_offset + self.bat_length:
            raise DiskFormatError(self.name, "the BAT region (bytes %d to %d) and the metadata region (bytes %d to %d) overlap"
                                  % (self.bat_offset, self.bat_offset + self.bat_length, self.metadata_offset,
                                     self.metadata_offset + self.metadata_length), RECOPY)

    # -- metadata ----------------------------------------------------------------------------

    def _read_metadata(self):
        base, region_len = self.metadata_offset, self.metadata_length
        raw = read_exact(self.source, base, METADATA_TABLE_SIZE, "metadata table")
        signature, _reserved, count = struct.unpack_from("<8sHH", raw, 0)
        if signature != b"metadata":
            raise DiskFormatError(self.name, "the metadata region has no 'metadata' signature", RECOPY)
        if count > MAX_ENTRIES:
            raise DiskFormatError(self.name, "the metadata table claims %d entries" % count, RECOPY)
        items = {}
        for i in range(count):
            guid, offset, length, flags = METADATA_ENTRY.unpack_from(raw, 32 + i * 32)
            guid = _guid(guid)
            is_user, is_required = flags & 1, flags & 4
            if guid not in KNOWN_ITEMS or is_user:
                if is_required:
                    raise DiskFormatError(self.name, "the VHDX requires a metadata item this reader does not know (%s)" % guid, CONVERT_HINT)
                continue
            if length and (offset < METADATA_TABLE_SIZE or offset + length > region_len):
                raise DiskFormatError(self.name, "metadata item %s lies outside the metadata region" % guid, RECOPY)
            items[guid] = read_exact(self.source, base + offset, length, "metadata item %s" % guid) if length else b""

        def item(guid, fmt, what):
            data = items.get(guid)
            if data is None:
                raise DiskFormatError(self.name, "the required metadata item '%s' is missing" % what, RECOPY)
            if len(data) < struct.calcsize(fmt):
                raise DiskFormatError(self.name, "the metadata item '%s' is too short" % what, RECOPY)
            return struct.unpack_from(fmt, data, 0)

        block_size, flags = item(FILE_PARAMETERS, "<II", "file parameters")
        self.leave_block_allocated = bool(flags & 1)
        self.has_parent = bool(flags & 2)
        if self.has_parent:
            raise DiskFormatError(self.name, "this is a differencing VHDX (it only holds the changes to a parent disk)", MERGE_HINT)
        (self.virtual_size,) = item(VIRTUAL_DISK_SIZE, "<Q", "virtual disk size")
        (disk_id,) = item(VIRTUAL_DISK_ID, "<16s", "virtual disk id")
        (self.logical_sector_size,) = item(LOGICAL_SECTOR_SIZE, "<I", "logical sector size")
        (self.physical_sector_size,) = item(PHYSICAL_SECTOR_SIZE, "<I", "physical sector size")
        self.unique_id = str(_guid(disk_id))
        if block_size < MIB or block_size > 256 * MIB or block_size & (block_size - 1):
            raise DiskFormatError(self.name, "invalid block size %d (must be a power of two from 1 MiB to 256 MiB)" % block_size, RECOPY)
        for what, value in (("logical", self.logical_sector_size), ("physical", self.physical_sector_size)):
            if value not in (512, 4096):
                raise DiskFormatError(self.name, "invalid %s sector size %d (must be 512 or 4096)" % (what, value), RECOPY)
        if self.virtual_size <= 0 or self.virtual_size % self.logical_sector_size or self.virtual_size > MAX_VIRTUAL_SIZE:
            raise DiskFormatError(self.name, "invalid virtual disk size %d (must be a positive multiple of the %d-byte logical sector, "
                                  "at most 64 TiB)" % (self.virtual_size, self.logical_sector_size), RECOPY)
        self.block_size = block_size
        self.subformat = "fixed" if self.leave_block_allocated else "dynamic"
        self.chunk_ratio = (1 << 23) * self.logical_sector_size // block_size
        self.blocks = -(-self.virtual_size // block_size)

    # -- BAT ---------------------------------------------------------------------------------

    def _block_length(self, block):
        return min(self.block_size, self.virtual_size - block * self.block_size)

    def _scan_bat(self):
        """Check the BAT and keep (file offset in MiB << 32 | block) of present blocks, sorted by file offset."""
        blocks, cr = self.blocks, self.chunk_ratio
        entries = blocks + (blocks - 1) // cr if blocks else 0
        if entries * 8 > self.bat_length:
            raise DiskFormatError(self.name, "the BAT region (%d bytes) is too small for %d entries" % (self.bat_length, entries), RECOPY)
        packed = array("Q")
        size = self.source.size
        # the structures no payload block may overlap (a block there would send them as disk data)
        reserved = [(0, MIB, "the headers and region tables"), (self.bat_offset, self.bat_offset + self.bat_length, "the BAT"),
                    (self.metadata_offset, self.metadata_offset + self.metadata_length, "the metadata region")]
        if self.log_length:
            reserved.append((self.log_offset, self.log_offset + self.log_length, "the log"))
        for first in range(0, entries, BAT_CHUNK_ENTRIES):
            count = min(BAT_CHUNK_ENTRIES, entries - first)
            raw = read_exact(self.source, self.bat_offset + 8 * first, 8 * count, "BAT")
            for i, entry in enumerate(_bat_array(raw)):
                state = entry & 7
                if state in HOLE_STATES:
                    continue
                index = first + i
                if index % (cr + 1) == cr:
                    continue  # a sector-bitmap entry: only differencing disks use them
                block = index - index // (cr + 1)
                if state == PAYLOAD_PARTIALLY_PRESENT:
                    raise DiskFormatError(self.name, "block %d is PARTIALLY_PRESENT, which only a differencing disk may use" % block, RECOPY)
                if state != PAYLOAD_FULLY_PRESENT:
                    raise DiskFormatError(self.name, "block %d has the invalid BAT state %d" % (block, state), RECOPY)
                mib = entry >> 20
                if mib < 1 or mib * MIB + self._block_length(block) > size:
                    raise DiskFormatError(self.name, "block %d of the BAT (file bytes %d to %d) lies outside the file (%d bytes)"
                                          % (block, mib * MIB, mib * MIB + self._block_length(block), size), RECOPY)
                start, end = mib * MIB, mib * MIB + self._block_length(block)
                for low, high, what in reserved:
                    if start < high and low < end:
                        raise DiskFormatError(self.name, "block %d of the BAT (file bytes %d to %d) overlaps %s (bytes %d to %d)"
                                              % (block, start, end, what, low, high), RECOPY)
                packed.append(mib << 32 | block)
        self._packed = array("Q", sorted(packed))
        mask = 0xFFFFFFFF
        for prev, cur in zip(self._packed, self._packed[1:]):
            if ((cur >> 32) - (prev >> 32)) * MIB < self._block_length(prev & mask):
                raise DiskFormatError(self.name, "blocks %d and %d of the BAT overlap in the file" % (prev & mask, cur & mask), RECOPY)

    def _raw_runs(self):
        mask = 0xFFFFFFFF
        for key in self._packed:
            block = key & mask
            yield (block * self.block_size, self._block_length(block), (key >> 32) * MIB)

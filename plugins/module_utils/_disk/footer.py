# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The 512-byte fixed-VHD footer an Azure upload ends with, and the size Azure wants for it.

An Azure managed disk created for upload is a page blob of exactly `azure_upload_size(virtual)`
bytes: the virtual disk rounded up to a whole MiB, then one footer sector. The uploader writes the
non-zero data and, at offset `round_up_mib(virtual)`, `fixed_vhd_footer(round_up_mib(virtual))`.

All fields are big-endian (VHD spec v1.0, "Hard Disk Footer Format").
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import struct
import time
import uuid

MIB = 1024 * 1024
SECTOR = 512
FOOTER_SIZE = 512
COOKIE = b"conectix"
VERSION = 0x00010000
FEATURES_RESERVED = 0x00000002
NO_DATA_OFFSET = 0xFFFFFFFFFFFFFFFF
TYPE_FIXED = 2
TYPE_DYNAMIC = 3
TYPE_DIFFERENCING = 4
# seconds between the unix epoch and the VHD epoch (2000-01-01 00:00:00 UTC)
VHD_EPOCH = 946684800
CHECKSUM_OFFSET = 64

# The creator application decides how readers size the disk: Virtual PC ("vpc ") and old qemu
# ("qemu") images are sized from the CHS geometry, which is usually smaller than current_size.
# qemu 7.x only trusts current_size for a short list of creators ("win ", "qem2", "d2v ", "CTXS",
# "tap\0"); an unknown one would be read as CHS-sized. "win " (Hyper-V) is what Azure's own tools
# produce from Hyper-V disks, so it is the safe default.
CREATOR_APP = b"win "
CREATOR_VERSION = 0x000A0000
CREATOR_HOST_OS = b"Wi2k"

# cookie, features, version, data offset, timestamp, creator app, creator version, creator host,
# original size, current size, cylinders, heads, sectors/track, disk type, checksum, unique id, saved state
FOOTER_STRUCT = struct.Struct(">8sIIQI4sI4sQQHBBII16sB")


def vhd_checksum(data, checksum_offset=CHECKSUM_OFFSET):
    """One's complement of the byte sum of `data`, the 4 checksum bytes counted as zero."""
    data = bytearray(data)
    total = sum(data) - sum(data[checksum_offset:checksum_offset + 4])
    return ~total & 0xFFFFFFFF


def chs_geometry(total_sectors):
    """(cylinders, heads, sectors per track) from the VHD spec's appendix, capped at 65535/16/255."""
    ts = min(total_sectors, 65535 * 16 * 255)
    if ts >= 65535 * 16 * 63:
        spt, heads = 255, 16
        cth = ts // spt
    else:
        spt = 17
        cth = ts // spt
        heads = max(4, (cth + 1023) // 1024)
        if cth >= heads * 1024 or heads > 16:
            spt, heads = 31, 16
            cth = ts // spt
        if cth >= heads * 1024:
            spt, heads = 63, 16
            cth = ts // spt
    return cth // heads, heads, spt


def round_up_mib(size):
    return -(-size // MIB) * MIB


def azure_upload_size(virtual_size):
    """uploadSizeBytes of an Azure managed disk for this virtual size: whole MiB plus the footer."""
    if virtual_size <= 0:
        raise ValueError("virtual size must be positive, got %r" % (virtual_size,))
    return round_up_mib(virtual_size) + FOOTER_SIZE


def _unique_id_bytes(unique_id):
    if unique_id is None:
        return uuid.uuid4().bytes
    if isinstance(unique_id, uuid.UUID):
        return unique_id.bytes
    if isinstance(unique_id, (bytes, bytearray)) and len(unique_id) == 16:
        return bytes(unique_id)
    return uuid.UUID(str(unique_id)).bytes


def fixed_vhd_footer(virtual_size, unique_id=None, timestamp=None, creator_app=CREATOR_APP):
    """The 512-byte footer of a fixed VHD whose data is `virtual_size` bytes.

    unique_id: a uuid.UUID, 16 bytes or a GUID string (default: a new random one); pass the same
    value on a re-run to write the same footer. timestamp: unix seconds (default: now).
    """
    if virtual_size <= 0 or virtual_size % SECTOR:
        raise ValueError("a fixed VHD needs a positive whole number of 512-byte sectors, got %r bytes" % (virtual_size,))
    if len(creator_app) != 4:
        raise ValueError("creator_app must be 4 bytes")
    if timestamp is None:
        timestamp = time.time()
    vhd_time = max(0, int(timestamp) - VHD_EPOCH) & 0xFFFFFFFF
    cylinders, heads, spt = chs_geometry(virtual_size // SECTOR)
    fields = [COOKIE, FEATURES_RESERVED, VERSION, NO_DATA_OFFSET, vhd_time, bytes(creator_app), CREATOR_VERSION, CREATOR_HOST_OS,
              virtual_size, virtual_size, cylinders, heads, spt, TYPE_FIXED, 0, _unique_id_bytes(unique_id), 0]
    footer = bytearray(FOOTER_SIZE)
    FOOTER_STRUCT.pack_into(footer, 0, *fields)
    struct.pack_into(">I", footer, CHECKSUM_OFFSET, vhd_checksum(footer))
    return bytes(footer)

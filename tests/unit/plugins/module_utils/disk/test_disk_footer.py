"""The fixed-VHD footer writer, the Azure upload size, CRC-32C, and VHD sector bitmaps."""

import json
import os
import struct
import uuid

import pytest

from ansible_collections.citrix_community.ips.plugins.module_utils._disk import VhdImage, open_image
from ansible_collections.citrix_community.ips.plugins.module_utils._disk.crc32c import crc32c
from ansible_collections.citrix_community.ips.plugins.module_utils._disk.footer import (
    VHD_EPOCH, azure_upload_size, chs_geometry, fixed_vhd_footer, round_up_mib)
from ansible_collections.citrix_community.ips.plugins.module_utils._disk.vhd import parse_footer
from ansible_collections.citrix_community.ips.plugins.module_utils._sources import LocalFileSource

from disk_helpers import MIB, open_all


def test_crc32c_vectors():
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0
    assert crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720 B.4: 32 bytes of zeros
    assert crc32c(b"\xff" * 32) == 0x62A8AB43  # RFC 3720 B.4: 32 bytes of 0xff
    assert crc32c(bytes(range(32))) == 0x46DD794E  # RFC 3720 B.4: incrementing
    assert crc32c(b"6789", crc32c(b"12345")) == 0xE3069283  # continues


@pytest.mark.parametrize("size", [1, MIB - 1, MIB, MIB + 1, 127 * 1024 * MIB + 12345])
def test_azure_upload_size(size):
    assert azure_upload_size(size) == -(-size // MIB) * MIB + 512
    assert (azure_upload_size(size) - 512) % MIB == 0


def test_azure_upload_size_rejects_nothing():
    with pytest.raises(ValueError):
        azure_upload_size(0)


def test_footer_fields_round_trip():
    uid = uuid.UUID("11223344-5566-7788-99aa-bbccddeeff00")
    footer = fixed_vhd_footer(30 * 1024 * MIB, unique_id=uid, timestamp=VHD_EPOCH + 1000)
    assert len(footer) == 512
    f = parse_footer(footer)
    assert (f.cookie, f.features, f.version, f.data_offset) == (b"conectix", 2, 0x00010000, 0xFFFFFFFFFFFFFFFF)
    assert (f.original_size, f.current_size, f.disk_type, f.timestamp) == (30 * 1024 * MIB, 30 * 1024 * MIB, 2, 1000)
    assert (f.cylinders, f.heads, f.sectors_per_track) == chs_geometry(30 * 1024 * MIB // 512)
    assert uuid.UUID(bytes=f.unique_id) == uid and f.creator_app == b"win " and f.saved_state == 0
    assert footer[85:] == bytes(427)
    # same inputs, same bytes (a resumed upload rewrites the same footer)
    assert fixed_vhd_footer(30 * 1024 * MIB, unique_id=str(uid), timestamp=VHD_EPOCH + 1000) == footer
    assert fixed_vhd_footer(MIB)[68:84] != fixed_vhd_footer(MIB)[68:84]  # random id by default


def test_footer_rejects_partial_sectors():
    for bad in (0, 511, MIB + 1):
        with pytest.raises(ValueError):
            fixed_vhd_footer(bad)


@pytest.mark.parametrize("size", [10 * MIB, 100 * MIB, 1024 * MIB, 40 * 1024 * MIB, 127 * 1024 * MIB])
def test_chs_matches_qemu(qemu, tmp_path, size):
    """qemu-img's VHD geometry (qemu calculate_geometry) equals ours for the size it chose."""
    path = tmp_path / "chs.vhd"
    qemu("create", "-f", "vpc", "-o", "subformat=dynamic", path, size)
    with open(path, "rb") as fh:
        f = parse_footer(fh.read(512))
    assert (f.cylinders, f.heads, f.sectors_per_track) == chs_geometry(f.current_size // 512)


def test_chs_saturates():
    assert chs_geometry(65535 * 16 * 255) == (65535, 16, 255)
    assert chs_geometry(10 ** 12) == (65535, 16, 255)


@pytest.mark.parametrize("virtual", [64 * MIB, round_up_mib(123456789), 100 * MIB + 3 * 512])
def test_zeros_plus_footer_is_a_fixed_vhd_for_qemu_and_for_us(qemu, tmp_path, virtual):
    """What an Azure upload leaves in the page blob: data, then the footer. qemu reads it as a fixed VHD of that size."""
    path = tmp_path / "disk.vhd"
    payload = os.urandom(4096)
    with open(path, "wb") as f:
        f.truncate(virtual)
        f.seek(virtual - 8192)
        f.write(payload)
        f.seek(virtual)
        f.write(fixed_vhd_footer(virtual))
    info = json.loads(qemu("info", "-f", "vpc", "--output=json", path))
    assert info["virtual-size"] == virtual and info["format"] == "vpc"
    qemu("convert", "-f", "vpc", "-O", "raw", path, tmp_path / "out.raw")
    with open(tmp_path / "out.raw", "rb") as f:
        f.seek(virtual - 8192)
        assert f.read(4096) == payload
    img, _extents = open_all(path)
    assert isinstance(img, VhdImage) and (img.subformat, img.virtual_size) == ("fixed", virtual)


# -- VHD sector bitmaps -------------------------------------------------------------------------


def _first_block(path):
    """(file offset of block 0's bitmap, block size) of a dynamic VHD."""
    with open(path, "rb") as f:
        f.seek(512 + 16)
        table = struct.unpack(">Q", f.read(8))[0]
        f.seek(512 + 32)
        block_size = struct.unpack(">I", f.read(4))[0]
        f.seek(table)
        return struct.unpack(">I", f.read(4))[0] * 512, block_size


def test_partial_sector_bitmap(small, damaged):
    """Only sectors whose bitmap bit is set hold data; a block with an empty bitmap holds none."""
    path = damaged("dynamic.vhd")
    bitmap_at, block_size = _first_block(path)
    with open(path, "r+b") as f:
        f.seek(bitmap_at)
        bitmap = bytearray(f.read(512))
        assert bitmap[:block_size // 512 // 8] == b"\xff" * (block_size // 512 // 8)  # qemu sets every bit
        bitmap[1] = 0x00          # sectors 8..15
        bitmap[12] = 0b10110111   # sectors 97, 100 clear
        for i in range(25, 50):   # sectors 200..399
            bitmap[i] = 0
        f.seek(bitmap_at)
        f.write(bitmap)
    cleared = list(range(8, 16)) + [97, 100] + list(range(200, 400))
    with open(small["raw"].path, "rb") as f:
        expected = bytearray(f.read())
    for s in cleared:
        expected[s * 512:(s + 1) * 512] = bytes(512)
    for skip in (True, False):
        with LocalFileSource(str(path)) as src:
            img = open_image(src, skip_file_holes=skip)
            extents = list(img.extents())
            out = bytearray(img.virtual_size)
            for e in extents:
                out[e.virtual_offset:e.virtual_offset + e.length] = img.read_extent(e)
            assert out == expected
            assert img.read_virtual(0, img.virtual_size) == bytes(expected)
            in_block0 = [e for e in extents if e.virtual_offset < block_size]
            assert [(e.virtual_offset // 512, e.length // 512) for e in in_block0] == [
                (0, 8), (16, 81), (98, 2), (101, 99), (400, block_size // 512 - 400)]
    # an all-clear bitmap: the block is not read at all
    with open(path, "r+b") as f:
        f.seek(bitmap_at)
        f.write(bytes(512))
    img, extents = open_all(path, skip_file_holes=False)
    assert all(e.virtual_offset >= block_size for e in extents)
    assert img.allocated_bytes == sum(e.length for e in extents)

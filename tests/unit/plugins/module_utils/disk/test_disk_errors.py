"""Damaged, unsupported and cut-short images: one DiskFormatError with a useful line, never a crash or wrong bytes."""

import os
import struct
import subprocess

import pytest

from ansible_collections.citrix_community.ips.plugins.module_utils._disk import DiskFormatError, open_image
from ansible_collections.citrix_community.ips.plugins.module_utils._disk.crc32c import crc32c
from ansible_collections.citrix_community.ips.plugins.module_utils._disk.footer import vhd_checksum
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError
from ansible_collections.citrix_community.ips.plugins.module_utils._sources import LocalFileSource

from disk_helpers import MIB, fingerprint, open_all

KIB = 1024


def read(path, offset, length):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(length)


def write(path, offset, data):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def flip(path, offset):
    write(path, offset, bytes([read(path, offset, 1)[0] ^ 0x5A]))


def truncate(path, size):
    with open(path, "r+b") as f:
        f.truncate(size)


def patch_vhd_footer(path, offset, field_offset, data):
    """Write `data` into the VHD footer at `offset` and fix its checksum."""
    footer = bytearray(read(path, offset, 512))
    footer[field_offset:field_offset + len(data)] = data
    struct.pack_into(">I", footer, 64, vhd_checksum(footer))
    write(path, offset, bytes(footer))


def patch_vhdx_crc_block(path, offset, size, field_offset, data):
    """Write `data` into a VHDX header (4 KiB) or region table (64 KiB) and fix its CRC-32C."""
    block = bytearray(read(path, offset, size))
    block[field_offset:field_offset + len(data)] = data
    block[4:8] = b"\0\0\0\0"
    struct.pack_into("<I", block, 4, crc32c(block))
    write(path, offset, bytes(block))


def region_entries(path):
    table = read(path, 192 * KIB, 64 * KIB)
    count = struct.unpack_from("<I", table, 8)[0]
    return [(16 + 32 * i,) + struct.unpack_from("<16sQII", table, 16 + 32 * i) for i in range(count)]


def bat_offset(path):
    import uuid
    for pos, guid, offset, _length, _req in region_entries(path):
        if uuid.UUID(bytes_le=guid) == uuid.UUID("2DC27766-F623-4200-9D64-115E9BFD4A08"):
            return pos, offset
    raise AssertionError("no BAT region")


def same_as_raw(path, raw_path):
    img, extents = open_all(path)
    out = bytearray(img.virtual_size)
    with LocalFileSource(str(path)) as src:
        for e in extents:
            out[e.virtual_offset:e.virtual_offset + e.length] = src.read_at(e.file_offset, e.length)
    return bytes(out) == read(raw_path, 0, img.virtual_size)


# -- not an image at all ------------------------------------------------------------------------


def test_error_type_is_the_collections_error():
    assert issubclass(DiskFormatError, IPSError)


def test_empty_and_garbage_files(tmp_path, fails):
    empty = tmp_path / "empty.vhdx"
    empty.write_bytes(b"")
    fails(empty, "too small")
    garbage = tmp_path / "garbage.vhd"
    garbage.write_bytes(os.urandom(MIB))
    fails(garbage, "not a VHD or VHDX", "check the path")


# -- truncation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dynamic.vhd", "fixed.vhd", "dynamic.vhdx", "fixed.vhdx"])
def test_truncated_anywhere_fails_cleanly_or_reads_right(small, damaged, name):
    """Cut the file at many points: either a DiskFormatError, or (when the cut lost nothing needed) the right bytes."""
    size = os.path.getsize(small[name].path)
    cuts = sorted(set(c for c in (0, 7, 100, 511, 512, 513, 1024, 1536, 2048, 4096, 64 * KIB + 100, 130 * KIB, 200 * KIB, 260 * KIB,
                                  MIB - 1, MIB + 4096, 2 * MIB, size // 2, size - 4096, size - 513, size - 512, size - 1) if 0 <= c < size))
    outcomes = {}
    for cut in cuts:
        path = damaged(name)
        truncate(path, cut)
        before = fingerprint(path)
        try:
            ok = same_as_raw(path, small["raw"].path)
        except DiskFormatError as e:
            assert "\n" not in str(e) and str(e).startswith(str(path))
            outcomes[cut] = "error"
        else:
            assert ok, "cut at %d gave wrong bytes" % cut
            outcomes[cut] = "read"
        assert fingerprint(path) == before
    # what must fail: any cut inside the data of these files
    for cut in (size // 2, size - 4096, size - 513):
        assert outcomes[cut] == "error", (name, cut)
    if name == "fixed.vhd":
        assert outcomes[size - 1] == "read"  # an old-style 511-byte footer: still a valid fixed VHD
        assert set(outcomes[c] for c in cuts if c != size - 1) == {"error"}
    if name == "dynamic.vhd":
        assert outcomes[size - 512] == "read"  # only the trailing footer lost: the copy at 0 is enough


def test_truncated_messages(damaged, fails):
    path = damaged("dynamic.vhdx")
    truncate(path, os.path.getsize(path) - MIB)
    fails(path, "outside the file", "copy the image again")
    path = damaged("dynamic.vhd")
    truncate(path, os.path.getsize(path) - 4096)
    fails(path, "outside the file", "copy the image again")
    path = damaged("fixed.vhd")
    truncate(path, os.path.getsize(path) - 4096)
    fails(path, "no 'conectix' footer", "check the path")


# -- VHD damage ---------------------------------------------------------------------------------


@pytest.mark.parametrize("field", [0, 9, 40, 48, 60, 70, 300])
def test_fixed_vhd_footer_flipped_byte(damaged, fails, field):
    path = damaged("fixed.vhd")
    flip(path, os.path.getsize(path) - 512 + field)
    fails(path, "footer", "copy the image again")


def test_dynamic_vhd_footer_copies(small, damaged, fails):
    # one damaged copy: the other is enough
    path = damaged("dynamic.vhd")
    flip(path, os.path.getsize(path) - 512 + 50)
    assert same_as_raw(path, small["raw"].path)
    path = damaged("dynamic.vhd")
    flip(path, 50)
    assert same_as_raw(path, small["raw"].path)
    # both damaged
    path = damaged("dynamic.vhd")
    flip(path, 50)
    flip(path, os.path.getsize(path) - 512 + 50)
    fails(path, "footer", "damaged")
    # both intact but disagreeing about the size
    path = damaged("dynamic.vhd")
    patch_vhd_footer(path, 0, 48, struct.pack(">Q", 16 * MIB))
    fails(path, "disagree")


def test_dynamic_vhd_header_damage(damaged, fails):
    path = damaged("dynamic.vhd")
    flip(path, 512 + 28)  # max table entries, under the header checksum
    fails(path, "dynamic disk header checksum")
    path = damaged("dynamic.vhd")
    flip(path, 512 + 2)
    fails(path, "cxsparse")


def test_dynamic_vhd_bat_entry_past_end(damaged, fails):
    path = damaged("dynamic.vhd")
    table = struct.unpack_from(">Q", read(path, 512 + 16, 8))[0]
    write(path, table, struct.pack(">I", 0x00FFFFFF))  # block 0 -> ~8 GiB into a small file
    fails(path, "block 0", "outside the file")


def test_dynamic_vhd_overlapping_blocks(damaged, fails):
    path = damaged("dynamic.vhd")
    table = struct.unpack_from(">Q", read(path, 512 + 16, 8))[0]
    write(path, table + 4, read(path, table, 4))  # block 1 -> block 0's place
    fails(path, "overlap")


def test_differencing_vhd(damaged, fails):
    path = damaged("dynamic.vhd")
    size = os.path.getsize(path)
    for offset in (0, size - 512):
        patch_vhd_footer(path, offset, 60, struct.pack(">I", 4))
    message = fails(path, "differencing", "merge", "Merge-PvsDisk -NewBase", "Merge-VHD")
    assert "qemu-img" not in message  # qemu-img cannot read a differencing disk: the advice must not send users there


def test_unknown_vhd_type(damaged, fails):
    path = damaged("fixed.vhd")
    patch_vhd_footer(path, os.path.getsize(path) - 512, 60, struct.pack(">I", 9))
    fails(path, "unknown VHD disk type 9")


# -- VHDX damage --------------------------------------------------------------------------------


def test_vhdx_one_damaged_header_or_region_table_is_survivable(small, damaged):
    for offset in (64 * KIB + 40, 128 * KIB + 40, 192 * KIB + 20, 256 * KIB + 20):
        path = damaged("dynamic.vhdx")
        flip(path, offset)
        assert same_as_raw(path, small["raw"].path), offset


def test_vhdx_both_headers_damaged(damaged, fails):
    path = damaged("dynamic.vhdx")
    flip(path, 64 * KIB + 40)
    flip(path, 128 * KIB + 1)
    fails(path, "both VHDX headers are damaged", "CRC-32C", "signature")


def test_vhdx_both_region_tables_damaged(damaged, fails):
    path = damaged("dynamic.vhdx")
    flip(path, 192 * KIB + 100)
    flip(path, 256 * KIB + 100)
    fails(path, "region tables are damaged")


def test_vhdx_not_vhdx(damaged, fails):
    path = damaged("dynamic.vhdx")
    flip(path, 3)
    fails(path, "not a VHD or VHDX")


def test_vhdx_bat_region_beyond_end(damaged, fails):
    path = damaged("dynamic.vhdx")
    pos, _bat = bat_offset(path)
    for table in (192 * KIB, 256 * KIB):
        patch_vhdx_crc_block(path, table, 64 * KIB, pos + 16, struct.pack("<Q", 64 * 1024 * MIB))
    fails(path, "BAT region", "beyond the end of the file")


def test_vhdx_bat_entry_past_end_and_bad_states(damaged, fails):
    path = damaged("dynamic.vhdx")
    _pos, bat = bat_offset(path)
    write(path, bat, struct.pack("<Q", (4096 << 20) | 6))  # block 0 at 4 GiB
    fails(path, "block 0", "outside the file")
    path = damaged("dynamic.vhdx")
    _pos, bat = bat_offset(path)
    entry = struct.unpack("<Q", read(path, bat, 8))[0]
    write(path, bat, struct.pack("<Q", entry & ~7 | 7))
    fails(path, "PARTIALLY_PRESENT")
    path = damaged("dynamic.vhdx")
    _pos, bat = bat_offset(path)
    write(path, bat, struct.pack("<Q", entry & ~7 | 5))
    fails(path, "invalid BAT state 5")


def test_vhdx_dirty_log(damaged, fails):
    path = damaged("dynamic.vhdx")
    for header in (64 * KIB, 128 * KIB):
        patch_vhdx_crc_block(path, header, 4 * KIB, 48, os.urandom(16))  # LogGuid
    message = fails(path, "not closed cleanly", "Hyper-V", "qemu-img check -r all")
    assert "convert" in message


def test_vhdx_bad_metadata(damaged, fails):
    from disk_helpers import patch_logical_sector_size
    path = damaged("dynamic.vhdx")
    patch_logical_sector_size(path, 1000)
    fails(path, "logical sector size 1000")


def test_differencing_vhdx(small, tmp_path, damaged, fails, qemu):
    """qemu-img 7.2 cannot create a VHDX child (no backing-file support), so set HasParent in the file parameters."""
    from disk_helpers import patch_metadata_item
    from ansible_collections.citrix_community.ips.plugins.module_utils._disk.vhdx import FILE_PARAMETERS
    with pytest.raises(subprocess.CalledProcessError):
        qemu("create", "-f", "vhdx", "-b", small["dynamic.vhdx"].path, "-F", "vhdx", tmp_path / "child.vhdx")
    path = damaged("dynamic.vhdx")
    patch_metadata_item(path, FILE_PARAMETERS, struct.pack("<I", 2), at=4)
    message = fails(path, "differencing VHDX", "merge", "Merge-PvsDisk -NewBase", "Merge-VHD")
    assert "qemu-img" not in message  # qemu-img cannot read a differencing VHDX (see the pytest.raises above)


def test_qemu_agrees_the_damage_is_real(damaged, qemu):
    """Sanity of the patching helpers: qemu-img also refuses a VHDX whose both headers are damaged."""
    path = damaged("dynamic.vhdx")
    flip(path, 64 * KIB + 40)
    flip(path, 128 * KIB + 40)
    with pytest.raises(subprocess.CalledProcessError):
        qemu("info", "-f", "vhdx", path)


def test_reading_never_writes(small):
    for name in ("dynamic.vhd", "fixed.vhd", "dynamic.vhdx", "fixed.vhdx"):
        before = fingerprint(small[name].path)
        with LocalFileSource(str(small[name].path)) as src:
            img = open_image(src)
            list(img.extents())
            img.read_virtual(0, img.virtual_size)
        assert fingerprint(small[name].path) == before


# -- another disk format ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt, options, words", [
    ("vmdk", "subformat=monolithicSparse", ("VMDK", "VMware")),
    ("vmdk", "subformat=streamOptimized", ("VMDK",)),
    ("qcow2", "", ("qcow2",)),
    ("vdi", "", ("VDI", "VirtualBox")),
])
def test_a_foreign_image_is_named_with_what_to_do(tmp_path, fails, fmt, options, words):
    """What qemu-img writes in each format (with data, so it is not all header), named rather than called damaged."""
    raw = tmp_path / "src.raw"
    with open(str(raw), "wb") as f:
        f.write(os.urandom(MIB))
        f.truncate(16 * MIB)
    out = tmp_path / ("disk.%s" % fmt)
    cmd = ["qemu-img", "convert", "-q", "-f", "raw", "-O", fmt] + (["-o", options] if options else []) + [str(raw), str(out)]
    subprocess.run(cmd, check=True)
    message = fails(out, *(words + ("not a VHD or VHDX", "qemu-img convert -O vhdx", "ips_export")))
    assert "damaged" not in message


def test_a_vmdk_descriptor_and_raw_disks_are_named(tmp_path, fails):
    descriptor = tmp_path / "win11.vmdk"
    descriptor.write_text('# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="vmfs"\n\n'
                          'RW 33554432 VMFS "win11-flat.vmdk"\n')
    fails(descriptor, "VMDK descriptor", "qemu-img convert")
    mbr = tmp_path / "mbr.img"
    with open(str(mbr), "wb") as f:
        f.write(os.urandom(446) + bytes(64) + b"\x55\xaa")
        f.truncate(4 * MIB)
    fails(mbr, "raw disk image", "MBR", "qemu-img convert", "fixed VHD cut short", "copy the image again")
    gpt = tmp_path / "gpt.img"
    with open(str(gpt), "wb") as f:
        f.write(bytes(510) + b"\x55\xaa" + b"EFI PART" + os.urandom(504))
        f.truncate(4 * MIB)
    fails(gpt, "raw disk image", "GPT")

"""Damaged and wrong disk images: each is refused with one line naming the structure and what to do.

Copies of small real images (qemu-img) are damaged byte by byte; the readers must refuse each one
(DiskFormatError), never send its bytes as disk data, and never write to the file (hash and mtime).
The last cases let hypothesis damage headers, tables and sizes at random and check the invariant:
refused with a clear line, or opened with every extent inside the file's data area.
"""

import os
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.citrix_community.ips.plugins.module_utils._disk import DiskFormatError
from ansible_collections.citrix_community.ips.plugins.module_utils._disk import vhdx as vhdx_mod
from badinput_helpers import count_error, count_valid, fingerprint
from disk_mutations import (MIB, SIZE, copy, file_size, make_images, opened, read_at, vhd_bat, vhd_layout, vhd_set_bat, vhd_set_footer,
                            vhdx_bat, vhdx_layout, vhdx_patch_item, vhdx_set_bat, write_at)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return make_images(tmp_path_factory.mktemp("bad-images"))


def refused(path, *words):
    """open_image refuses `path` with one line holding `words`; the file is unchanged."""
    before = fingerprint(path)
    with pytest.raises(DiskFormatError) as err:
        opened(path)
    assert fingerprint(path) == before, "the reader changed the source"
    return count_error(err.value, str(path), *words)


# -- the cases of issue 18's "Why" -------------------------------------------------------------

@pytest.mark.parametrize("name", ["fixed.vhd", "dynamic.vhd"])
def test_footer_size_zero(images, tmp_path, name):
    path = copy(images, name, tmp_path / name)
    vhd_set_footer(path, name.startswith("dynamic"), current_size=0)
    refused(path, "disk size of 0 bytes", "copy the image again")


@pytest.mark.parametrize("name,size", [("fixed.vhd", SIZE + 1), ("fixed.vhd", SIZE - 100), ("dynamic.vhd", SIZE - 1),
                                       ("dynamic.vhd", SIZE + 511)])
def test_size_not_whole_sectors(images, tmp_path, name, size):
    path = copy(images, name, tmp_path / name)
    vhd_set_footer(path, name.startswith("dynamic"), current_size=size)
    refused(path, "not a positive whole number of 512-byte sectors")


@pytest.mark.parametrize("declared", [SIZE + 512, SIZE * 2, SIZE - MIB, 512])
def test_fixed_vhd_footer_differs_from_data(images, tmp_path, declared):
    path = copy(images, "fixed.vhd", tmp_path / "fixed.vhd")
    vhd_set_footer(path, False, current_size=declared)
    refused(path, "declares %d bytes of data but the file holds %d" % (declared, SIZE))


def test_fixed_vhd_padded(images, tmp_path):
    """Garbage between the data and the footer (a padded copy): the footer no longer describes the file."""
    path = copy(images, "fixed.vhd", tmp_path / "fixed.vhd")
    footer = read_at(path, SIZE, 512)
    write_at(path, SIZE, b"\xaa" * MIB + footer)
    refused(path, "declares %d bytes" % SIZE)


@pytest.mark.parametrize("where", ["headers", "region", "bat", "metadata", "log"])
def test_vhdx_block_inside_its_own_structures(images, tmp_path, where):
    path = copy(images, "dynamic.vhdx", tmp_path / "d.vhdx")
    layout = vhdx_layout(path)
    at = {"headers": 0, "region": 0, "bat": layout["bat"] // MIB, "metadata": layout["meta"] // MIB, "log": layout["log"] // MIB}[where]
    if where in ("headers", "region"):
        vhdx_set_bat(path, 1, 0)
        refused(path, "block 1", "lies outside the file")  # file MiB 0 holds the headers and region tables
        return
    vhdx_set_bat(path, 1, at)
    refused(path, "block 1", "overlaps the %s" % {"bat": "BAT", "metadata": "metadata region", "log": "log"}[where])


def test_vhdx_blocks_at_each_other(images, tmp_path):
    path = copy(images, "dynamic.vhdx", tmp_path / "d.vhdx")
    first = vhdx_bat(path, 0)
    vhdx_set_bat(path, 5, first >> 20)
    refused(path, "overlap in the file")


def test_vhdx_block_past_the_end(images, tmp_path):
    path = copy(images, "dynamic.vhdx", tmp_path / "d.vhdx")
    vhdx_set_bat(path, 2, file_size(path) // MIB + 10)
    refused(path, "block 2", "lies outside the file")


@pytest.mark.parametrize("state", [4, 5, 7])
def test_vhdx_block_invalid_state(images, tmp_path, state):
    path = copy(images, "dynamic.vhdx", tmp_path / "d.vhdx")
    vhdx_set_bat(path, 0, vhdx_bat(path, 0) >> 20, state=state)
    refused(path, "block 0")


@pytest.mark.parametrize("target", ["footer copy", "dynamic header", "bat", "past end", "each other"])
def test_vhd_block_inside_its_own_structures(images, tmp_path, target):
    path = copy(images, "dynamic.vhd", tmp_path / "d.vhd")
    dyn, table, _n = vhd_layout(path)
    sector = {"footer copy": 0, "dynamic header": dyn // 512, "bat": table // 512, "past end": file_size(path) // 512 + 8,
              "each other": vhd_bat(path, 0)}[target]
    vhd_set_bat(path, 2, sector)
    words = {"footer copy": "lies outside", "dynamic header": "overlaps the dynamic disk header",
             "bat": "overlaps the block allocation table", "past end": "lies outside", "each other": "overlap in the file"}[target]
    refused(path, words)


# -- VHDX metadata and headers ---------------------------------------------------------------------

@pytest.mark.parametrize("value,words", [(0, "invalid virtual disk size 0"), (SIZE + 1, "invalid virtual disk size"),
                                         (65 * 1024 ** 4, "at most 64 TiB")])
def test_vhdx_virtual_size(images, tmp_path, value, words):
    path = copy(images, "dynamic.vhdx", tmp_path / "d.vhdx")
    vhdx_patch_item(path, vhdx_mod.VIRTUAL_DISK_SIZE, struct.pack("<Q", value))
    refused(path, words)


@pytest.mark.parametrize("value", [0, 1000, 512 * 1024, 3 * MIB, 512 * MIB])
def test_vhdx_block_size(images, tmp_path, value):
    path = copy(images, "dynamic.vhdx", tmp_path / "d.vhdx")
    vhdx_patch_item(path, vhdx_mod.FILE_PARAMETERS, struct.pack("<I", value))
    refused(path, "invalid block size %d" % value)


@pytest.mark.parametrize("item,value", [("logical", 1024), ("logical", 0), ("physical", 520)])
def test_vhdx_sector_size(images, tmp_path, item, value):
    path = copy(images, "dynamic.vhdx", tmp_path / "d.vhdx")
    guid = vhdx_mod.LOGICAL_SECTOR_SIZE if item == "logical" else vhdx_mod.PHYSICAL_SECTOR_SIZE
    vhdx_patch_item(path, guid, struct.pack("<I", value))
    refused(path, "invalid %s sector size %d" % (item, value))


def test_vhdx_differencing(images, tmp_path):
    """The has-parent flag: a parent locator's disk is elsewhere; refused with how to merge."""
    path = copy(images, "dynamic.vhdx", tmp_path / "d.vhdx")
    vhdx_patch_item(path, vhdx_mod.FILE_PARAMETERS, struct.pack("<I", 2), at=4)  # flags: HasParent
    refused(path, "differencing VHDX", "merge the chain to a new base", "Merge-PvsDisk")


@pytest.mark.parametrize("which", [(64,), (128,), (64, 128)])
def test_vhdx_headers_damaged(images, tmp_path, which):
    path = copy(images, "dynamic.vhdx", tmp_path / "d.vhdx")
    for kib in which:
        write_at(path, kib * 1024 + 8, b"\xff" * 8)  # the sequence number: the CRC no longer matches
    if len(which) == 1:
        opened(path)  # one intact header is enough (as in Hyper-V)
        count_valid()
        return
    refused(path, "both VHDX headers are damaged", "CRC-32C")


@pytest.mark.parametrize("which", [(192,), (192, 256)])
def test_vhdx_region_tables_damaged(images, tmp_path, which):
    path = copy(images, "dynamic.vhdx", tmp_path / "d.vhdx")
    for kib in which:
        write_at(path, kib * 1024 + 20, b"\x01\x02\x03")
    if len(which) == 1:
        opened(path)
        count_valid()
        return
    refused(path, "both VHDX region tables are damaged")


@pytest.mark.parametrize("name,cut", [("dynamic.vhdx", 200 * 1024), ("dynamic.vhdx", 2 * MIB + 17), ("fixed.vhdx", 5 * MIB),
                                      ("dynamic.vhd", 511), ("dynamic.vhd", 4096), ("fixed.vhd", SIZE // 2), ("fixed.vhd", 0)])
def test_cut_short(images, tmp_path, name, cut):
    path = copy(images, name, tmp_path / name)
    os.truncate(path, cut)
    refused(path)


@pytest.mark.parametrize("name,words", [("qcow2", ("qcow2", "convert")), ("vmdk", ("VMDK", "convert")), ("vdi", ("VDI", "convert")),
                                        ("raw", ("not a VHD or VHDX", "check the path"))])
def test_other_formats_named(images, tmp_path, name, words):
    refused(images[name], *words)


# -- generated damage ------------------------------------------------------------------------------

def _check_opened(path, image, extents):
    """What an accepted image must satisfy: every extent inside the file's data and outside its structures."""
    size = file_size(path)
    reserved = []
    if image.format == "vhdx":
        reserved = [(0, MIB), (image.bat_offset, image.bat_offset + image.bat_length),
                    (image.metadata_offset, image.metadata_offset + image.metadata_length)]
    assert image.virtual_size > 0 and image.virtual_size % 512 == 0
    for e in extents:
        assert 0 <= e.virtual_offset and e.virtual_offset + e.length <= image.virtual_size
        assert 0 <= e.file_offset and e.file_offset + e.length <= size
        for low, high in reserved:
            assert not (e.file_offset < high and low < e.file_offset + e.length), "extent %r sends structure bytes" % (e,)


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], derandomize=True)


def _damage_and_open(images, tmp_path, name, offset, data):
    path = copy(images, name, tmp_path / ("h-" + name))
    write_at(path, offset, data)
    before = fingerprint(path)
    try:
        image, extents = opened(path)
    except DiskFormatError as err:
        count_error(err, str(path))
    else:
        _check_opened(path, image, extents)
        count_valid()
    assert fingerprint(path) == before


@SETTINGS
@given(region=st.sampled_from([(0, 8), (64 * 1024, 4096), (128 * 1024, 4096), (192 * 1024, 256), (256 * 1024, 256)]),
       at=st.integers(0, 4095), data=st.binary(min_size=1, max_size=16))
def test_generated_vhdx_header_damage(images, tmp_path, region, at, data):
    _damage_and_open(images, tmp_path, "dynamic.vhdx", region[0] + at % region[1], data)


@SETTINGS
@given(index=st.integers(0, 9), mib=st.integers(0, 40), state=st.integers(0, 7))
def test_generated_vhdx_bat(images, tmp_path, index, mib, state):
    path = copy(images, "dynamic.vhdx", tmp_path / "g.vhdx")
    vhdx_set_bat(path, index, mib, state)
    try:
        image, extents = opened(path)
    except DiskFormatError as err:
        count_error(err, str(path))
    else:
        _check_opened(path, image, extents)
        count_valid()


@SETTINGS
@given(item=st.sampled_from([vhdx_mod.FILE_PARAMETERS, vhdx_mod.VIRTUAL_DISK_SIZE, vhdx_mod.LOGICAL_SECTOR_SIZE,
                             vhdx_mod.PHYSICAL_SECTOR_SIZE]), data=st.binary(min_size=1, max_size=8), at=st.integers(0, 7))
def test_generated_vhdx_metadata(images, tmp_path, item, data, at):
    path = copy(images, "dynamic.vhdx", tmp_path / "m.vhdx")
    vhdx_patch_item(path, item, data, at=at % 4)
    try:
        image, extents = opened(path)
    except DiskFormatError as err:
        count_error(err, str(path))
    else:
        _check_opened(path, image, extents)
        count_valid()


@SETTINGS
@given(name=st.sampled_from(["fixed.vhd", "dynamic.vhd"]), size=st.one_of(st.integers(0, 2 ** 64 - 1), st.integers(SIZE - 4096, SIZE + 4096)))
def test_generated_vhd_sizes(images, tmp_path, name, size):
    path = copy(images, name, tmp_path / ("s-" + name))
    vhd_set_footer(path, name.startswith("dynamic"), current_size=size)
    try:
        image, extents = opened(path)
    except DiskFormatError as err:
        count_error(err, str(path))
    else:
        assert name == "dynamic.vhd" or size == SIZE, "a fixed VHD with a wrong size was accepted"
        _check_opened(path, image, extents)
        count_valid()


@SETTINGS
@given(block=st.integers(0, 3), sector=st.one_of(st.integers(0, 40000), st.just(0xFFFFFFFE)))
def test_generated_vhd_bat(images, tmp_path, block, sector):
    path = copy(images, "dynamic.vhd", tmp_path / "b.vhd")
    vhd_set_bat(path, block, sector)
    try:
        image, extents = opened(path)
    except DiskFormatError as err:
        count_error(err, str(path))
    else:
        dyn, table, entries = vhd_layout(path)
        for e in extents:
            assert e.file_offset >= 512 and e.file_offset + e.length <= file_size(path) - 512
            assert not (e.file_offset < table + 4 * entries and table < e.file_offset + e.length)
            assert not (e.file_offset < dyn + 1024 and dyn < e.file_offset + e.length)
        count_valid()

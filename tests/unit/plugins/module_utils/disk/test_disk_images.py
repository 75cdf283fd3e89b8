"""The readers against images qemu-img made: the bytes they map are exactly what qemu reads back."""

import random

import pytest

from ansible_collections.citrix_community.ips.plugins.module_utils._disk import Extent, VhdImage, VhdxImage, open_image
from ansible_collections.citrix_community.ips.plugins.module_utils._sources import LocalFileSource

from disk_helpers import MIB, VIRTUAL, qemu_map_data_bytes

ALL = ["dynamic.vhd", "fixed.vhd", "dynamic.vhdx", "fixed.vhdx", "fixed-allpresent.vhdx", "chs.vhd", "block1m.vhdx",
       "allocated.vhd", "allocated.vhdx", "4k.vhdx"]

EXPECTED = {
    # name: (class, format, subformat, logical sector, block size)
    "dynamic.vhd": (VhdImage, "vhd", "dynamic", 512, 2 * MIB),
    "fixed.vhd": (VhdImage, "vhd", "fixed", 512, None),
    "dynamic.vhdx": (VhdxImage, "vhdx", "dynamic", 512, 8 * MIB),
    "fixed.vhdx": (VhdxImage, "vhdx", "fixed", 512, 8 * MIB),
    "fixed-allpresent.vhdx": (VhdxImage, "vhdx", "fixed", 512, 8 * MIB),
    "chs.vhd": (VhdImage, "vhd", "dynamic", 512, 2 * MIB),
    "block1m.vhdx": (VhdxImage, "vhdx", "dynamic", 512, MIB),
    "allocated.vhd": (VhdImage, "vhd", "dynamic", 512, 2 * MIB),
    "allocated.vhdx": (VhdxImage, "vhdx", "dynamic", 512, 8 * MIB),
    "4k.vhdx": (VhdxImage, "vhdx", "dynamic", 4096, 8 * MIB),
}


def reconstruct(img):
    """The virtual disk built from extents() alone: zeros, then every extent's bytes at its virtual offset."""
    out = bytearray(img.virtual_size)
    for e in img.extents():
        out[e.virtual_offset:e.virtual_offset + e.length] = img.read_extent(e)
    return out


def read_all(path):
    with open(path, "rb") as f:
        return f.read()


@pytest.mark.parametrize("skip_holes", [True, False], ids=["skip-file-holes", "image-map-only"])
@pytest.mark.parametrize("name", ALL)
def test_extents_rebuild_what_qemu_reads(images, name, skip_holes):
    image = images[name]
    cls, fmt, sub, lss, block = EXPECTED[name]
    with LocalFileSource(str(image.path)) as src:
        img = open_image(src, skip_file_holes=skip_holes)
        assert isinstance(img, cls) and type(img).__name__ == cls.__name__
        assert (img.format, img.subformat, img.logical_sector_size, img.block_size) == (fmt, sub, lss, block)
        reference = read_all(image.reference)
        assert img.virtual_size == len(reference)
        extents = list(img.extents())
        # file order, no overlap, merged, inside the file and the virtual disk
        for a, b in zip(extents, extents[1:]):
            assert a.file_offset + a.length <= b.file_offset
            assert not (a.file_offset + a.length == b.file_offset and a.virtual_offset + a.length == b.virtual_offset)
        for e in extents:
            assert isinstance(e, Extent) and e.length > 0
            assert e.file_offset + e.length <= src.size and e.virtual_offset + e.length <= img.virtual_size
        assert img.allocated_bytes == sum(e.length for e in extents)
        assert reconstruct(img) == reference


@pytest.mark.parametrize("name", ALL)
def test_allocated_bytes_against_qemu_map(images, name):
    image = images[name]
    qemu_format = image.qemu_format if name != "4k.vhdx" else None  # qemu 7.2 cannot read 4K-sector VHDX
    reference = read_all(image.reference)
    with LocalFileSource(str(image.path)) as src:
        img = open_image(src, skip_file_holes=False)
        sparse = open_image(src)
        if qemu_format:
            assert img.allocated_bytes <= 1.02 * qemu_map_data_bytes(image.path, qemu_format)
        assert sparse.allocated_bytes <= img.allocated_bytes
        if img.block_size and name != "fixed-allpresent.vhdx":
            # block granular check: a dynamic image stores exactly the blocks holding data (-S 0: every block)
            bs = img.block_size
            blocks = [i for i in range(0, img.virtual_size, bs) if reference[i:i + bs].count(0) != min(bs, img.virtual_size - i)]
            if name.startswith("allocated"):
                blocks = list(range(0, img.virtual_size, bs))
            assert img.allocated_bytes == sum(min(bs, img.virtual_size - i) for i in blocks)
        else:
            assert img.allocated_bytes == img.virtual_size  # nothing to skip without a map or file holes


def test_dynamic_vhd_matches_qemu_map_exactly(images):
    image = images["dynamic.vhd"]
    with LocalFileSource(str(image.path)) as src:
        assert open_image(src, skip_file_holes=False).allocated_bytes == qemu_map_data_bytes(image.path, "vpc")


def test_sparse_files_are_not_read_in_full(images):
    """A fixed image on a sparse file: the extents follow the file's data, not its whole length."""
    for name in ("fixed.vhd", "fixed-allpresent.vhdx"):
        with LocalFileSource(str(images[name].path)) as src:
            assert open_image(src).allocated_bytes < VIRTUAL // 4


def test_allocated_zeros_stay_in_the_map(images):
    """Blocks qemu allocated and filled with zeros are data of the image: they are mapped (the engine skips zeros)."""
    for name in ("allocated.vhd", "allocated.vhdx"):
        with LocalFileSource(str(images[name].path)) as src:
            img = open_image(src)
            covered = [e for e in img.extents() if e.virtual_offset <= 40 * MIB and 41 * MIB <= e.virtual_offset + e.length]
            assert covered, name
            assert img.read_virtual(40 * MIB, MIB) == bytes(MIB)
            assert img.allocated_bytes == VIRTUAL


def test_chs_rounded_size(images, qemu):
    import json
    info = json.loads(qemu("info", "-f", "vpc", "--output=json", images["chs.vhd"].path))
    with LocalFileSource(str(images["chs.vhd"].path)) as src:
        img = open_image(src)
        assert img.virtual_size == info["virtual-size"] != VIRTUAL
        assert img.virtual_size % 512 == 0


def test_read_virtual_random_ranges(images):
    rnd = random.Random(5)
    for name in ("dynamic.vhd", "dynamic.vhdx", "block1m.vhdx", "fixed.vhd"):
        reference = read_all(images[name].reference)
        with LocalFileSource(str(images[name].path)) as src:
            img = open_image(src)
            for _round in range(40):
                off = rnd.randrange(0, img.virtual_size)
                length = rnd.randrange(0, min(5 * MIB, img.virtual_size - off) + 1)
                assert img.read_virtual(off, length) == reference[off:off + length], (name, off, length)
            assert img.read_virtual(img.virtual_size - 1, 1) == reference[-1:]
            with pytest.raises(ValueError):
                img.read_virtual(img.virtual_size - 1, 2)


def test_identity_stable_and_distinct(images):
    identities = {}
    for name in ALL:
        with LocalFileSource(str(images[name].path)) as src:
            first = open_image(src).identity
        with LocalFileSource(str(images[name].path)) as src:
            assert open_image(src).identity == first
        identities[name] = first
        assert first.startswith(EXPECTED[name][1] + ":")
    assert len(set(identities.values())) == len(identities)


def test_vhdx_metadata_fields(images):
    with LocalFileSource(str(images["dynamic.vhdx"].path)) as src:
        img = open_image(src)
        assert img.physical_sector_size in (512, 4096)
        assert img.chunk_ratio == (1 << 23) * 512 // img.block_size
        assert len(img.unique_id) == 36 and img.unique_id in img.identity
        assert img.data_write_guid in img.identity

"""A 40 GiB sparse disk: BATs with interleaved sector-bitmap entries, for 512-byte and 4 KiB sectors.

With 1 MiB blocks one chunk is 4096 blocks (512-byte sectors) or 32768 blocks (4 KiB sectors), so
data past 4 GiB and past 32 GiB sits behind sector-bitmap entries in the BAT. The images are tiny
files (only a few MiB are allocated), and the comparison reads only the data ranges of the sparse
raw source, so the test stays fast.
"""

import os
import random
import shutil
import struct
import time

import pytest

from ansible_collections.citrix_community.ips.plugins.module_utils._disk import open_image
from ansible_collections.citrix_community.ips.plugins.module_utils._sources import LocalFileSource

from disk_helpers import MIB, patch_logical_sector_size, qemu_map_data_bytes, write_raw

GIB = 1024 * MIB
BIG = 40 * GIB + MIB
PIECES = [0, 4 * GIB + MIB + 77, 9 * GIB - 3000, 33 * GIB + 5 * MIB, BIG - 4096]


@pytest.fixture(scope="module")
def big(qemu, tmp_path_factory):
    d = tmp_path_factory.mktemp("big")
    rnd = random.Random(40)
    raw = d / "big.raw"
    write_raw(raw, BIG, [(off, rnd.randbytes(min(65536, BIG - off))) for off in PIECES])
    qemu("convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic,block_size=1M", raw, d / "big.vhdx")
    qemu("convert", "-f", "raw", "-O", "vpc", "-o", "subformat=dynamic,force_size=on", raw, d / "big.vhd")
    relayout_for_4k(d / "big.vhdx", d / "big4k.vhdx")
    return d


def relayout_for_4k(src_path, dst_path):
    """A copy of a 512-byte-sector, 1 MiB-block VHDX turned into a 4 KiB-sector one: new chunk ratio, BAT rewritten."""
    shutil.copyfile(src_path, dst_path)
    with LocalFileSource(str(src_path)) as src:
        img = open_image(src)
        old_cr, blocks = img.chunk_ratio, img.blocks
        raw = src.read_at(img.bat_offset, img.bat_length)
        bat_offset, bat_length = img.bat_offset, img.bat_length
    old = struct.unpack("<%dQ" % (len(raw) // 8), raw)
    new_cr = (1 << 23) * 4096 // MIB
    new = [0] * (bat_length // 8)
    for b in range(blocks):
        new[b + b // new_cr] = old[b + b // old_cr]
    with open(dst_path, "r+b") as f:
        f.seek(bat_offset)
        f.write(struct.pack("<%dQ" % len(new), *new))
    patch_logical_sector_size(dst_path, 4096)


def check_against_raw(img, raw_path):
    with LocalFileSource(str(raw_path)) as raw:
        assert img.virtual_size == raw.size
        for e in img.extents():
            assert img.read_extent(e) == raw.read_at(e.virtual_offset, e.length)
        for off, length in raw.data_ranges(0, raw.size):
            assert img.read_virtual(off, length) == raw.read_at(off, length)


@pytest.mark.parametrize("name,sector,ratio", [("big.vhdx", 512, 4096), ("big4k.vhdx", 4096, 32768), ("big.vhd", 512, None)])
def test_large_sparse_disk(big, name, sector, ratio):
    with LocalFileSource(str(big / name)) as src:
        started = time.monotonic()
        img = open_image(src, skip_file_holes=False)
        extents = list(img.extents())
        elapsed = time.monotonic() - started
        assert img.logical_sector_size == sector and getattr(img, "chunk_ratio", None) == ratio
        assert elapsed < 2.0, elapsed
        # every piece lives in a mapped block, and only those blocks are mapped
        bs = img.block_size
        touched = set()
        for off in PIECES:
            touched.update(range(off // bs, (min(off + 65536, BIG) - 1) // bs + 1))
        mapped = set()
        for e in extents:
            assert e.virtual_offset % bs == 0
            mapped.update(range(e.virtual_offset // bs, (e.virtual_offset + e.length - 1) // bs + 1))
        assert mapped == touched
        assert img.allocated_bytes == sum(min(bs, BIG - b * bs) for b in touched)
        check_against_raw(img, big / "big.raw")


def test_large_vhd_matches_qemu_map(big):
    with LocalFileSource(str(big / "big.vhd")) as src:
        assert open_image(src, skip_file_holes=False).allocated_bytes == qemu_map_data_bytes(big / "big.vhd", "vpc")


def test_big_files_are_small(big):
    assert os.path.getsize(big / "big.vhdx") < 64 * MIB

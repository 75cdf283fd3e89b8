"""Helpers of the disk-image tests: qemu-img, raw disks, fingerprints and in-place patches of VHDX metadata."""

import hashlib
import random
import json
import os
import subprocess

MIB = 1024 * 1024
VIRTUAL = 64 * MIB
SMALL = 8 * MIB


def qemu_img(*args):
    return subprocess.run(["qemu-img"] + [str(a) for a in args], check=True, capture_output=True, text=True).stdout


def write_raw(path, size, pieces):
    """A sparse raw disk of `size` bytes with `pieces` = [(offset, bytes)] written into it."""
    with open(path, "wb") as f:
        f.truncate(size)
        for offset, data in pieces:
            f.seek(offset)
            f.write(data)


def to_reference(image_path, qemu_format, out_path):
    qemu_img("convert", "-f", qemu_format, "-O", "raw", image_path, out_path)
    return out_path


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(4 * MIB), b""):
            h.update(chunk)
    return h.hexdigest()


def fingerprint(path):
    st = os.stat(path)
    return (st.st_mtime_ns, st.st_size, sha256(path))


def qemu_map_data_bytes(path, qemu_format):
    entries = json.loads(qemu_img("map", "-f", qemu_format, "--output=json", path))
    return sum(e["length"] for e in entries if e.get("data"))


def raw_pieces(size, seed):
    """Deterministic random data at the start, at an offset aligned to no block, near the middle and at the very end,
    plus 1 MiB of explicit zeros in a block that also holds data."""
    rnd = random.Random(seed)
    return [
        (0, rnd.randbytes(MIB)),
        (17 * MIB + 5 * 512 + 77, rnd.randbytes(3 * MIB + 123)),  # unaligned to anything
        (40 * MIB, b"\0" * MIB),                                   # explicit zeros ...
        (41 * MIB + 4096, rnd.randbytes(8192)),                    # ... in a block that holds data too
        (size // 2 + 3 * 512, rnd.randbytes(64 * 1024)),
        (size - 4096, rnd.randbytes(4096)),                        # the very last sector(s)
    ]


def patch_metadata_item(path, item, data, at=0):
    """Overwrite bytes of a VHDX metadata item in place (the metadata region has no checksum)."""
    import struct
    import uuid
    from ansible_collections.citrix_community.ips.plugins.module_utils._disk import open_image
    from ansible_collections.citrix_community.ips.plugins.module_utils._disk.vhdx import METADATA_ENTRY
    from ansible_collections.citrix_community.ips.plugins.module_utils._sources import LocalFileSource
    with LocalFileSource(str(path)) as src:
        base = open_image(src).metadata_offset
        table = src.read_at(base, 64 * 1024)
    for i in range(struct.unpack_from("<H", table, 10)[0]):
        guid, offset, _length, _flags = METADATA_ENTRY.unpack_from(table, 32 + 32 * i)
        if uuid.UUID(bytes_le=guid) == item:
            with open(path, "r+b") as f:
                f.seek(base + offset + at)
                f.write(data)
            return
    raise AssertionError("no metadata item %s" % item)


def patch_logical_sector_size(path, value):
    import struct
    from ansible_collections.citrix_community.ips.plugins.module_utils._disk.vhdx import LOGICAL_SECTOR_SIZE
    patch_metadata_item(path, LOGICAL_SECTOR_SIZE, struct.pack("<I", value))


def open_all(path, **kwargs):
    """Open the image and walk its whole allocation map (so lazily read parts are checked too)."""
    from ansible_collections.citrix_community.ips.plugins.module_utils._disk import open_image
    from ansible_collections.citrix_community.ips.plugins.module_utils._sources import LocalFileSource
    with LocalFileSource(str(path)) as src:
        img = open_image(src, **kwargs)
        extents = list(img.extents())
        return img, extents

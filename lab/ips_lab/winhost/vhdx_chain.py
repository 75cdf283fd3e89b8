"""The lab's PVS version chains: seeded from known raw data with qemu-img, and merged to a new base for real.

A real PVS version (`name.N.avhdx`) is a differencing VHDX: the blocks its BAT marks present are the
version's changes, every other block is read from the parent. qemu-img cannot write the parent locator of
a differencing VHDX, so the lab's `.avhdx` files are dynamic VHDX files made by qemu-img whose present
blocks are the version's changes, and the lab reads the chain by the same rule (the BAT), parent by name
(`name.vhdx` <- `name.1.avhdx` <- `name.2.avhdx`, PVS's naming). The merged content of the seeded chain is
known in advance (expected_merged()), so a test checks the new base byte for byte.
"""

import hashlib
import json
import os
import struct
import subprocess
import uuid

MIB = 1024 * 1024
BLOCK = MIB  # the seeded files' VHDX block size
SEED_BLOCKS = 4
BAT_GUID = uuid.UUID("2DC27766-F623-4200-9D64-115E9BFD4A08")
REGION_TABLE_OFFSET = 192 * 1024
PRESENT_STATES = (6, 7)  # PAYLOAD_BLOCK_FULLY_PRESENT, PAYLOAD_BLOCK_PARTIALLY_PRESENT


def _qemu_img(*args):
    run = subprocess.run(("qemu-img",) + args, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise OSError("qemu-img %s failed: %s" % (args[0], (run.stderr or run.stdout).strip()))


def make_vhdx(raw_path, out_path):
    """A dynamic VHDX of a raw file; all-zero blocks stay not present (qemu-img writes sparse)."""
    _qemu_img("convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic,block_size=%d" % BLOCK, raw_path, out_path)


def to_raw(vhdx_path, raw_path):
    _qemu_img("convert", "-f", "vhdx", "-O", "raw", vhdx_path, raw_path)


def present_blocks(path):
    """Indexes of the payload blocks the VHDX's BAT marks present (the changes of a version)."""
    with open(path, "rb") as src:
        src.seek(REGION_TABLE_OFFSET)
        header = src.read(16)
        if header[:4] != b"regi":
            raise ValueError("%s is not a VHDX file (no region table)" % os.path.basename(path))
        count = struct.unpack("<I", header[8:12])[0]
        bat = None
        for _index in range(count):
            entry = src.read(32)
            if uuid.UUID(bytes_le=entry[:16]) == BAT_GUID:
                bat = struct.unpack("<QI", entry[16:28])
        if bat is None:
            raise ValueError("%s has no block allocation table" % os.path.basename(path))
        src.seek(bat[0])
        table = src.read(bat[1])
    # the disks here are small: the payload entries come before the first sector-bitmap entry
    size = virtual_size(path)
    blocks = (size + BLOCK - 1) // BLOCK
    return [i for i in range(blocks) if struct.unpack("<Q", table[i * 8:i * 8 + 8])[0] & 7 in PRESENT_STATES]


def virtual_size(path):
    run = subprocess.run(["qemu-img", "info", "--output=json", "-f", "vhdx", path], capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise OSError("qemu-img info failed: %s" % run.stderr.strip())
    return int(json.loads(run.stdout)["virtual-size"])


def merge(base_vhdx, versions, out_vhdx, scratch):
    """Base plus every version's present blocks, in order, written as a new base VHDX (Merge-PvsDisk -NewBase)."""
    merged = os.path.join(scratch, "merged.raw")
    to_raw(base_vhdx, merged)
    for version in versions:
        changed = present_blocks(version)
        raw = os.path.join(scratch, "version.raw")
        to_raw(version, raw)
        with open(raw, "rb") as src, open(merged, "r+b") as dst:
            for block in changed:
                src.seek(block * BLOCK)
                dst.seek(block * BLOCK)
                dst.write(src.read(BLOCK))
        os.remove(raw)
    make_vhdx(merged, out_vhdx)
    os.remove(merged)


# --- the seeded chain: known raw data ------------------------------------------------------------

def _pattern(seed, length):
    return bytes((seed + i * 7) % 251 for i in range(256)) * (length // 256)


def seed_raws():
    """[(file suffix, raw bytes)]: the base and two versions; a version's zero blocks are 'unchanged'."""
    base = _pattern(3, SEED_BLOCKS * BLOCK)
    v1 = bytearray(SEED_BLOCKS * BLOCK)
    v1[1 * BLOCK:2 * BLOCK] = _pattern(101, BLOCK)
    v2 = bytearray(SEED_BLOCKS * BLOCK)
    v2[3 * BLOCK:4 * BLOCK] = _pattern(199, BLOCK)
    # a later version changes part of an earlier change: the whole block is written again, as a VHDX does
    v2[1 * BLOCK:2 * BLOCK] = _pattern(57, 4096) + v1[1 * BLOCK + 4096:2 * BLOCK]
    return [("vhdx", base), ("1.avhdx", bytes(v1)), ("2.avhdx", bytes(v2))]


def expected_merged():
    """The raw bytes the seeded chain merges to: later versions win block by block."""
    out = bytearray(SEED_BLOCKS * BLOCK)
    for _suffix, raw in seed_raws():
        for block in range(SEED_BLOCKS):
            chunk = raw[block * BLOCK:(block + 1) * BLOCK]
            if chunk.count(0) != len(chunk) or _suffix == "vhdx":
                out[block * BLOCK:(block + 1) * BLOCK] = chunk
    return bytes(out)


def expected_sha256():
    return hashlib.sha256(expected_merged()).hexdigest()

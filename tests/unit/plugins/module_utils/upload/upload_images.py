"""Test images for the upload tests: a deterministic raw disk (data, explicit zeros inside
allocated blocks, an unaligned run, the last sector), converted by qemu-img to the four formats.
The reference is `qemu-img convert -O raw` of each image: what a target must hold afterwards."""

import hashlib
import random
import subprocess
from pathlib import Path

MIB = 1024 * 1024

FORMATS = {
    "fixed.vhd": ("vpc", "subformat=fixed,force_size=on"),
    "dynamic.vhd": ("vpc", "subformat=dynamic,force_size=on"),
    "fixed.vhdx": ("vhdx", "subformat=fixed"),
    "dynamic.vhdx": ("vhdx", "subformat=dynamic,block_size=8M"),
}


def qemu_img(*args):
    return subprocess.run(["qemu-img"] + [str(a) for a in args], check=True, capture_output=True, text=True).stdout


def write_raw(path, size, seed=7):
    rnd = random.Random(seed)
    pieces = [
        (0, rnd.randbytes(MIB)),
        (3 * MIB + 512 * 5, rnd.randbytes(2 * MIB + 1000)),   # unaligned start and end
        (9 * MIB, bytes(MIB)),                                # explicit zeros in an allocated block
        (9 * MIB + MIB + 4096, rnd.randbytes(4096)),          # a lone page
        (20 * MIB, (b"compressible text " * 60000)[:MIB]),
        (size - 4096, rnd.randbytes(4096)),                   # the last sectors
    ]
    with open(path, "wb") as f:
        f.truncate(size)
        for offset, data in pieces:
            f.seek(offset)
            f.write(data)
    return path


def make_image(folder, name, size=48 * MIB + 3 * 512 * 0, seed=7):
    """(image path, reference raw path) for FORMATS[name] in `folder`."""
    folder = Path(folder)
    raw = folder / ("src-%d-%d.raw" % (size, seed))
    if not raw.exists():
        write_raw(raw, size, seed)
    fmt, opts = FORMATS[name]
    out = folder / name
    qemu_img("convert", "-f", "raw", "-O", fmt, "-o", opts, raw, out)
    ref = folder / (name + ".ref.raw")
    qemu_img("convert", "-f", fmt, "-O", "raw", out, ref)
    return out, ref


def sha256_file(path, length=None):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        left = length
        while True:
            want = 4 * MIB if left is None else min(4 * MIB, left)
            if want == 0:
                break
            chunk = f.read(want)
            if not chunk:
                break
            h.update(chunk)
            if left is not None:
                left -= len(chunk)
    return h.hexdigest()


def padded_sha256(path, total):
    """SHA-256 of the file's bytes zero-padded to `total` bytes."""
    h = hashlib.sha256()
    n = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(4 * MIB), b""):
            h.update(chunk)
            n += len(chunk)
    zero = bytes(4 * MIB)
    while n < total:
        step = min(len(zero), total - n)
        h.update(zero[:step])
        n += step
    return h.hexdigest()

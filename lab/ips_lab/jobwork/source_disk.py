"""The seeded source disk an export reads: a sparse raw image whose bytes depend only on its name.

A few pseudo-random data blocks at fixed places, holes elsewhere, so images are small on disk
yet the allocation map matters. The same source name always gives the same bytes, so tests can
rebuild the source and compare it with what the export wrote.
"""

import hashlib
import random

MiB = 1024 * 1024
SOURCE_DISK_BYTES = 256 * MiB
# (offset, length): data at the start, across a 16 MiB VHDX block edge, in the middle and at the end;
# most of the 16 MiB blocks stay holes, so a dynamic image is much smaller than the disk.
DATA_BLOCKS = ((0, MiB), (15 * MiB + 512 * 1024, MiB), (100 * MiB, 2 * MiB), (SOURCE_DISK_BYTES - 64 * 1024, 64 * 1024))


def build_source_disk(path, name, size=SOURCE_DISK_BYTES):
    """Write the raw sparse disk for source `name` at `path`; returns its size."""
    seed = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")
    rng = random.Random(seed)
    with open(path, "wb") as out:
        out.truncate(size)
        for offset, length in DATA_BLOCKS:
            if offset + length <= size:
                out.seek(offset)
                out.write(rng.randbytes(length))
    return size


def sha256_of_file(path, chunk=4 * MiB):
    digest = hashlib.sha256()
    with open(path, "rb") as src:
        for block in iter(lambda: src.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()

"""Real VHD/VHDX images, made with qemu-img at test time from a deterministic raw disk.

Nothing here is committed as an image: the session fixture builds every image into a temporary
directory, and each one comes with the raw disk qemu-img itself reads back from it
(`qemu-img convert -O raw`), the reference the readers are compared with.
"""

import os
import random
import shutil
from collections import namedtuple

import pytest

from disk_helpers import MIB, SMALL, VIRTUAL, fingerprint, open_all, patch_logical_sector_size, qemu_img, raw_pieces, to_reference, write_raw


Image = namedtuple("Image", ["path", "qemu_format", "reference"])


@pytest.fixture(scope="session")
def qemu():
    if not shutil.which("qemu-img"):
        pytest.skip("qemu-img is not installed (apt-get install qemu-utils)")
    return qemu_img


# name -> (qemu output format, -o options, extra convert args)
VARIANTS = {
    "dynamic.vhd": ("vpc", "subformat=dynamic,force_size=on", ()),
    "fixed.vhd": ("vpc", "subformat=fixed,force_size=on", ()),
    "dynamic.vhdx": ("vhdx", "subformat=dynamic", ()),
    "fixed.vhdx": ("vhdx", "subformat=fixed", ()),
    "fixed-allpresent.vhdx": ("vhdx", "subformat=fixed,block_state_zero=off", ()),
    "chs.vhd": ("vpc", "subformat=dynamic", ()),                 # no force_size: CHS-rounded virtual size
    "block1m.vhdx": ("vhdx", "subformat=dynamic,block_size=1M", ()),
    "allocated.vhd": ("vpc", "subformat=dynamic,force_size=on", ("-S", "0")),  # zeros written out: every block allocated
    "allocated.vhdx": ("vhdx", "subformat=dynamic", ("-S", "0")),
}


@pytest.fixture(scope="session")
def images(qemu, tmp_path_factory):
    """name -> Image for every variant of one 64 MiB raw disk (plus 'raw', the source itself)."""
    d = tmp_path_factory.mktemp("images")
    raw = d / "source.raw"
    write_raw(raw, VIRTUAL, raw_pieces(VIRTUAL, seed=20261121))
    out = {"raw": Image(raw, "raw", raw)}
    for name, (fmt, options, extra) in VARIANTS.items():
        path = d / name
        qemu("convert", "-f", "raw", "-O", fmt, "-o", options, *(list(extra) + [raw, path]))
        out[name] = Image(path, fmt, to_reference(path, fmt, d / (name + ".ref.raw")))
    # 4 KiB logical sectors: qemu-img 7.2 can neither create nor read them, so patch the metadata of a copy;
    # its content is the dynamic VHDX's. With 8 MiB blocks the chunk ratio goes from 512 to 4096 and no
    # sector-bitmap entry falls inside 64 MiB either way (test_disk_large moves BAT entries for that).
    path = d / "4k.vhdx"
    shutil.copyfile(out["dynamic.vhdx"].path, path)
    patch_logical_sector_size(path, 4096)
    out["4k.vhdx"] = Image(path, "vhdx", out["dynamic.vhdx"].reference)
    prints = dict((name, fingerprint(img.path)) for name, img in out.items())
    yield out
    for name, img in out.items():
        assert fingerprint(img.path) == prints[name], "%s was modified by the readers" % name


@pytest.fixture(autouse=True)
def _images_untouched(request):
    """After every test that used the shared images: their mtime and size did not move (sha256 at session end)."""
    if "images" not in request.fixturenames:
        yield
        return
    imgs = request.getfixturevalue("images")
    before = dict((n, os.stat(i.path)) for n, i in imgs.items())
    yield
    for name, img in imgs.items():
        st = os.stat(img.path)
        assert (st.st_mtime_ns, st.st_size) == (before[name].st_mtime_ns, before[name].st_size), name


@pytest.fixture(scope="session")
def small(qemu, tmp_path_factory):
    """8 MiB images to damage (copies are cheap): name -> Image."""
    d = tmp_path_factory.mktemp("small")
    raw = d / "small.raw"
    rnd = random.Random(7)
    write_raw(raw, SMALL, [(0, rnd.randbytes(3 * MIB + 512)), (5 * MIB + 1024, rnd.randbytes(4096)), (SMALL - 512, rnd.randbytes(512))])
    out = {"raw": Image(raw, "raw", raw)}
    for name, fmt, options in (("dynamic.vhd", "vpc", "subformat=dynamic,force_size=on"), ("fixed.vhd", "vpc", "subformat=fixed,force_size=on"),
                               ("dynamic.vhdx", "vhdx", "subformat=dynamic,block_size=1M"),
                               ("fixed.vhdx", "vhdx", "subformat=fixed,block_size=1M,block_state_zero=off")):
        path = d / name
        qemu("convert", "-f", "raw", "-O", fmt, "-o", options, raw, path)
        out[name] = Image(path, fmt, raw)
    return out


@pytest.fixture()
def damaged(small, tmp_path):
    """copy(name) -> path of a private copy of a small image, to patch."""
    count = [0]

    def copy(name):
        count[0] += 1
        path = tmp_path / ("%d-%s" % (count[0], name))
        shutil.copyfile(small[name].path, path)
        return path

    return copy


@pytest.fixture()
def fails():
    """fails(path, *words) -> the DiskFormatError message of opening `path`; checks it is one line, names the file and
    holds every word (case-insensitive), and that the file's mtime and sha256 did not change."""
    from ansible_collections.citrix_community.ips.plugins.module_utils._disk import DiskFormatError

    def check(path, *words):
        before = fingerprint(path)
        with pytest.raises(DiskFormatError) as info:
            open_all(path)
        assert fingerprint(path) == before
        message = str(info.value)
        assert "\n" not in message
        assert message.startswith(str(path) + ": ")
        for word in words:
            assert word.lower() in message.lower(), (word, message)
        return message

    return check

"""Byte sources: a local file and a file on a real (local, private) Samba share through smbprotocol."""

import hashlib
import os
import random
import shutil
import subprocess
import sys
import threading

import pytest

from ansible_collections.citrix_community.ips.plugins.module_utils._disk import open_image

from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError
from ansible_collections.citrix_community.ips.plugins.module_utils._sources import (
    LocalFileSource, SmbFileSource, SourceError, open_source, parse_smb_location)

from smb_helpers import free_port

MIB = 1024 * 1024


def digest(path):
    with open(path, "rb") as f:
        return os.stat(path).st_mtime_ns, hashlib.sha256(f.read()).hexdigest()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A 24 MiB file of random data with a hole, and a dynamic VHD / VHDX made from it by qemu-img."""
    d = tmp_path_factory.mktemp("files")
    rnd = random.Random(11)
    data = bytearray(rnd.randbytes(24 * MIB))
    data[8 * MIB:12 * MIB] = bytes(4 * MIB)
    raw = d / "data.raw"
    with open(raw, "wb") as f:
        f.write(data[:8 * MIB])
        f.seek(12 * MIB)
        f.write(data[12 * MIB:])
    out = {"raw": raw, "data": bytes(data)}
    if shutil.which("qemu-img"):
        for name, fmt, opts in (("d.vhd", "vpc", "subformat=dynamic,force_size=on"), ("d.vhdx", "vhdx", "subformat=dynamic")):
            subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", fmt, "-o", opts, str(raw), str(d / name)], check=True)
            out[name] = d / name
    return out


def read_in_threads(source, size, threads=4, chunk=MIB + 4096):
    """Read [0, size) with `threads` threads at once, interleaved chunks; the reassembled bytes."""
    out = bytearray(size)
    errors = []
    offsets = list(range(0, size, chunk))
    start = threading.Barrier(threads)

    def work(k):
        try:
            start.wait()
            for off in offsets[k::threads]:
                out[off:off + chunk] = source.read_at(off, min(chunk, size - off))
        except Exception as e:  # pylint: disable=broad-except
            errors.append(e)

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors
    return bytes(out)


# -- local --------------------------------------------------------------------------------------


def test_local_reads(files):
    before = digest(files["raw"])
    with open_source(str(files["raw"])) as src:
        assert isinstance(src, LocalFileSource) and src.name == str(files["raw"]) and src.size == 24 * MIB
        assert src.read_at(0, 10) == files["data"][:10]
        assert src.read_at(24 * MIB - 5, 100) == files["data"][-5:]  # short only at EOF
        assert src.read_at(24 * MIB + 10, 10) == b""
        buf = bytearray(4096)
        assert src.readinto_at(5 * MIB + 3, buf) == 4096 and bytes(buf) == files["data"][5 * MIB + 3:5 * MIB + 3 + 4096]
        assert read_in_threads(src, src.size) == files["data"]
        with pytest.raises(OSError):
            os.write(src._fd, b"x")  # opened read-only
    assert digest(files["raw"]) == before


def test_local_data_ranges(files):
    with LocalFileSource(str(files["raw"])) as src:
        ranges = src.data_ranges(0, src.size)
        assert ranges[0][0] == 0 and sum(length for _o, length in ranges) <= 20 * MIB + 2 * 4096
        covered = bytearray(src.size)
        for off, length in ranges:
            covered[off:off + length] = b"\1" * length
        # every non-zero byte is inside a data range
        data = files["data"]
        assert all(covered[i] for i in range(0, src.size, 4096) if data[i:i + 4096].count(0) != 4096)
        assert src.data_ranges(9 * MIB, MIB) == []
        assert src.data_ranges(7 * MIB, 2 * MIB) == [(7 * MIB, MIB)]


def test_local_errors(tmp_path):
    with pytest.raises(SourceError) as e:
        open_source(str(tmp_path / "nope.vhdx"))
    assert "does not exist" in str(e.value) and "check the path" in str(e.value)
    with pytest.raises(SourceError) as e:
        open_source(str(tmp_path))
    assert "directory" in str(e.value)
    with pytest.raises(SourceError):
        open_source("")
    assert issubclass(SourceError, IPSError)


def test_local_read_that_blocks_fails_at_its_deadline(tmp_path, monkeypatch):
    """A read of a regular file or block device blocks only on a hung network mount or a failing device; no stand-in here
    can make one (FUSE cannot be mounted in the test container), so os.preadv is patched to block in this test only.
    Before the deadline was shared with the SMB source, this read waited forever."""
    import time
    path = tmp_path / "disk.vhd"
    path.write_bytes(b"x" * 4096)
    src = LocalFileSource(str(path), read_timeout=1)
    release = threading.Event()
    real = os.preadv

    def hung(fd, buffers, offset):
        if fd == src._fd:  # pylint: disable=protected-access
            release.wait(30)
        return real(fd, buffers, offset)

    monkeypatch.setattr(os, "preadv", hung)
    started = time.monotonic()
    try:
        with pytest.raises(SourceError) as e:
            src.read_at(512, 1024)
        assert time.monotonic() - started < 5
        msg = str(e.value)
        assert str(path) in msg and "more than 1 seconds" in msg and "offset 512" in msg and "run the task again" in msg
    finally:
        release.set()
    time.sleep(0.1)  # the abandoned read finishes; the source still reads normally afterwards
    assert src.read_at(0, 4) == b"xxxx"
    src.close()


def test_file_url(files):
    with open_source("file://" + str(files["raw"])) as src:
        assert src.size == 24 * MIB


@pytest.mark.parametrize("location,expected", [
    ("smb://fs01/images/base.vhdx", ("fs01", 445, "images", "base.vhdx")),
    ("smb://fs01:4455/images/dir/sub/base.vhdx", ("fs01", 4455, "images", "dir\\sub\\base.vhdx")),
    ("SMB://10.0.0.5/img%20s/my%20disk.vhd", ("10.0.0.5", 445, "img s", "my disk.vhd")),
    ("\\\\fs01\\images\\dir\\base.vhdx", ("fs01", 445, "images", "dir\\base.vhdx")),
])
def test_parse_smb_location(location, expected):
    assert parse_smb_location(location) == expected


@pytest.mark.parametrize("location", ["smb://fs01/images", "smb://fs01/", "smb://user:pw@fs01/s/f.vhd", "http://fs01/s/f", "smb://fs01:99999/s/f"])
def test_parse_smb_location_rejects(location):
    with pytest.raises(SourceError) as e:
        parse_smb_location(location)
    assert "pw" not in str(e.value).replace("path", "")


def test_missing_smbprotocol(monkeypatch):
    monkeypatch.setitem(sys.modules, "smbclient", None)  # import smbclient -> ImportError
    with pytest.raises(SourceError) as e:
        open_source("smb://127.0.0.1/images/x.vhdx", smb_user="u", smb_password="SecretPw1")
    assert "smbprotocol" in str(e.value) and "SecretPw1" not in str(e.value)


# -- SMB ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared(smb, files):
    for name in ("raw", "d.vhd", "d.vhdx"):
        if name in files:
            shutil.copyfile(files[name], smb.share_dir / files[name].name)
    return smb


def location(smb, name, share=None):
    return "smb://%s:%d/%s/%s" % (smb.host, smb.port, share or smb.share, name)


def test_smb_concurrent_reads(shared, files):
    path = shared.share_dir / "data.raw"
    before = digest(path)
    with open_source(location(shared, "data.raw"), smb_user=shared.user, smb_password=shared.password) as src:
        assert isinstance(src, SmbFileSource) and src.size == 24 * MIB
        assert shared.password not in src.name and src.name.endswith("/images/data.raw")
        assert read_in_threads(src, src.size, threads=4) == files["data"]
        assert src.read_at(24 * MIB - 3, 10) == files["data"][-3:]
        assert src.read_at(3, 9 * MIB) == files["data"][3:3 + 9 * MIB]  # more than one SMB read
    assert digest(path) == before


def test_smb_more_threads_than_connections(shared, files):
    with SmbFileSource(location(shared, "data.raw"), smb_user=shared.user, smb_password=shared.password, max_connections=2) as src:
        assert src.parallel_reads == 2
        assert read_in_threads(src, src.size, threads=8, chunk=MIB // 2 + 512) == files["data"]
        assert len(src._lanes) <= 2
    with pytest.raises(SourceError):
        src.read_at(0, 1)  # closed


def test_smb_port_argument_and_domain(shared, files):
    loc = "smb://%s/%s/data.raw" % (shared.host, shared.share)
    with open_source(loc, smb_user=shared.user, smb_password=shared.password, smb_domain="WORKGROUP", smb_port=shared.port) as src:
        assert src.read_at(0, 100) == files["data"][:100]


@pytest.mark.skipif(not shutil.which("qemu-img"), reason="qemu-img is not installed")
@pytest.mark.parametrize("name", ["d.vhd", "d.vhdx"])
def test_images_over_smb(shared, files, name):
    with open_source(location(shared, name), smb_user=shared.user, smb_password=shared.password) as src, \
            LocalFileSource(str(files[name])) as local:
        img = open_image(src)
        ref = open_image(local, skip_file_holes=False)
        assert img.identity == ref.identity
        assert list(img.extents()) == list(ref.extents())
        out = bytearray(img.virtual_size)
        for e in img.extents():
            out[e.virtual_offset:e.virtual_offset + e.length] = img.read_extent(e)
        assert out == files["data"]


def smb_error(smb, loc, password):
    with pytest.raises(SourceError) as e:
        open_source(loc, smb_user=smb.user, smb_password=password)
    message = str(e.value)
    assert password not in message and smb.password not in message and "\n" not in message
    return message


def test_smb_wrong_password(shared):
    message = smb_error(shared, location(shared, "data.raw"), "Wrong-" + shared.password[::-1])
    assert "logon" in message and "check source.username, source.password" in message and shared.user in message


def test_smb_missing_share(shared):
    message = smb_error(shared, location(shared, "data.raw", share="nosuchshare"), shared.password)
    assert "share 'nosuchshare' does not exist" in message and "check the share name" in message


def test_smb_missing_file(shared):
    message = smb_error(shared, location(shared, "dir/none.vhdx"), shared.password)
    assert "does not exist on the share" in message and "check the path" in message
    message = smb_error(shared, location(shared, "none.vhdx"), shared.password)
    assert "does not exist on the share" in message


def test_smb_directory(shared):
    (shared.share_dir / "adir").mkdir(exist_ok=True)
    assert "directory" in smb_error(shared, location(shared, "adir"), shared.password)


def test_smb_connection_refused(smb):
    loc = "smb://127.0.0.1:%d/images/data.raw" % free_port()
    message = smb_error(smb, loc, smb.password)
    assert "cannot connect" in message and "check the host name and port" in message


def test_smb_server_that_never_answers():
    """smbprotocol waits for answers without a timeout; the source gives up after its deadline instead of hanging."""
    import socket
    import time
    pytest.importorskip("smbclient")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])  # and never answer
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        with pytest.raises(SourceError) as e:
            SmbFileSource("smb://127.0.0.1:%d/images/x.vhdx" % listener.getsockname()[1], smb_user="u", smb_password="NeverShown1",
                          connection_timeout=1, read_timeout=2)
        assert time.monotonic() - started < 10
        assert "NeverShown1" not in str(e.value) and "127.0.0.1" in str(e.value) and "did not answer" in str(e.value)
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()

"""The export job's real work: a VHD(X) written through Samba, checked byte for byte with qemu-img."""

import hashlib
import shutil
import socket
import subprocess
import time

import pytest
import smbclient
from ipslab_helpers import Api, common_body, lab_config

from ips_lab.citrix.server import start_in_thread
from ips_lab.jobwork.smb_location import parse_smb_location
from ips_lab.jobwork.source_disk import SOURCE_DISK_BYTES, build_source_disk

pytestmark = pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img is not installed (apt-get install qemu-utils)")


@pytest.fixture()
def smb_lab(tmp_path, samba):
    config = lab_config(smb={"port": samba["port"]}, job_seconds=1)
    server = start_in_thread(str(tmp_path / "state"), config)
    api = Api(server, config)
    for body in ({"id": "vc", "type": "UsernamePassword", "username": "administrator@vsphere.local", "password": "vc-pw"},
                 {"id": "smb", "type": "UsernamePassword", "username": samba["user"], "password": samba["password"]},
                 {"id": "smb-bad", "type": "UsernamePassword", "username": samba["user"], "password": "not-the-password"}):
        assert api.ips("POST", "credentials", body).status == 201
    yield api, server
    server.stop()


def export_body(samba, name, share=None, cred="smb", **extra):
    location = "smb://%s/%s/lab-tests/%s/" % (samba["host"], share or samba["share"], name)
    return common_body(sourceDiskName=name, vsphereHost="vc.lab.local", vspherePort=443,
                       outputStorageLocation={"location": location, "credentialId": cred}, outputImageFilename=name, **extra)


def read_back(samba, path, local):
    """Read a file from the share through smbprotocol (as a consumer of the export would)."""
    loc = parse_smb_location(path.rsplit("/", 1)[0] + "/")
    unc = "\\\\%s\\%s\\%s" % (samba["host"], loc.share, "\\".join(loc.folders + (path.rsplit("/", 1)[1],)))
    cache = {}
    try:
        smbclient.register_session(samba["host"], username=samba["user"], password=samba["password"], port=samba["port"], connection_cache=cache)
        with smbclient.open_file(unc, "rb", port=samba["port"], connection_cache=cache) as src, open(local, "wb") as dst:
            shutil.copyfileobj(src, dst, 4 * 1024 * 1024)
    finally:
        smbclient.reset_connection_cache(connection_cache=cache)


@pytest.mark.parametrize("disk_format, qemu_format, extension", [("VhdxDiskFormat", "vhdx", "vhdx"), ("VhdDiskFormat", "vpc", "vhd")])
def test_export_writes_the_seeded_disk_over_smb(smb_lab, samba, tmp_path, disk_format, qemu_format, extension):
    api, server = smb_lab
    name = "win11-%s" % extension
    resp = api.ips("POST", "images/$export", export_body(samba, name, hashDisk=True, outputImageFormat=disk_format))
    assert resp.status == 202, resp.raw
    job = api.wait_job(resp.json["id"])
    assert job["status"] == "complete", job["error"]
    artifacts = job["additionalInfo"]["artifacts"]
    filename = "%s.%s" % (name, extension)
    assert artifacts["outputImageFilename"] == filename
    assert artifacts["outputImagePath"] == "smb://%s/%s/lab-tests/%s/%s" % (samba["host"], samba["share"], name, filename)

    seeded = tmp_path / "seeded.raw"
    build_source_disk(str(seeded), name)
    assert artifacts["hash"] == hashlib.sha256(seeded.read_bytes()).hexdigest()
    copy = tmp_path / filename
    read_back(samba, artifacts["outputImagePath"], str(copy))
    assert artifacts["sizeBytes"] == copy.stat().st_size
    assert copy.stat().st_size < SOURCE_DISK_BYTES / 2  # dynamic: the holes were not written
    compare = subprocess.run(["qemu-img", "compare", "-f", "raw", "-F", qemu_format, str(seeded), str(copy)], capture_output=True, text=True, check=False)
    assert compare.returncode == 0, compare.stdout + compare.stderr
    # The lab left no scratch files behind.
    assert not any((tmp_path / "state" / "scratch").rglob("*.raw"))


def test_same_source_same_bytes_and_no_hash_unless_asked(smb_lab, samba, tmp_path):
    api = smb_lab[0]
    first = api.wait_job(api.ips("POST", "images/$export", export_body(samba, "same-src")).json["id"])
    assert first["status"] == "complete", first["error"]
    assert "hash" not in first["additionalInfo"]["artifacts"]
    a, b = tmp_path / "a.raw", tmp_path / "b.raw"
    build_source_disk(str(a), "same-src")
    build_source_disk(str(b), "same-src")
    assert a.read_bytes() == b.read_bytes()
    build_source_disk(str(b), "other-src")
    assert a.read_bytes() != b.read_bytes()


def test_a_bad_smb_password_fails_the_job_clearly(smb_lab, samba):
    api = smb_lab[0]
    job = api.wait_job(api.ips("POST", "images/$export", export_body(samba, "badpw", cred="smb-bad")).json["id"])
    assert job["status"] == "failed"
    assert job["error"]["stage"] == "exporting"
    assert "Access denied" in job["error"]["message"] and "not-the-password" not in job["error"]["message"]
    # A good export right after still works (no session reuse across credentials).
    good = api.wait_job(api.ips("POST", "images/$export", export_body(samba, "after-bad")).json["id"])
    assert good["status"] == "complete", good["error"]


def test_a_missing_share_fails_the_job_clearly(smb_lab, samba):
    api = smb_lab[0]
    job = api.wait_job(api.ips("POST", "images/$export", export_body(samba, "noshare", share="no-such-share")).json["id"])
    assert job["status"] == "failed"
    assert "no-such-share" in job["error"]["message"] and "does not exist" in job["error"]["message"]


def test_an_injected_export_failure_writes_nothing(smb_lab, samba):
    api, server = smb_lab
    server.admin.fail_job("export", "exporting", "The compositing engine could not attach the source disk.")
    job = api.wait_job(api.ips("POST", "images/$export", export_body(samba, "injected")).json["id"])
    assert job["status"] == "failed" and job["error"]["message"].startswith("The compositing engine")
    assert not (samba["share_dir"] / "lab-tests" / "injected").exists()


def job_share(samba, folder):
    """The lab's job SMB client on `lab-tests/<folder>/` of the test Samba, as an export job opens it."""
    from ips_lab.common import rules
    from ips_lab.jobwork.smb import SmbShare

    storage = {"location": "smb://%s/%s/lab-tests/%s/" % (samba["host"], samba["share"], folder), "credentialId": "smb"}
    login = {"username": samba["user"], "password": samba["password"]}
    (samba["share_dir"] / "lab-tests" / folder).mkdir(parents=True, exist_ok=True)
    return SmbShare(storage, lambda _id: (rules.SMB_CREDENTIAL_TYPE, login), {"host": samba["host"], "port": samba["port"]})


def close_sessions(share):
    """End the sockets of the job's SMB connections, as when Samba closes them: the receiver sees EOF."""
    from smbprotocol.connection import Connection

    connections = [c for c in share._cache.values() if isinstance(c, Connection)]  # pylint: disable=protected-access
    for conn in connections:
        conn.transport._sock.shutdown(socket.SHUT_RDWR)  # pylint: disable=protected-access
    return connections


def test_a_job_reconnects_when_its_smb_session_is_closed_under_it(samba, monkeypatch):
    """Windows' SMB redirector opens a session the server dropped again; the lab's job client does the same (20
    migrations at once on a busy machine had one job's session closed by Samba, and the export failed for it)."""
    from ips_lab.jobwork import smb as job_smb

    monkeypatch.setattr(job_smb, "RECONNECT_PAUSE", 0.0)
    with job_share(samba, "reconnect") as share:
        (samba["share_dir"] / "lab-tests" / "reconnect" / "there.vhdx").write_bytes(b"x" * 1000)
        assert share.size_of("there.vhdx") == 1000
        assert close_sessions(share), "no SMB connection in the job's cache"
        time.sleep(0.2)
        assert share.size_of("there.vhdx") == 1000
        assert share.size_of("none.vhdx") is None


def test_a_job_reads_again_when_its_smb_session_is_closed_mid_read(samba, monkeypatch, tmp_path):
    """The session closed while a read is in flight: the read is done again from its start on a new session."""
    import threading

    from ips_lab.jobwork import smb as job_smb

    monkeypatch.setattr(job_smb, "RECONNECT_PAUSE", 0.0)
    monkeypatch.setattr(job_smb, "CHUNK", 64 * 1024)  # many requests: the close lands between two of them
    data = hashlib.sha256(b"seed").digest() * (16 * 1024 * 1024 // 32)
    local = tmp_path / "copy"
    with job_share(samba, "reconnect-read") as share:
        (samba["share_dir"] / "lab-tests" / "reconnect-read" / "big.vhdx").write_bytes(data)
        closed = []

        def close_when_reading():
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not (local.exists() and local.stat().st_size > 0):
                time.sleep(0.001)
            closed.extend(close_sessions(share))

        closer = threading.Thread(target=close_when_reading)
        closer.start()
        try:
            assert share.read_file("big.vhdx", str(local)) == len(data)
        finally:
            closer.join()
    assert closed, "the session was never closed: the test proves nothing"
    assert local.read_bytes() == data

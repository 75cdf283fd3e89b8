"""ips_upload and ips_disk_info run by ansible-playbook at -vvvv against the lab's strict cloud
planes (Azure plane over Azurite, EBS front over moto, GCE plane over the GCS emulator), reading
images from the lab's Samba share. After each upload the runner reads the target back and
compares it with `qemu-img convert -O raw` of the source: byte-exact, plus the Azure footer.
It also kills an upload half way (SIGKILL) and shows, counted at the stand-in, that the re-run
re-sends only what was in flight, and injects throttling into the planes to show the upload backs
off and still finishes byte-exact.
"""

import gzip
import io
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
import time
import uuid
from pathlib import Path

import pytest
from ips_lab.common.admin import LabAdmin as PlaneAdmin

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "plugins" / "module_utils" / "upload"))
from upload_images import FORMATS, MIB, make_image  # noqa: E402

GIB = 1024 * MIB
BUCKET = "ips-upload-it"


@pytest.fixture(scope="module")
def images(lab_env):
    """Every format on the lab's export share: name -> (smb source option, reference raw, local path)."""
    if not shutil.which("qemu-img"):
        pytest.skip("qemu-img is needed to make the test images")
    run = "upload-it-" + uuid.uuid4().hex[:8]
    folder = Path(lab_env["IPS_LAB_SMB_EXPORT_DIR"]) / run
    folder.mkdir(parents=True)
    out = {}
    for name in FORMATS:
        path, ref = make_image(folder, name)
        out[name] = (smb_source(lab_env, "%s/%s" % (run, name)), ref, path)
    yield out
    shutil.rmtree(str(folder), ignore_errors=True)


def smb_source(lab_env, rel, password=None):
    return {"location": "smb://%s:%s/%s/%s" % (lab_env["IPS_LAB_SMB_HOST"], lab_env["IPS_LAB_SMB_PORT"], lab_env["IPS_LAB_SMB_EXPORT_SHARE"], rel),
            "username": lab_env["IPS_LAB_SMB_USER"], "password": password or lab_env["IPS_LAB_SMB_PASSWORD"],
            "domain": lab_env.get("IPS_LAB_SMB_DOMAIN") or None}


def azure_opts(lab_env, disk, secret=None):
    return {"subscription_id": lab_env["IPS_LAB_AZURE_SUBSCRIPTION_ID"], "resource_group": lab_env["IPS_LAB_AZURE_RESOURCE_GROUP"],
            "location": lab_env["IPS_LAB_AZURE_LOCATION"], "tenant_id": lab_env["IPS_LAB_AZURE_TENANT_ID"],
            "client_id": lab_env["IPS_LAB_AZURE_CLIENT_ID"], "client_secret": secret or lab_env["IPS_LAB_AZURE_CLIENT_SECRET"],
            "authority": lab_env["IPS_LAB_AZURE_AUTHORITY"], "arm_endpoint": lab_env["IPS_LAB_AZURE_URL"],
            "ca_path": lab_env["IPS_LAB_AZURE_CA_PATH"], "disk_name": disk, "hyper_v_generation": "V2"}


def aws_opts(lab_env, name):
    """The lab's own AWS key: the EBS front takes no other (docs/lab.md)."""
    return {"region": "us-east-1", "access_key_id": lab_env["IPS_LAB_AWS_ACCESS_KEY_ID"], "secret_access_key": lab_env["IPS_LAB_AWS_SECRET_ACCESS_KEY"],
            "ebs_endpoint_url": lab_env["IPS_LAB_EBS_URL"], "ec2_endpoint_url": lab_env["IPS_LAB_MOTO_URL"], "snapshot_name": name}


def gcp_opts(lab_env, name):
    return {"project": lab_env["IPS_LAB_GCP_PROJECT"], "token": lab_env["IPS_LAB_GCP_TOKEN"], "bucket": BUCKET, "image_name": name,
            "storage_endpoint": lab_env["IPS_LAB_GCE_URL"], "compute_endpoint": lab_env["IPS_LAB_GCE_URL"]}  # Cloud Storage's strict front


def ensure_bucket(lab_env, name=BUCKET):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage
    client = storage.Client(project="p", credentials=AnonymousCredentials(), client_options={"api_endpoint": lab_env["IPS_LAB_GCS_URL"]})
    try:
        client.create_bucket(name)
    except Exception:  # already there
        pass
    return client.bucket(name)


def slug(name):
    return name.replace(".", "-")


# --- reading the targets back -------------------------------------------------------------------

CHUNK = 8 * MIB
ZEROS = bytes(CHUNK)


def assert_chunks_equal(chunks, ref, total):
    """`chunks` ((offset, bytes) in order, covering the target's `total` bytes) hold qemu-img's raw conversion `ref`
    and zeros after it. Compared a chunk at a time with memcmp, so a 1 GiB target padded to the GiB costs
    milliseconds and no GiB of memory."""
    want = memoryview(Path(ref).read_bytes())
    end = 0
    for offset, chunk in chunks:
        assert offset == end, "a gap in the target's bytes at %d" % end
        view = memoryview(chunk)
        inside = max(0, min(len(view), len(want) - offset))
        assert view[:inside] == want[offset:offset + inside], "the target's bytes differ from qemu-img's raw conversion near %d" % offset
        for start in range(inside, len(view), CHUNK):
            piece = view[start:start + CHUNK]
            assert piece == ZEROS[:len(piece)], "the padding after the virtual disk is not zero near %d" % (offset + start)
        end = offset + len(view)
    assert end == total, (end, total)


def assert_raw_equal(data, ref, total):
    assert_chunks_equal([(0, data)], ref, total)


def check_aws(lab_env, name, ref):
    ec2, ebs = ec2_ebs(lab_env)
    snaps = ec2.describe_snapshots(OwnerIds=["self"], Filters=[{"Name": "tag:Name", "Values": [name]}])["Snapshots"]
    snaps = [s for s in snaps if dict((t["Key"], t["Value"]) for t in s["Tags"]).get("ips-upload-state") == "complete"]
    assert len(snaps) == 1 and snaps[0]["State"] == "completed"
    sid = snaps[0]["SnapshotId"]
    total = snaps[0]["VolumeSize"] * GIB
    block = 524288
    blocks = {}
    kw = {"SnapshotId": sid, "MaxResults": 1000}
    while True:
        page = ebs.list_snapshot_blocks(**kw)
        for b in page["Blocks"]:
            blk = ebs.get_snapshot_block(SnapshotId=sid, BlockIndex=b["BlockIndex"], BlockToken=b["BlockToken"])["BlockData"].read()
            assert len(blk) == block and blk != ZEROS[:block], "an all-zero block was sent"
            blocks[b["BlockIndex"]] = blk
        if not page.get("NextToken"):
            break
        kw["NextToken"] = page["NextToken"]
    # the snapshot's bytes: its blocks, and zeros where it has none
    assert_chunks_equal(((i * block, blocks.get(i, ZEROS[:block])) for i in range(total // block)), ref, total)
    return sid


def check_gcp(lab_env, name, ref, bucket=BUCKET):
    """The image's archive reads back byte-exact; returns the bytes its sparse map stores."""
    blob = ensure_bucket(lab_env, bucket).blob(name + ".tar.gz")
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob.download_as_bytes())), mode="r:") as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["disk.raw"] and members[0].issparse()
        raw = tar.extractfile(members[0])
        total = -(-os.path.getsize(ref) // GIB) * GIB
        assert members[0].size == total
        assert_chunks_equal(((offset, raw.read(CHUNK)) for offset in range(0, total, CHUNK)), ref, total)
        return sum(length for _offset, length in members[0].sparse)


def nonzero_units(ref, unit):
    """How many `unit`-byte pieces of the raw file `ref` hold a non-zero byte."""
    zero = bytes(unit)
    count = 0
    with open(ref, "rb") as f:
        for piece in iter(lambda: f.read(unit), b""):
            if piece != zero[:len(piece)]:
                count += 1
    return count


def read_azure(lab_env, disk):
    from azure.identity import ClientSecretCredential
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.compute.models import GrantAccessData
    from azure.storage.blob import BlobClient
    ca = lab_env["IPS_LAB_AZURE_CA_PATH"]
    cred = ClientSecretCredential(lab_env["IPS_LAB_AZURE_TENANT_ID"], lab_env["IPS_LAB_AZURE_CLIENT_ID"], lab_env["IPS_LAB_AZURE_CLIENT_SECRET"],
                                  authority=lab_env["IPS_LAB_AZURE_AUTHORITY"], disable_instance_discovery=True, connection_verify=ca)
    compute = ComputeManagementClient(cred, lab_env["IPS_LAB_AZURE_SUBSCRIPTION_ID"], base_url=lab_env["IPS_LAB_AZURE_URL"],
                                      credential_scopes=["https://management.azure.com/.default"], connection_verify=ca)
    rg = lab_env["IPS_LAB_AZURE_RESOURCE_GROUP"]
    d = compute.disks.get(rg, disk)
    assert d.disk_state == "Unattached" and d.tags["ips-upload-state"] == "complete" and d.hyper_v_generation == "V2"
    sas = compute.disks.begin_grant_access(rg, disk, GrantAccessData(access="Read", duration_in_seconds=600)).result().access_sas
    try:
        return d, BlobClient.from_blob_url(sas, connection_verify=ca).download_blob().readall()
    finally:
        compute.disks.begin_revoke_access(rg, disk).result()


def check_azure(lab_env, disk, ref):
    from ansible_collections.citrix_community.ips.plugins.module_utils._disk.footer import round_up_mib, vhd_checksum
    d, data = read_azure(lab_env, disk)
    size = os.path.getsize(ref)
    data_size = round_up_mib(size)
    assert d.creation_data.upload_size_bytes == data_size + 512 == len(data)
    assert_raw_equal(data[:data_size], ref, data_size)
    footer = data[data_size:]
    assert footer[:8] == b"conectix" and int.from_bytes(footer[48:56], "big") == data_size
    assert int.from_bytes(footer[60:64], "big") == 2 and int.from_bytes(footer[64:68], "big") == vhd_checksum(footer)


def ec2_ebs(lab_env):
    import boto3
    kw = dict(region_name="us-east-1", aws_access_key_id=lab_env["IPS_LAB_AWS_ACCESS_KEY_ID"],
              aws_secret_access_key=lab_env["IPS_LAB_AWS_SECRET_ACCESS_KEY"])
    return boto3.client("ec2", endpoint_url=lab_env["IPS_LAB_MOTO_URL"], **kw), boto3.client("ebs", endpoint_url=lab_env["IPS_LAB_EBS_URL"], **kw)


# --- tests ----------------------------------------------------------------------------------------

def secrets_of(lab_env, test_secrets):
    return list(test_secrets.values()) + [lab_env[k] for k in ("IPS_LAB_SMB_PASSWORD", "IPS_LAB_AZURE_CLIENT_SECRET", "IPS_LAB_GCP_TOKEN",
                                                               "IPS_LAB_AWS_SECRET_ACCESS_KEY")]


def test_disk_info_over_smb(lab, lab_env, run_target, images):
    from ansible_collections.citrix_community.ips.plugins.module_utils._disk import open_image
    from ansible_collections.citrix_community.ips.plugins.module_utils._sources import LocalFileSource
    src, ref, path = images["dynamic.vhdx"]
    s = LocalFileSource(str(path))
    img = open_image(s, skip_file_holes=False)  # SMB cannot see the local file's holes
    expect = dict(format="vhdx", subformat="dynamic", virtual_size=img.virtual_size, allocated_bytes=img.allocated_bytes,
                  azure_upload_size=img.virtual_size + 512)
    s.close()
    run = run_target("ips_disk_info", dict(ips_t=dict(source=src, expect=expect)))
    run.assert_ok()
    run.assert_no_secret([lab_env["IPS_LAB_SMB_PASSWORD"]])


@pytest.mark.parametrize("target", ["aws", "azure", "gcp"])
def test_roundtrip_every_format(lab, lab_env, run_target, images, tmp_path, test_secrets, target):
    tag = uuid.uuid4().hex[:6]
    uploads = []
    if target == "gcp":
        ensure_bucket(lab_env)
    for i, (name, (src, _ref, _path)) in enumerate(sorted(images.items())):
        nm = "it-%s-%s" % (tag, slug(name))
        opts = {"aws": aws_opts, "azure": azure_opts, "gcp": gcp_opts}[target](lab_env, nm)
        # secrets come from the environment fallbacks, so the loop items the playbook prints hold none
        for key in ("secret_access_key", "client_secret", "token"):
            opts.pop(key, None)
        # every other format read over two SMB connections at once (source.connections), the rest over one
        uploads.append(dict(source=dict(src, password=None, connections=1 + i % 2), target=target, options=opts))
    env = {"IPS_SMB_PASSWORD": lab_env["IPS_LAB_SMB_PASSWORD"], "AWS_SECRET_ACCESS_KEY": lab_env["IPS_LAB_AWS_SECRET_ACCESS_KEY"],
           "AZURE_SECRET": lab_env["IPS_LAB_AZURE_CLIENT_SECRET"], "GOOGLE_OAUTH_ACCESS_TOKEN": lab_env["IPS_LAB_GCP_TOKEN"]}
    run = run_target("ips_upload", dict(ips_t=dict(case="roundtrip", uploads=uploads, journal_dir=str(tmp_path / "journal"))), env=env)
    run.assert_ok()
    # -vvvv output, the files the upload wrote (tmp_path: journals, progress), the lab's logs and recorded requests
    planes = [PlaneAdmin.from_env(lab_env, part) for part in {"aws": ("ebs",), "azure": ("azure",), "gcp": ("gce",)}[target]]
    run.assert_no_secret(secrets_of(lab_env, test_secrets), paths=[tmp_path], admins=[lab] + planes)
    assert "sig=" not in run.output, "a SAS signature reached the output"
    for up, (name, (_src, ref, _path)) in zip(uploads, sorted(images.items())):
        nm = up["options"].get("disk_name") or up["options"].get("snapshot_name") or up["options"]["image_name"]
        {"aws": check_aws, "azure": check_azure, "gcp": check_gcp}[target](lab_env, nm, ref)
        if target == "gcp":
            # the parts were composed into their group's object while the upload went on; finish composed the group
            composed = [r["path"].rsplit("/o/", 1)[1] for r in planes[0].requests() if r["path"].endswith("/compose")]
            composed = [c for c in composed if c.startswith(nm + ".tar.gz")]
            assert composed == ["%s.tar.gz.group-00000/compose" % nm, "%s.tar.gz/compose" % nm], composed
    assert not list((tmp_path / "journal").glob("*.journal")), "a finished upload left its journal behind"


def test_failures_are_clear(lab, lab_env, run_target, images, tmp_path, test_secrets):
    folder = Path(lab_env["IPS_LAB_SMB_EXPORT_DIR"]) / ("upload-bad-" + uuid.uuid4().hex[:6])
    folder.mkdir()
    _src, _ref, good = images["dynamic.vhdx"]
    data = Path(good).read_bytes()
    (folder / "truncated.vhdx").write_bytes(data[:len(data) // 3])
    corrupt = bytearray(data)
    corrupt[64 * 1024:64 * 1024 + 64] = b"\xff" * 64  # both VHDX headers' first one smashed ...
    corrupt[128 * 1024:128 * 1024 + 64] = b"\xff" * 64  # ... and the second
    (folder / "corrupt.vhdx").write_bytes(bytes(corrupt))
    (folder / "notadisk.vhd").write_bytes(b"hello" * 1000)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    rel = folder.name
    good_src = images["fixed.vhd"][0]
    missing_share = "smb://%s:%s/noshare/x.vhdx" % (lab_env["IPS_LAB_SMB_HOST"], lab_env["IPS_LAB_SMB_PORT"])
    failures = [
        dict(name="truncated", source=smb_source(lab_env, rel + "/truncated.vhdx"), target="aws", options=aws_opts(lab_env, "bad-1"),
             expect="copy the image again"),
        dict(name="corrupt", source=smb_source(lab_env, rel + "/corrupt.vhdx"), target="aws", options=aws_opts(lab_env, "bad-2"),
             expect="corrupt.vhdx"),
        dict(name="not a disk", source=smb_source(lab_env, rel + "/notadisk.vhd"), target="aws", options=aws_opts(lab_env, "bad-3"),
             expect="notadisk.vhd"),
        dict(name="missing file", source=smb_source(lab_env, rel + "/nothere.vhdx"), target="aws", options=aws_opts(lab_env, "bad-4"),
             expect="does not exist"),
        dict(name="missing share", source=dict(smb_source(lab_env, "x"), location=missing_share), target="aws",
             options=aws_opts(lab_env, "bad-5"), expect="share"),
        dict(name="wrong smb password", source=smb_source(lab_env, rel + "/corrupt.vhdx", password=test_secrets["smb_password"]),
             target="aws", options=aws_opts(lab_env, "bad-6"), expect="source.password"),
        dict(name="no smb connection", source=dict(smb_source(lab_env, rel + "/corrupt.vhdx"), connections=0), target="aws",
             options=aws_opts(lab_env, "bad-8"), expect="source.connections must be from 1 to 16"),
        dict(name="wrong azure secret", source=good_src, target="azure",
             options=azure_opts(lab_env, "bad-7", secret=test_secrets["azure_client_secret"]), expect="azure.client_secret"),
    ]
    run = run_target("ips_upload", dict(ips_t=dict(case="failure", failures=failures, journal_dir=str(tmp_path / "journal"))))
    run.assert_ok()
    run.assert_no_secret(secrets_of(lab_env, test_secrets))
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before, "a source file was modified"
    shutil.rmtree(str(folder), ignore_errors=True)


def test_bad_checksum_is_refused_by_ebs(lab_env):
    """The front refuses a block whose checksum does not match; the uploader's own checksums always match,
    so this checks the stand-in rule the aggregate test relies on, with boto3 directly."""
    import base64
    import hashlib
    _ec2, ebs = ec2_ebs(lab_env)
    snap = ebs.start_snapshot(VolumeSize=1, Timeout=60, ClientToken=uuid.uuid4().hex)
    block = b"\x01" * 524288
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError) as err:
        ebs.put_snapshot_block(SnapshotId=snap["SnapshotId"], BlockIndex=0, BlockData=block, DataLength=524288,
                               Checksum=base64.b64encode(hashlib.sha256(b"other").digest()).decode(), ChecksumAlgorithm="SHA256")
    assert "Checksum" in str(err.value)


def run_module(args, tmp_path, timeout=300):
    """ips_upload as Ansible runs it (python -m, its own process); its JSON result."""
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    cmd = [sys.executable, "-m", "ansible_collections.citrix_community.ips.plugins.modules.ips_upload", str(args_file)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(done.stdout)


def data_puts(admin, target, snapshot_id=None):
    """The stand-in's record of data writes: Azure Put Page on a disk SAS (the test runs alone in its
    lab), EBS PutSnapshotBlock of `snapshot_id` -> [(path, length, status)]."""
    out = []
    for r in admin.requests():
        if r["method"] != "PUT":
            continue
        if target == "azure" and r["path"].startswith("/md-impexp/") or \
                target == "aws" and r["path"].startswith("/snapshots/%s/blocks/" % snapshot_id):
            out.append((r["path"], r["length"] or 0, r["status"]))
    return out


@pytest.mark.parametrize("target", ["aws", "azure"])
def test_killed_upload_resumes_and_resends_only_in_flight(lab, lab_env, images, tmp_path, target, find_leaks):
    """SIGKILL an upload at about half way, run it again, and count what was sent twice: from the
    journal, and at the stand-in (the Put Page / PutSnapshotBlock requests of both runs)."""
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.journal import read_journal
    concurrency = 2
    admin = PlaneAdmin.from_env(lab_env, "azure" if target == "azure" else "ebs")
    admin.clear_requests()
    folder = Path(lab_env["IPS_LAB_SMB_EXPORT_DIR"]) / ("upload-kill-" + uuid.uuid4().hex[:6])
    folder.mkdir()
    path, ref = make_image(folder, "dynamic.vhdx", size=160 * MIB, seed=11)
    # more data: fill 96 MiB so there are enough units to stop half way
    raw = folder / "big.raw"
    with open(raw, "wb") as f:
        f.truncate(160 * MIB)
        for k in range(48):
            f.seek(k * 2 * MIB + (k % 3) * 4096)
            f.write(os.urandom(MIB + 512 * k))
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic,block_size=2M", str(raw), str(path)], check=True)
    subprocess.run(["qemu-img", "convert", "-f", "vhdx", "-O", "raw", str(path), str(ref)], check=True)
    name = "kill-" + uuid.uuid4().hex[:6]
    opts = aws_opts(lab_env, name) if target == "aws" else azure_opts(lab_env, name)
    journal_dir = tmp_path / "journal"
    args = {"source": {"location": str(path)}, "target": target, target: opts, "journal_dir": str(journal_dir),
            "concurrency": concurrency, "rate_limit": 8, "progress_file": str(tmp_path / "progress.json")}
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    cmd = [sys.executable, "-m", "ansible_collections.citrix_community.ips.plugins.modules.ips_upload", str(args_file)]
    if target == "azure":
        # what one uninterrupted upload of this image Put Pages (another disk), counted at the stand-in
        (tmp_path / "ref").mkdir()
        run_module(dict(args, rate_limit=None, azure=azure_opts(lab_env, name + "-ref"), journal_dir=str(tmp_path / "ref-journal")),
                   tmp_path / "ref")
        needed = sum(n for _p, n, status in data_puts(admin, "azure") if status and 200 <= status < 300) - 512
        admin.clear_requests()
    # rate_limit (8 MiB/s) makes the ~96 MiB upload take seconds, so the kill lands mid-way
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    journal = None
    while time.monotonic() < deadline:
        found = list(journal_dir.glob("*.journal"))
        if found:
            header, started, done = read_journal(str(found[0]))
            if len([d for d in done.values() if d is not None]) >= 8:
                journal = found[0]
                break
        time.sleep(0.02)
    assert journal is not None, "the upload did not get going"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # what a killed upload leaves: private to its user (0600), and free of the sign-in secrets it was given
    for left in (journal, tmp_path / "progress.json"):
        assert stat.S_IMODE(os.stat(left).st_mode) == 0o600, left
    secret = opts.get("secret_access_key") or opts.get("client_secret")
    assert secret and not find_leaks([secret], paths=[journal_dir, tmp_path / "progress.json"], admins=[admin])
    _header, started, done = read_journal(str(journal))
    in_flight = started - set(done)
    sent_before = set(u for u, d in done.items() if d is not None)
    # a window (Azure) whose pieces come from two reads can be started with one piece acknowledged and
    # its other piece not yet read: hence concurrency + 1
    assert len(in_flight) <= concurrency + 1, "more units in flight than the concurrency allows: %s" % sorted(in_flight)
    args["rate_limit"] = None
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    result = json.loads(again.stdout)
    assert result["changed"] and result["resumed"]
    # the progress of the resumed run counts what the journal had done: done / total of the whole image, not of the rest
    shown = json.loads((tmp_path / "progress.json").read_text())
    assert shown["bytes_done"] == shown["bytes_total"] > result["bytes_read"], shown
    # every non-zero unit of the disk; the re-run sends those not acknowledged before the kill, no other:
    # so what was sent twice is at most what was in flight at the kill
    unit = 524288 if target == "aws" else 4 * MIB
    data = Path(ref).read_bytes()
    nonzero = set(i for i in range(-(-len(data) // unit)) if data[i * unit:(i + 1) * unit].rstrip(b"\x00"))
    assert sent_before <= nonzero
    assert result["units_sent"] == len(nonzero - sent_before)
    resent = (nonzero - sent_before) & started
    assert resent <= in_flight
    assert result["bytes_read"] < os.path.getsize(ref), "the re-run read the whole image again"
    # at the stand-in: every data write of both runs
    if target == "aws":
        sid = check_aws(lab_env, name, ref)
        puts = data_puts(admin, "aws", sid)
        indexes = [int(p.rsplit("/", 1)[1]) for p, _n, status in puts if status and 200 <= status < 300]
        resent_at_standin = len(indexes) - len(set(indexes))
        assert set(indexes) == nonzero, "the snapshot's blocks are not exactly the non-zero blocks"
        assert resent_at_standin <= len(in_flight) <= concurrency + 1, \
            "PutSnapshotBlock re-sent %d blocks; %d were in flight at the kill" % (resent_at_standin, len(in_flight))
    else:
        check_azure(lab_env, name, ref)
        puts = [(p, n, status) for p, n, status in data_puts(admin, "azure") if status and 200 <= status < 300]
        footer = 512
        resent_bytes = sum(n for _p, n, _s in puts) - footer - needed
        assert 0 <= resent_bytes <= len(in_flight) * unit <= (concurrency + 1) * unit, \
            "Put Page re-sent %d bytes; %d windows of %d bytes were in flight at the kill" % (resent_bytes, len(in_flight), unit)
    shutil.rmtree(str(folder), ignore_errors=True)


@pytest.mark.parametrize("target", ["aws", "azure"])
def test_throttled_upload_backs_off_and_finishes(lab, lab_env, images, tmp_path, target):
    """The plane throttles the first data writes (Azure 503 ServerBusy on Put Page, EBS
    ThrottlingException on PutSnapshotBlock); the upload retries them with back-off and the target
    is still byte-exact."""
    faults = 4
    _src, ref, path = images["dynamic.vhdx"]
    name = "throttle-" + uuid.uuid4().hex[:6]
    if target == "azure":
        admin = PlaneAdmin.from_env(lab_env, "azure")
        rule = admin.add_fault(r"^/md-impexp/", method="PUT", status=503, times=faults)
        opts = azure_opts(lab_env, name)
    else:
        admin = PlaneAdmin.from_env(lab_env, "ebs")
        rule = admin.add_fault(r"^/snapshots/[^/]+/blocks/", method="PUT", status=400, times=faults)
        opts = aws_opts(lab_env, name)
    admin.clear_requests()
    try:
        result = run_module({"source": {"location": str(path)}, "target": target, target: opts, "concurrency": 2,
                             "journal_dir": str(tmp_path / "journal")}, tmp_path)
    finally:
        admin.clear_faults()
    assert rule
    assert result["changed"] and result["retries"] >= faults and result["throttled"] >= faults, result
    if target == "azure":
        puts = data_puts(admin, "azure")
        check_azure(lab_env, name, ref)
        refused = [p for p in puts if p[2] == 503]
    else:
        sid = check_aws(lab_env, name, ref)
        puts = data_puts(admin, "aws", sid)
        refused = [p for p in puts if p[2] == 400]
    assert len(refused) == faults, "the plane refused %d writes, the rule said %d" % (len(refused), faults)
    # every refused write was sent again and then accepted
    ok = set(p for p, _n, status in puts if status and 200 <= status < 300)
    assert all(p in ok for p, _n, _s in refused)


class UploadRolePlay(object):
    """A playbook running the upload role, as AWX runs it, for one Azure disk made from a 96 MiB
    dynamic VHDX with 32 MiB of data on the lab's share (at `upload_rate_limit` 1 MiB/s: ~32 s, so a re-run
    started after a kill at 10 % finds it still running even on a machine with a load of 8 on 2 cores).
    Its module runs from a remote tmp of the test's own, so the test can find - and kill - exactly
    the background upload it started."""

    def __init__(self, lab_env, tmp_path, **role_vars):
        run = uuid.uuid4().hex[:6]
        self.lab_env = lab_env
        self.folder = Path(lab_env["IPS_LAB_SMB_EXPORT_DIR"]) / ("upload-role-" + run)
        self.folder.mkdir()
        raw, image = self.folder / "role.raw", self.folder / "role.vhdx"
        with open(raw, "wb") as f:
            f.truncate(96 * MIB)
            for k in range(16):
                f.seek(k * 6 * MIB + (k % 3) * 4096)
                f.write(os.urandom(2 * MIB))
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic,block_size=2M", str(raw), str(image)],
                       check=True)
        self.ref = self.folder / "role.ref.raw"
        subprocess.run(["qemu-img", "convert", "-f", "vhdx", "-O", "raw", str(image), str(self.ref)], check=True)
        raw.unlink()
        self.name = "role-" + run
        self.state = tmp_path / "state"
        self.async_dir = tmp_path / "async"  # one result file per background job started
        self.remote_tmp = tmp_path / "remote-tmp"
        self.progress_file = self.state / ("azure-%s.progress.json" % self.name)
        play_vars = dict({
            "upload_source": smb_source(lab_env, "%s/%s" % (self.folder.name, image.name)), "upload_target": "azure",
            "upload_target_options": azure_opts(lab_env, self.name), "upload_rate_limit": 1, "upload_poll_delay": 1,
            "upload_report_every": 1, "upload_state_dir": str(self.state), "upload_journal_dir": str(tmp_path / "journal"),
        }, **role_vars)
        (tmp_path / "vars.json").write_text(json.dumps(play_vars))
        (tmp_path / "play.yml").write_text("- name: Upload a master image\n  hosts: localhost\n  gather_facts: false\n  roles:\n"
                                           "    - role: citrix_community.ips.upload\n")
        self.tmp_path = tmp_path
        self.env = dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_NOCOLOR="1",
                        ANSIBLE_INVENTORY_UNPARSED_WARNING="False", ANSIBLE_RETRY_FILES_ENABLED="False",
                        ANSIBLE_ASYNC_DIR=str(self.async_dir), ANSIBLE_REMOTE_TMP=str(self.remote_tmp))
        self.cmd = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", "-c", "local", "-e", "@vars.json", "play.yml"]

    def run(self, verbose=False):
        done = subprocess.run(self.cmd + (["-vvvv"] if verbose else []), env=self.env, cwd=str(self.tmp_path), capture_output=True,
                              text=True, timeout=300, check=False)
        return done.returncode, done.stdout + done.stderr

    def run_and_kill_at(self, percent):
        """Start the playbook, SIGKILL it once the background upload is `percent` done; its output."""
        out_file = self.tmp_path / "killed.txt"
        with open(out_file, "wb") as out:
            proc = subprocess.Popen(self.cmd, env=self.env, cwd=str(self.tmp_path), stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            try:
                deadline = time.monotonic() + 180
                while time.monotonic() < deadline:
                    try:
                        done = json.loads(self.progress_file.read_text()).get("percent") or 0
                    except (OSError, ValueError):
                        done = 0
                    if done >= percent and "eta" in out_file.read_text():
                        break
                    assert proc.poll() is None, "the playbook ended before the upload was %d %% done:\n%s" % (percent, out_file.read_text()[-3000:])
                    time.sleep(0.1)
                else:
                    raise AssertionError("the background upload never reached %d %%:\n%s" % (percent, out_file.read_text()[-3000:]))
            finally:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(10)
        assert proc.returncode == -signal.SIGKILL
        return out_file.read_text()

    def kill_background_upload(self):
        """SIGKILL the async wrapper and the module it runs: the processes running from this test's remote tmp."""
        killed = []
        for pid in [int(d) for d in os.listdir("/proc") if d.isdigit()]:
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    if str(self.remote_tmp).encode() in f.read():
                        os.kill(pid, signal.SIGKILL)
                        killed.append(pid)
            except OSError:
                pass  # ended meanwhile
        return killed

    def assert_no_secret(self, *outputs):
        for text in outputs:
            assert self.lab_env["IPS_LAB_SMB_PASSWORD"] not in text and self.lab_env["IPS_LAB_AZURE_CLIENT_SECRET"] not in text, \
                "a secret reached the output"
            assert "sig=" not in text, "a SAS signature reached the output"

    def cleanup(self):
        shutil.rmtree(str(self.folder), ignore_errors=True)


def test_upload_role_in_background_survives_a_killed_playbook(lab, lab_env, tmp_path):
    """The upload role as AWX runs it: ips_upload in the background (async, poll 0) with its progress
    (percent, MiB/s, ETA) printed while it runs. The playbook is SIGKILLed a tenth of the way in; the
    background upload goes on (async_wrapper is its own session); the re-run, at -vvvv, attaches to it
    (status resumed, the disk created once, counted at the plane) and the disk is byte-exact. A third
    run reports the upload skipped and changes nothing. No secret in any output."""
    admin = PlaneAdmin.from_env(lab_env, "azure")
    admin.clear_requests()
    play = UploadRolePlay(lab_env, tmp_path)
    first = play.run_and_kill_at(10)
    assert re.search(r"upload azure %s: upload [0-9.]+%%, [0-9.]+ of [0-9.]+ MiB, [0-9.]+ MiB/s \(limit [0-9.]+ MiB/s\), eta [0-9]+ s"
                     % play.name, first), first[-3000:]
    assert not re.search(r"of 0\.0 MiB", first), first[-3000:]

    rc, output = play.run(verbose=True)
    assert rc == 0, output[-6000:]
    assert re.search(r"upload resumed: azure %s /subscriptions/" % play.name, output), output[-3000:]
    jobs = [p.name for p in play.async_dir.iterdir() if not p.name.endswith(".tmp")]
    assert len(jobs) == 1, "the re-run started another background upload instead of attaching: %s" % jobs
    creates = [r for r in admin.requests() if r["method"] == "PUT" and r["path"].rstrip("/").endswith("/disks/" + play.name)]
    assert len(creates) == 1, "the disk was created %d times" % len(creates)
    check_azure(lab_env, play.name, play.ref)

    rc, third = play.run()
    assert rc == 0, third[-4000:]
    assert re.search(r"upload skipped: azure %s" % play.name, third) and re.search(r"changed=0\s", third), third[-3000:]
    play.assert_no_secret(first, output, third)
    play.cleanup()


def test_upload_role_sees_a_dead_background_upload_at_once_and_resumes(lab, lab_env, tmp_path):
    """The playbook and its background upload are both SIGKILLed (as when the host restarts). The re-run
    sees at once that the job it finds is dead (its upload lock is free: pid, host and start time are gone
    with it), does not latch onto it for upload_stale_after, and starts a new upload that resumes from the
    journal, byte-exact. (Before issue 18 it attached, waited for the heartbeat to go stale, failed, and only
    the run after that resumed.)"""
    stale_after = 600  # long: a re-run that waited for the heartbeat to go stale would hang here, not pass
    play = UploadRolePlay(lab_env, tmp_path, upload_stale_after=stale_after)
    first = play.run_and_kill_at(10)
    assert play.kill_background_upload(), "no background upload was running from the test's remote tmp"

    rc, again = play.run()
    assert rc == 0, again[-4000:]
    assert "has not written its progress file" not in again, again[-3000:]
    assert re.search(r"upload resumed: azure %s /subscriptions/" % play.name, again), again[-3000:]
    check_azure(lab_env, play.name, play.ref)
    play.assert_no_secret(first, again)
    play.cleanup()


def test_a_second_upload_to_a_target_being_written_is_refused(lab, lab_env, images, tmp_path):
    """While one upload writes a disk, another run for that disk - the same source, or another one with
    overwrite: always, which would delete the disk under the first - fails at once naming the running
    one; the first finishes byte-exact."""
    _src, ref, path = images["dynamic.vhdx"]
    name = "busy-" + uuid.uuid4().hex[:6]
    journal_dir = str(tmp_path / "journal")  # one host, one journal folder: as the default ~/.cache one
    progress = tmp_path / "progress.json"
    first_args = {"source": {"location": str(path)}, "target": "azure", "azure": azure_opts(lab_env, name), "journal_dir": journal_dir,
                  "rate_limit": 0.1, "concurrency": 2, "progress_file": str(progress)}  # ~40 s: both second runs happen meanwhile, even slowly
    (tmp_path / "first.json").write_text(json.dumps({"ANSIBLE_MODULE_ARGS": first_args}))
    module = [sys.executable, "-m", "ansible_collections.citrix_community.ips.plugins.modules.ips_upload"]
    first = subprocess.Popen(module + [str(tmp_path / "first.json")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if json.loads(progress.read_text()).get("bytes_sent"):
                    break
            except (OSError, ValueError):
                pass
            assert first.poll() is None, "the first upload ended early: %s" % first.communicate()[0][-2000:]
            time.sleep(0.05)
        else:
            raise AssertionError("the first upload never sent anything")
        other = images["fixed.vhd"][2]
        for label, source, overwrite in (("same source", str(path), "different"), ("another source", str(other), "always")):
            args = dict(first_args, source={"location": source}, overwrite=overwrite, rate_limit=None, progress_file=None)
            (tmp_path / "second.json").write_text(json.dumps({"ANSIBLE_MODULE_ARGS": dict((k, v) for k, v in args.items() if v is not None)}))
            second = subprocess.run(module + [str(tmp_path / "second.json")], capture_output=True, text=True, timeout=120, check=False)
            result = json.loads(second.stdout)
            assert result.get("failed"), "%s: a second upload ran while the first was writing the disk" % label
            assert "another upload to disk %s in %s is running on this host right now (process %d)" % (
                name, lab_env["IPS_LAB_AZURE_RESOURCE_GROUP"], first.pid) in result["msg"], result["msg"]
            assert "Traceback" not in second.stdout + second.stderr
            assert first.poll() is None, "the first upload ended while the second ran: the check above proves nothing"
        out, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, out[-2000:] + err[-2000:]
    assert json.loads(out)["changed"]
    check_azure(lab_env, name, ref)


def test_upload_wait_refuses_bad_input_clearly(run_target, tmp_path):
    run = run_target("ips_upload_wait", dict(ips_t=dict(dir=str(tmp_path))))
    run.assert_ok()
    assert "Traceback" not in run.output


def test_wait_timeout_bounds_a_slow_cloud_operation_and_names_the_option(lab, lab_env, images, tmp_path):
    """The Azure plane creates disks slowly (operation_seconds): ips_upload with wait_timeout 5 fails in about
    5 s, naming the option and the operation, and a re-run with time enough finishes the upload."""
    admin = PlaneAdmin.from_env(lab_env, "azure")
    admin.set_config(operation_seconds=10)
    name = "slow-" + uuid.uuid4().hex[:6]
    source, ref, _path = images["fixed.vhd"]
    args = {"source": source, "target": "azure", "azure": azure_opts(lab_env, name), "journal_dir": str(tmp_path / "journal"),
            "wait_timeout": 5}
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    cmd = [sys.executable, "-m", "ansible_collections.citrix_community.ips.plugins.modules.ips_upload", str(args_file)]
    try:
        started = time.monotonic()
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        took = time.monotonic() - started
    finally:
        admin.set_config(operation_seconds=0)
    result = json.loads(done.stdout)
    assert done.returncode != 0 and result["failed"], done.stdout[-2000:]
    assert 5 <= took < 20, "took %.1f s" % took  # 5 s of waiting; the rest is start-up (slow on a busy machine)
    msg = result["msg"]
    assert msg.startswith("Azure's operation to create the disk %s" % name), msg
    assert "is still InProgress after waiting 5 s (wait_timeout)" in msg and "not cancelled" in msg and "raise wait_timeout" in msg
    assert "resumes the upload" in msg and "Traceback" not in done.stdout + done.stderr
    # the disk is there (Azure goes on creating it): the re-run waits for it, uploads into it and finishes
    again = run_module(dict(args, wait_timeout=120), tmp_path)
    assert again["changed"] and again["existing"] == "partial"
    check_azure(lab_env, name, ref)


def run_module_raw(args, tmp_path, timeout=300):
    """ips_upload in its own process; (return code, JSON result) - for runs that are meant to fail."""
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    cmd = [sys.executable, "-m", "ansible_collections.citrix_community.ips.plugins.modules.ips_upload", str(args_file)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    assert "Traceback" not in done.stdout + done.stderr, done.stdout[-3000:] + done.stderr[-3000:]
    return done.returncode, json.loads(done.stdout)


def gcs_front(lab_env, name):
    """The GCP target through the GCE plane's Cloud Storage front: Cloud Storage's rules, and the plane's faults."""
    return dict(gcp_opts(lab_env, name), storage_endpoint=lab_env["IPS_LAB_GCE_URL"])


def test_fan_out_reads_once_resumes_each_target_and_reports_a_failing_one(lab, lab_env, images, tmp_path, find_leaks):
    """One source, three clouds (target: [azure, aws, gcp]).

    1. Over SMB: check mode predicts each target; the upload reads the image once (bytes read <= 1.02 x allocated)
       and all three targets are byte-exact; a re-run changes nothing.
    2. A larger image, with Cloud Storage refusing every upload (403 from the GCS front): the upload is killed
       (SIGKILL) half way; the re-run resumes Azure and AWS from their journals - re-sending no more than was in
       flight, counted at the EBS front - and they finish while GCP fails: the task fails naming gcp, with the
       others' results. With the fault gone, the next run leaves Azure and AWS alone and finishes GCP."""
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.journal import read_journal
    ensure_bucket(lab_env)
    tag = uuid.uuid4().hex[:6]
    # -- 1. read once, over SMB, to three clouds --
    source, ref, _path = images["dynamic.vhdx"]
    names = {"azure": "fan-" + tag, "aws": "fan-" + tag, "gcp": "fan-" + tag}
    args = {"source": source, "target": ["azure", "aws", "gcp"], "azure": azure_opts(lab_env, names["azure"]),
            "aws": aws_opts(lab_env, names["aws"]), "gcp": gcs_front(lab_env, names["gcp"]), "journal_dir": str(tmp_path / "j1")}
    rc, predicted = run_module_raw(dict(args, _ansible_check_mode=True), tmp_path)
    assert rc == 0 and predicted["changed"] and predicted["failed_targets"] == []
    assert set(predicted["targets"]) == {"azure", "aws", "gcp"}
    assert all(t["action"] == "create" and t["plan"]["bytes_to_read"] > 0 for t in predicted["targets"].values()), predicted
    rc, result = run_module_raw(args, tmp_path)
    assert rc == 0 and result["changed"] and result["failed_targets"] == [], result
    assert "target" not in result and all(t["changed"] for t in result["targets"].values())
    allocated = result["allocated_bytes"]
    assert 0 < result["bytes_read"] <= 1.02 * allocated, "the source was read %d bytes for %d allocated" % (result["bytes_read"], allocated)
    check_azure(lab_env, names["azure"], ref)
    check_aws(lab_env, names["aws"], ref)
    stored = check_gcp(lab_env, names["gcp"], ref)
    # GCP's lane sends the sparse layout of a GCP upload alone: the zero runs inside allocated blocks, which the shared
    # reads do hold, are left to the sparse map (the archive holds the non-zero 512-byte runs, gaps bridged within 1 %)
    nonzero = nonzero_units(ref, 512) * 512
    assert nonzero * 1.01 < allocated and nonzero <= stored <= nonzero * 1.01, (stored, nonzero, allocated)
    rc, again = run_module_raw(args, tmp_path)
    assert rc == 0 and not again["changed"] and again["bytes_read"] == 0
    assert all(not t["changed"] for t in again["targets"].values()), again
    # -- 2. kill, resume, one target failing --
    folder = Path(lab_env["IPS_LAB_SMB_EXPORT_DIR"]) / ("fan-kill-" + tag)
    folder.mkdir()
    path, ref = folder / "big.vhdx", folder / "big.ref.raw"
    raw = folder / "big.raw"
    with open(raw, "wb") as f:
        f.truncate(96 * MIB)
        for k in range(24):
            f.seek(k * 2 * MIB + (k % 3) * 4096)
            f.write(os.urandom(MIB + 512 * k))
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic,block_size=2M", str(raw), str(path)], check=True)
    subprocess.run(["qemu-img", "convert", "-f", "vhdx", "-O", "raw", str(path), str(ref)], check=True)
    name = "fankill-" + tag
    journal_dir = tmp_path / "j2"
    concurrency = 2
    args = {"source": {"location": str(path)}, "target": ["azure", "aws", "gcp"], "azure": azure_opts(lab_env, name),
            "aws": aws_opts(lab_env, name), "gcp": gcs_front(lab_env, name), "journal_dir": str(journal_dir),
            "concurrency": concurrency, "rate_limit": 8}
    ebs = PlaneAdmin.from_env(lab_env, "ebs")
    ebs.clear_requests()
    gce = PlaneAdmin.from_env(lab_env, "gce")
    assert gce.add_fault(r"^/upload/storage/", method="POST", status=403, times=1000)
    try:
        args_file = tmp_path / "kill.json"
        args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        proc = subprocess.Popen([sys.executable, "-m", "ansible_collections.citrix_community.ips.plugins.modules.ips_upload", str(args_file)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        units = {4 * MIB: "azure", 524288: "aws"}
        deadline = time.monotonic() + 120
        journals = {}
        while time.monotonic() < deadline and proc.poll() is None:
            journals = {}
            for found in journal_dir.glob("*.journal"):
                header, _started, done = read_journal(str(found))
                if header["unit"] in units and len([d for d in done.values() if d is not None]) >= 4:
                    journals[units[header["unit"]]] = found
            if len(journals) == 2:
                break
            time.sleep(0.02)
        assert len(journals) == 2, "the fan-out did not get going: %s" % (proc.communicate()[0][-2000:] if proc.poll() is not None else journals)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        before = dict((t, read_journal(str(j))) for t, j in journals.items())
        rc, result = run_module_raw(dict(args, rate_limit=None), tmp_path)
    finally:
        gce.clear_faults()
    # GCP failed, the others finished, and the task says so
    assert rc != 0 and result["failed"] and result["failed_targets"] == ["gcp"], result
    assert "gcp" in result["msg"] and "403" in result["msg"] and "Traceback" not in result["msg"], result["msg"]
    assert result["targets"]["gcp"]["failed"]
    data = Path(ref).read_bytes()
    for target, unit in (("azure", 4 * MIB), ("aws", 524288)):
        got = result["targets"][target]
        assert got["changed"] and got["resumed"], got
        _header, started, done = before[target]
        in_flight = started - set(done)
        assert len(in_flight) <= concurrency + 1
        sent_before = set(u for u, d in done.items() if d is not None)
        nonzero = set(i for i in range(-(-len(data) // unit)) if data[i * unit:(i + 1) * unit].rstrip(b"\x00"))
        assert got["units_sent"] == len(nonzero - sent_before), (target, got)  # the re-run sent only what was not acknowledged
    check_azure(lab_env, name, ref)
    sid = check_aws(lab_env, name, ref)
    indexes = [int(p.rsplit("/", 1)[1]) for p, _n, status in data_puts(ebs, "aws", sid) if status and 200 <= status < 300]
    in_flight = before["aws"][1] - set(before["aws"][2])
    assert len(indexes) - len(set(indexes)) <= len(in_flight), "PutSnapshotBlock re-sent more blocks than were in flight at the kill"
    rc, last = run_module_raw(dict(args, rate_limit=None), tmp_path)
    assert rc == 0 and last["changed"] and last["failed_targets"] == [], last
    assert not last["targets"]["azure"]["changed"] and not last["targets"]["aws"]["changed"] and last["targets"]["gcp"]["changed"]
    check_gcp(lab_env, name, ref)
    secrets = [lab_env["IPS_LAB_AZURE_CLIENT_SECRET"], "testing-secret", lab_env["IPS_LAB_GCP_TOKEN"]]
    assert not find_leaks(secrets, paths=[journal_dir], admins=[ebs])
    assert not any(s in json.dumps(r) for s in secrets for r in (result, last))
    shutil.rmtree(str(folder), ignore_errors=True)

"""Issue 18: what each target sends is the image's non-zero bytes (plus the format's own overhead and at most 1 %),
and what the target holds afterwards is checked against what was sent.

- One image whose allocated blocks are mostly zeros (a fixed VHD: every byte allocated) goes to each target with
  `ips_upload` run as Ansible runs it (its own process, no playbook): `bytes_sent` stays within the bound at the
  target's granularity (Azure 512-byte sectors + the footer, EBS 512 KiB blocks, GCP the sparse map's 512-byte runs
  + the gzip/tar head and tail), and the target reads back byte-exact against `qemu-img convert -O raw` (for GCP the
  archive is read the way the GCE plane reads it: gzip, then the sparse tar member disk.raw).
- After an EBS snapshot completed, its block list is compared with the blocks sent (both ways): a block the EBS front
  acknowledged and did not keep (its fault `lose`) fails the upload naming the block, and the re-run finishes.
- A GCP upload whose image creation failed (a lab fault on images.insert) after its parts were composed and deleted is
  run again: it goes straight to the image from the composed object (its size and crc32c checked again), re-sending
  no part; when the object is gone or holds other bytes, it starts afresh and says so in a warning.
- A part changed in the bucket between its upload and the compose is caught: the GCP target's own steps are driven
  in-process against the lab (transfer, then one part object overwritten in the GCS emulator, then finish) and the
  composed object's crc32c, which the emulator computes over what it holds, no longer matches the one combined from
  what was sent.
"""

import contextlib
import gzip
import io
import sys
import tarfile
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "plugins" / "module_utils" / "upload"))
from ips_lab.common.admin import LabAdmin as PlaneAdmin  # noqa: E402
from test_upload_modules import (aws_opts, azure_opts, check_aws, check_azure, check_gcp, ensure_bucket,  # noqa: E402
                                 gcp_opts, nonzero_units, run_module, run_module_raw)
from upload_images import MIB, make_image  # noqa: E402

SECTOR = 512
EBS_BLOCK = 512 * 1024
# the GCP archive's own bytes: the head segment (gzip header, tar header, a few sparse entries) and the tail
# (tar padding to a 10 KiB record, the final deflate block, the gzip trailer), each deflated
GCP_OVERHEAD = 4096


@pytest.fixture(scope="module")
def zero_heavy(lab_env):
    """A 128 MiB fixed VHD holding about 5 MiB of data: every byte allocated, the rest zeros inside the allocation."""
    folder = Path(lab_env["IPS_LAB_SMB_EXPORT_DIR"]) / ("integrity-" + uuid.uuid4().hex[:6])
    folder.mkdir(parents=True)
    path, ref = make_image(folder, "fixed.vhd", size=128 * MIB, seed=18)
    path.write_bytes(path.read_bytes())  # no file holes: every zero is on disk, read, and up to the target to leave out
    return path, ref


@pytest.mark.parametrize("target", ["azure", "aws", "gcp"])
def test_bytes_sent_are_the_nonzero_bytes_within_one_percent(lab, lab_env, tmp_path, zero_heavy, target):
    path, ref = zero_heavy
    name = "bound-%s-%s" % (target, uuid.uuid4().hex[:6])
    if target == "gcp":
        ensure_bucket(lab_env)
    opts = {"azure": azure_opts, "aws": aws_opts, "gcp": gcp_opts}[target](lab_env, name)
    result = run_module({"source": {"location": str(path)}, "target": target, target: opts, "journal_dir": str(tmp_path / "journal")},
                        tmp_path)
    assert result["changed"] and result["bytes_read"] == result["allocated_bytes"]
    nonzero = nonzero_units(ref, SECTOR) * SECTOR
    if target == "azure":
        bound = nonzero + SECTOR + nonzero // 100  # the non-zero sectors, the footer, 1 %
    elif target == "aws":
        bound = nonzero_units(ref, EBS_BLOCK) * EBS_BLOCK  # whole blocks that hold data, nothing else
    else:
        bound = nonzero + GCP_OVERHEAD + nonzero // 100
    assert result["bytes_sent"] <= bound, (target, result["bytes_sent"], bound, nonzero)
    if target == "gcp":
        # the archive holds the non-zero runs only (before: all 128 MiB, the zeros deflated to about 1/1000 each, which
        # compressible data elsewhere in the image could hide in bytes_sent)
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(ensure_bucket(lab_env).blob(name + ".tar.gz").download_as_bytes()))) as tar:
            (member,) = tar.getmembers()
            stored = sum(length for _offset, length in member.sparse)
        assert nonzero <= stored <= nonzero * 1.01, (stored, nonzero)
    {"azure": check_azure, "aws": check_aws, "gcp": check_gcp}[target](lab_env, name, ref)


def _media_uploads(admin):
    """Media uploads (parts, head, tail) the GCE plane's Cloud Storage front answered 2xx."""
    return [r for r in admin.requests() if r["method"] == "POST" and r["path"].startswith("/upload/storage/v1/")
            and r["status"] and 200 <= r["status"] < 300]


def test_gcp_rerun_after_a_failed_image_creation_resumes_from_the_composed_object(lab, lab_env, tmp_path):
    gce = PlaneAdmin.from_env(lab_env, "gce")
    gce.clear_faults()
    bucket = ensure_bucket(lab_env)
    folder = Path(lab_env["IPS_LAB_SMB_EXPORT_DIR"]) / ("composed-" + uuid.uuid4().hex[:6])
    folder.mkdir(parents=True)
    path, ref = make_image(folder, "dynamic.vhdx", size=24 * MIB, seed=18)
    for case in ("kept", "gone", "changed"):
        name = "composed-%s-%s" % (case, uuid.uuid4().hex[:6])
        obj = name + ".tar.gz"
        args = {"source": {"location": str(path)}, "target": "gcp", "gcp": gcp_opts(lab_env, name), "journal_dir": str(tmp_path / case)}
        gce.add_fault(r"/global/images$", method="POST", action="status", status=503)  # images.insert is not retried
        gce.clear_requests()
        rc, first = run_module_raw(args, tmp_path)
        first_sent = len(_media_uploads(gce))
        assert rc != 0 and "create the image %s" % name in first["msg"], first
        assert not gce.faults()
        held = bucket.get_blob(obj)
        assert held is not None and [b.name for b in bucket.list_blobs(prefix=obj + ".")] == [], "the parts outlived the compose"
        if case == "gone":
            held.delete()
        elif case == "changed":
            bucket.blob(obj).upload_from_string(b"\x1f\x8b" + bytes(held.size - 2))  # its size, other bytes
        gce.clear_requests()
        result = run_module(args, tmp_path)
        sent = _media_uploads(gce)
        if case == "kept":
            assert result["resumed"] and result["bytes_sent"] == 0 and not sent, (result, sent)
            assert not result.get("warnings"), result["warnings"]
        else:
            assert len(sent) == first_sent >= 3 and result["bytes_sent"] > 0, (sent, first_sent)  # the parts, the head and the tail
            (warning,) = result["warnings"]
            warning = warning["event"]["msg"] if isinstance(warning, dict) else warning  # ansible-core 2.19 returns a summary
            assert "gs://%s/%s" % (bucket.name, obj) in warning and "started afresh" in warning, warning
            assert ("is gone" if case == "gone" else "holds other bytes") in warning, warning
        assert result["archive_size"] == bucket.get_blob(obj).size
        check_gcp(lab_env, name, ref)


@contextlib.contextmanager
def in_process(target_class, opts, path, tmp_path):
    """The target's own steps driven in-process against the lab: (target, journal) after start() and the whole transfer
    (run_units for a unit target, transfer() for a stream one), for a test to tamper with before finish()."""
    from ansible_collections.citrix_community.ips.plugins.module_utils._disk import open_image
    from ansible_collections.citrix_community.ips.plugins.module_utils._sources import LocalFileSource
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.base import fingerprint
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.journal import Journal
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.pipeline import run_units
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.plan import Plan
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.progress import Progress
    source = LocalFileSource(str(path))
    try:
        image = open_image(source)
        target = target_class(opts, image, fingerprint(image.identity), tries=2)
        journal = Journal(str(tmp_path), target.key(), image.identity, target.unit_size)
        target.start(journal)
        progress = Progress(None, total=0, target=target.name)
        if target.stream:
            target.transfer(journal, progress, 2)
        else:
            run_units(image, Plan(image, target.unit_size), target, journal, progress, concurrency=4)
        yield target, journal
        journal.close()
    finally:
        source.close()


def test_a_part_changed_in_the_bucket_is_caught_by_the_composed_crc32c(lab, lab_env, tmp_path, zero_heavy):
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.gcp import GcpTarget
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.pipeline import UploadError
    path, _ref = zero_heavy
    bucket = ensure_bucket(lab_env)
    name = "crc-%s" % uuid.uuid4().hex[:6]
    with in_process(GcpTarget, gcp_opts(lab_env, name), path, tmp_path) as (target, journal):
        # the object the final compose reads for part 0: the part, or the group it was composed into during the upload
        part = bucket.blob(target._group_of.get(target._part_name(0), target._part_name(0)))  # pylint: disable=protected-access
        held = bytearray(part.download_as_bytes())
        held[len(held) // 2] ^= 0x01  # one bit, the length unchanged: only a content check can see it
        part.upload_from_string(bytes(held))
        with pytest.raises(UploadError) as err:
            target.finish(journal)
    msg = str(err.value)
    assert "gs://%s/%s.tar.gz holds other bytes than were sent" % (bucket.name, name) in msg and "crc32c" in msg
    assert "overwrite: always" in msg
    assert target.exists() is None, "an image was made from the changed archive"


def test_a_block_ebs_lost_fails_the_upload_naming_it_and_the_rerun_finishes(lab, lab_env, tmp_path, zero_heavy):
    """The EBS front acknowledges block 0 and counts it, but does not keep it (its fault `lose`): after CompleteSnapshot
    the block list (ListSnapshotBlocks) lacks it, the upload fails naming the block and what to do, and running the task
    again that way finishes byte-exact."""
    path, ref = zero_heavy
    ebs = PlaneAdmin.from_env(lab_env, "ebs")
    ebs.clear_faults()
    name = "lost-%s" % uuid.uuid4().hex[:6]
    ebs.add_fault(r"^/snapshots/[^/]+/blocks/0$", action="lose", method="PUT")
    args = {"source": {"location": str(path)}, "target": "aws", "aws": aws_opts(lab_env, name), "journal_dir": str(tmp_path / "journal")}
    rc, failed = run_module_raw(args, tmp_path)
    assert rc != 0 and "lacks block 0 (bytes 0 to %d)" % EBS_BLOCK in failed["msg"], failed
    assert "run the task again with overwrite: always" in failed["msg"] and not ebs.faults()
    result = run_module(dict(args, overwrite="always"), tmp_path)
    assert result["changed"] and result["existing"] == "partial", result  # completed, never tagged complete: replaced
    check_aws(lab_env, name, ref)


def test_a_block_the_journal_never_sent_is_caught_in_the_block_list(lab, lab_env, tmp_path, zero_heavy):
    """The other direction, which no EBS fault can make: the snapshot holds a block the journal never sent (the AWS
    target's own steps in-process: the snapshot completes and its blocks check out, then the journal loses its last block
    and the check runs again)."""
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.aws import AwsTarget
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.pipeline import UploadError
    path, ref = zero_heavy
    with in_process(AwsTarget, aws_opts(lab_env, "blocks-%s" % uuid.uuid4().hex[:6]), path, tmp_path) as (target, journal):
        sent = sorted(i for i, d in journal.done.items() if d)
        assert len(sent) == nonzero_units(ref, EBS_BLOCK)
        target.finish(journal)
        del journal.done[sent[-1]]
        with pytest.raises(UploadError) as err:
            target._check_blocks(journal)  # pylint: disable=protected-access
    assert "holds an unsent block %d" % sent[-1] in str(err.value) and "overwrite: always" in str(err.value)

"""Issue 18: what each target sends is the image's non-zero bytes (plus the format's own overhead and at most 1 %),
and what the target holds afterwards is checked against what was sent.

- One image whose allocated blocks are mostly zeros (a fixed VHD: every byte allocated) goes to each target with
  `ips_upload` run as Ansible runs it (its own process, no playbook): `bytes_sent` stays within the bound at the
  target's granularity (Azure 512-byte sectors + the footer, EBS 512 KiB blocks, GCP the sparse map's 512-byte runs
  + the gzip/tar head and tail), and the target reads back byte-exact against `qemu-img convert -O raw` (for GCP the
  archive is read the way the GCE plane reads it: gzip, then the sparse tar member disk.raw).
- After an EBS snapshot completed, its block list is compared with the blocks sent (both ways).
- A GCP upload whose image creation failed (a lab fault on images.insert) after its parts were composed and deleted is
  run again: it goes straight to the image from the composed object (its size and crc32c checked again), re-sending
  no part; when the object is gone or holds other bytes, it starts afresh and says so in a warning.
- A part changed in the bucket between its upload and the compose is caught: the GCP target's own steps are driven
  in-process against the lab (transfer, then one part object overwritten in the GCS emulator, then finish) and the
  composed object's crc32c, which the emulator computes over what it holds, no longer matches the one combined from
  what was sent.
"""

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


def test_a_part_changed_in_the_bucket_is_caught_by_the_composed_crc32c(lab, lab_env, tmp_path, zero_heavy):
    from ansible_collections.citrix_community.ips.plugins.module_utils._disk import open_image
    from ansible_collections.citrix_community.ips.plugins.module_utils._sources import LocalFileSource
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.base import fingerprint
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.gcp import GcpTarget
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.journal import Journal
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.pipeline import UploadError
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.progress import Progress
    path, _ref = zero_heavy
    bucket = ensure_bucket(lab_env)
    name = "crc-%s" % uuid.uuid4().hex[:6]
    source = LocalFileSource(str(path))
    try:
        image = open_image(source)
        target = GcpTarget(gcp_opts(lab_env, name), image, fingerprint(image.identity), tries=2)
        journal = Journal(str(tmp_path), target.key(), image.identity, target.unit_size)
        target.start(journal)
        target.transfer(journal, Progress(None, total=0, target="gcp"), 2)
        part = bucket.blob(target._part_name(0))  # pylint: disable=protected-access
        held = bytearray(part.download_as_bytes())
        held[len(held) // 2] ^= 0x01  # one bit, the length unchanged: only a content check can see it
        part.upload_from_string(bytes(held))
        with pytest.raises(UploadError) as err:
            target.finish(journal)
        journal.close()
    finally:
        source.close()
    msg = str(err.value)
    assert "gs://%s/%s.tar.gz holds other bytes than were sent" % (bucket.name, name) in msg and "crc32c" in msg
    assert "overwrite: always" in msg
    assert target.exists() is None, "an image was made from the changed archive"


def test_ebs_block_list_after_completion_is_compared_with_the_blocks_sent(lab, lab_env, tmp_path, zero_heavy):
    """The AWS target's own steps in-process against the EBS front (moto behind it): after the snapshot completed, the
    block list the front answers (ListSnapshotBlocks) is compared with the journal's blocks. The lab cannot lose a
    block it acknowledged (its CompleteSnapshot checks the count and the aggregate first), so the difference is made
    on the journal's side: one block more than was sent, then one block fewer."""
    from ansible_collections.citrix_community.ips.plugins.module_utils._disk import open_image
    from ansible_collections.citrix_community.ips.plugins.module_utils._sources import LocalFileSource
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.aws import AwsTarget
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.base import fingerprint
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.journal import Journal
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.pipeline import UploadError, run_units
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.plan import Plan
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.progress import Progress
    path, ref = zero_heavy
    name = "blocks-%s" % uuid.uuid4().hex[:6]
    source = LocalFileSource(str(path))
    try:
        image = open_image(source)
        target = AwsTarget(aws_opts(lab_env, name), image, fingerprint(image.identity), tries=2)
        journal = Journal(str(tmp_path), target.key(), image.identity, target.unit_size)
        target.start(journal)
        run_units(image, Plan(image, target.unit_size), target, journal, Progress(None, total=0, target="aws"), concurrency=4)
        target.finish(journal)  # completes, lists the blocks: they match
        sent = sorted(i for i, d in journal.done.items() if d)
        assert len(sent) == nonzero_units(ref, EBS_BLOCK) and 250 not in sent
        journal.done[250] = "00" * 32  # the journal says block 250 went; the snapshot does not hold it
        with pytest.raises(UploadError) as err:
            target._check_blocks(journal)  # pylint: disable=protected-access
        assert "lacks block 250 (bytes %d to %d)" % (250 * EBS_BLOCK, 251 * EBS_BLOCK) in str(err.value)
        del journal.done[250]
        del journal.done[sent[-1]]  # the snapshot holds a block the journal never sent
        with pytest.raises(UploadError) as err:
            target._check_blocks(journal)  # pylint: disable=protected-access
        assert "holds an unsent block %d" % sent[-1] in str(err.value) and "overwrite: always" in str(err.value)
        journal.close()
    finally:
        source.close()

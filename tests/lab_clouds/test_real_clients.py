"""aws-cli v1 (lab/.venv-awscli, made by `make setup`), a client the collection does not share code with, drives the
EBS direct front and EC2 with every call the collection's AWS target makes (StartSnapshot, PutSnapshotBlock,
CompleteSnapshot, DescribeSnapshots, CreateTags, CreateVolume, DescribeVolumes, DeleteSnapshot) and the read-back
calls (ListSnapshotBlocks, GetSnapshotBlock, ListChangedBlocks), each answer asserted as the AWS documentation
gives it (docs.aws.amazon.com/ebs/latest/APIReference/API_<Operation>.html, and the EC2 API reference)."""

import base64
import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
AWS = REPO / "lab" / ".venv-awscli" / "bin" / "aws"
BLOCK = 524288

pytestmark = [pytest.mark.timeout(180),
              pytest.mark.skipif(not AWS.exists(), reason="aws-cli is installed by `make setup` (lab/.venv-awscli)")]


@pytest.fixture(scope="module")
def aws(cloud_lab, tmp_path_factory):
    home = tmp_path_factory.mktemp("aws-home")
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("AWS_") and "PROXY" not in k.upper())
    env.update(HOME=str(home), AWS_ACCESS_KEY_ID=cloud_lab.env["IPS_LAB_AWS_ACCESS_KEY_ID"],
               AWS_SECRET_ACCESS_KEY=cloud_lab.env["IPS_LAB_AWS_SECRET_ACCESS_KEY"],  # the lab's key: every signature is checked
               AWS_DEFAULT_REGION="us-east-1", AWS_MAX_ATTEMPTS="1", NO_PROXY="127.0.0.1,localhost")
    # EC2 through the EBS front too (what ec2.<region>.amazonaws.com is through the real-host proxy): moto behind it
    endpoints = {"ebs": cloud_lab.env["IPS_LAB_EBS_URL"], "ec2": cloud_lab.env["IPS_LAB_EBS_URL"]}

    def run(service, *args, expect_ok=True, sign=True):
        argv = [str(AWS), "--endpoint-url", endpoints[service], "--output", "json", service] + list(args)
        if not sign:
            argv.insert(1, "--no-sign-request")
        done = subprocess.run(argv, env=env, cwd=str(home), capture_output=True, text=True, timeout=120, check=False)
        if expect_ok:
            assert done.returncode == 0, done.stderr
            return json.loads(done.stdout) if done.stdout.strip() else {}
        assert done.returncode != 0, done.stdout
        return done.stderr

    run.home = home
    return run


def b64sha256(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def put_block(aws, snapshot_id, index, data, checksum=None):
    path = aws.home / ("block-%d.bin" % index)
    path.write_bytes(data)
    return aws("ebs", "put-snapshot-block", "--snapshot-id", snapshot_id, "--block-index", str(index), "--block-data",
               str(path), "--data-length", str(len(data)), "--checksum", checksum or b64sha256(data),
               "--checksum-algorithm", "SHA256", expect_ok=checksum is None)


def test_every_call_of_the_aws_target_and_the_read_back(aws):
    started = aws("ebs", "start-snapshot", "--volume-size", "1", "--timeout", "60", "--client-token", os.urandom(8).hex(),
                  "--tags", "Key=Name,Value=aws-cli")
    # API_StartSnapshot: Status pending, BlockSize 524288, VolumeSize as asked
    assert started["Status"] == "pending" and started["BlockSize"] == BLOCK and started["VolumeSize"] == 1
    sid = started["SnapshotId"]
    blocks = {0: b"\x11" * BLOCK, 5: os.urandom(BLOCK)}
    for index, data in blocks.items():
        answer = put_block(aws, sid, index, data)
        # API_PutSnapshotBlock: the Checksum and ChecksumAlgorithm of the stored block come back
        assert answer == {"Checksum": b64sha256(data), "ChecksumAlgorithm": "SHA256"}
    # a checksum that is not the data's: ValidationException (API_PutSnapshotBlock, Errors)
    assert "ValidationException" in put_block(aws, sid, 6, b"\x22" * BLOCK, checksum=b64sha256(b"other"))
    linear = base64.b64encode(hashlib.sha256(b"".join(hashlib.sha256(blocks[i]).digest() for i in sorted(blocks))).digest()).decode()
    done = aws("ebs", "complete-snapshot", "--snapshot-id", sid, "--changed-blocks-count", "2", "--checksum", linear,
               "--checksum-algorithm", "SHA256", "--checksum-aggregation-method", "LINEAR")
    assert done["Status"] in ("completed", "pending")  # API_CompleteSnapshot: Status pending | completed | error

    described = aws("ec2", "describe-snapshots", "--owner-ids", "self", "--snapshot-ids", sid)["Snapshots"]
    assert [s["SnapshotId"] for s in described] == [sid] and described[0]["VolumeSize"] == 1
    aws("ec2", "create-tags", "--resources", sid, "--tags", "Key=ips-upload-state,Value=complete")
    tagged = aws("ec2", "describe-snapshots", "--owner-ids", "self", "--filters", "Name=tag:ips-upload-state,Values=complete")["Snapshots"]
    assert sid in [s["SnapshotId"] for s in tagged]

    listed = aws("ebs", "list-snapshot-blocks", "--snapshot-id", sid)
    assert listed["BlockSize"] == BLOCK and [b["BlockIndex"] for b in listed["Blocks"]] == [0, 5]
    out = aws.home / "read.bin"
    got = aws("ebs", "get-snapshot-block", "--snapshot-id", sid, "--block-index", "5", "--block-token", listed["Blocks"][1]["BlockToken"],
              str(out))
    assert out.read_bytes() == blocks[5] and got["Checksum"] == b64sha256(blocks[5]) and got["DataLength"] == BLOCK
    # a token of another block: ValidationException (API_GetSnapshotBlock: the token of that very block)
    assert "ValidationException" in aws("ebs", "get-snapshot-block", "--snapshot-id", sid, "--block-index", "5", "--block-token",
                                        listed["Blocks"][0]["BlockToken"], str(out), expect_ok=False)
    changed = aws("ebs", "list-changed-blocks", "--second-snapshot-id", sid)  # FirstSnapshotId is optional
    assert [b["BlockIndex"] for b in changed["ChangedBlocks"]] == [0, 5]

    volume = aws("ec2", "create-volume", "--snapshot-id", sid, "--availability-zone", "us-east-1a")
    assert volume["SnapshotId"] == sid and volume["Size"] == 1
    volumes = aws("ec2", "describe-volumes", "--filters", "Name=snapshot-id,Values=%s" % sid)["Volumes"]
    assert [v["VolumeId"] for v in volumes] == [volume["VolumeId"]]
    aws("ec2", "delete-volume", "--volume-id", volume["VolumeId"])
    aws("ec2", "delete-snapshot", "--snapshot-id", sid)
    assert sid not in [s["SnapshotId"] for s in aws("ec2", "describe-snapshots", "--owner-ids", "self")["Snapshots"]]


def test_a_wrong_count_and_an_unsigned_call(aws):
    sid = aws("ebs", "start-snapshot", "--volume-size", "1", "--timeout", "60")["SnapshotId"]
    put_block(aws, sid, 1, b"\x01" * BLOCK)
    # API_CompleteSnapshot: ChangedBlocksCount must be the blocks written; the snapshot ends in error
    assert "ValidationException" in aws("ebs", "complete-snapshot", "--snapshot-id", sid, "--changed-blocks-count", "3", expect_ok=False)
    snapshot = aws("ec2", "describe-snapshots", "--snapshot-ids", sid)["Snapshots"][0]
    assert snapshot["State"] == "error"  # EC2 API_Snapshot: State pending | completed | error | ...
    assert {"Key": "ips-lab:ebs-status", "Value": "error"} in (snapshot.get("Tags") or [])
    # an unsigned call: 403 MissingAuthenticationTokenException (Common Errors, MissingAuthenticationToken)
    assert "MissingAuthenticationToken" in aws("ebs", "start-snapshot", "--volume-size", "1", sign=False, expect_ok=False)

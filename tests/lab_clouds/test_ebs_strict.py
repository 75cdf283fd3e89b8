"""What the EBS direct front used to pass through to moto, which crashed (an HTML 500 that clients retry) or let
pass, now answered as the EBS direct API documents it (docs.aws.amazon.com/ebs/latest/APIReference):

- every call is SigV4-signed: an unsigned one is 403 MissingAuthenticationTokenException
  ("Common Errors": MissingAuthenticationToken, "The request must contain ... a valid (registered) AWS access key ID");
- GetSnapshotBlock takes the BlockToken a listing gave for that very block (API_GetSnapshotBlock: "The block token
  of the block from which to get data ... obtain it from ListChangedBlocks or ListSnapshotBlocks"): a forged one,
  another block's, or one for a block never written is 400 ValidationException (reason INVALID_BLOCK_TOKEN);
- ListChangedBlocks needs only SecondSnapshotId (API_ListChangedBlocks: FirstSnapshotId "Required: No"): alone, it
  lists the second snapshot's blocks with their SecondBlockToken.
"""

import hashlib
import urllib.request

import pytest

# The module's fixture and helpers, reused
from test_ebs_front import BLOCK, aws, b64, put  # noqa: F401  # pylint: disable=unused-import

pytestmark = pytest.mark.timeout(120)


def completed(ebs, blocks):
    snapshot_id = ebs.start_snapshot(VolumeSize=1, Timeout=60)["SnapshotId"]
    for index, data in blocks.items():
        put(ebs, snapshot_id, index, data)
    ebs.complete_snapshot(SnapshotId=snapshot_id, ChangedBlocksCount=len(blocks))
    return snapshot_id


def test_an_unsigned_call_is_refused(cloud_lab):
    request = urllib.request.Request(cloud_lab.env["IPS_LAB_EBS_URL"] + "/snapshots", data=b'{"VolumeSize": 1}', method="POST",
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=30)
    assert caught.value.code == 403
    assert caught.value.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert b"Missing Authentication Token" in caught.value.read()


def test_block_tokens_are_checked(aws):  # noqa: F811 - the fixture
    ebs, _ec2 = aws
    data = {3: b"\x03" * BLOCK, 9: b"\x09" * BLOCK}
    snapshot_id = completed(ebs, data)
    listed = dict((b["BlockIndex"], b["BlockToken"]) for b in ebs.list_snapshot_blocks(SnapshotId=snapshot_id)["Blocks"])
    assert sorted(listed) == [3, 9]
    got = ebs.get_snapshot_block(SnapshotId=snapshot_id, BlockIndex=3, BlockToken=listed[3])
    assert got["BlockData"].read() == data[3] and got["Checksum"] == b64(hashlib.sha256(data[3]).digest())
    for index, token in ((3, "AAAAforged=="), (3, listed[9]), (5, listed[3]), (5, listed[3][:-4] + "AAA=")):
        with pytest.raises(ebs.exceptions.ValidationException) as caught:
            ebs.get_snapshot_block(SnapshotId=snapshot_id, BlockIndex=index, BlockToken=token)
        assert caught.value.response["Reason"] == "INVALID_BLOCK_TOKEN", caught.value.response
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_changed_blocks_with_only_the_second_snapshot(aws):  # noqa: F811 - the fixture
    ebs, _ec2 = aws
    first = completed(ebs, {1: b"\x01" * BLOCK, 2: b"\x02" * BLOCK})
    second = completed(ebs, {2: b"\x22" * BLOCK, 4: b"\x04" * BLOCK})
    alone = ebs.list_changed_blocks(SecondSnapshotId=second)["ChangedBlocks"]
    assert [b["BlockIndex"] for b in alone] == [2, 4] and all("FirstBlockToken" not in b for b in alone)
    got = ebs.get_snapshot_block(SnapshotId=second, BlockIndex=4, BlockToken=alone[1]["SecondBlockToken"])
    assert got["BlockData"].read() == b"\x04" * BLOCK
    both = ebs.list_changed_blocks(FirstSnapshotId=first, SecondSnapshotId=second)["ChangedBlocks"]
    assert [(b["BlockIndex"], "FirstBlockToken" in b, "SecondBlockToken" in b) for b in both] == [
        (1, True, False), (2, True, True), (4, False, True)]


def test_the_labs_own_key_is_signature_checked(cloud_lab):
    """A call signed with the lab's key (IPS_LAB_AWS_ACCESS_KEY_ID) must carry the right SigV4 signature: with
    another secret it is 403 SignatureDoesNotMatch ("Common Errors", SignatureDoesNotMatch), on EBS and on EC2."""
    import boto3
    from botocore.config import Config

    env = cloud_lab.env
    key = dict(region_name="us-east-1", aws_access_key_id=env["IPS_LAB_AWS_ACCESS_KEY_ID"], config=Config(retries={"max_attempts": 1}))
    ebs = boto3.client("ebs", endpoint_url=env["IPS_LAB_EBS_URL"], aws_secret_access_key=env["IPS_LAB_AWS_SECRET_ACCESS_KEY"], **key)
    ec2 = boto3.client("ec2", endpoint_url=env["IPS_LAB_EBS_URL"], aws_secret_access_key=env["IPS_LAB_AWS_SECRET_ACCESS_KEY"], **key)
    snapshot_id = completed(ebs, {0: b"\x05" * BLOCK})
    token = ebs.list_snapshot_blocks(SnapshotId=snapshot_id)["Blocks"][0]["BlockToken"]
    assert ebs.get_snapshot_block(SnapshotId=snapshot_id, BlockIndex=0, BlockToken=token)["BlockData"].read() == b"\x05" * BLOCK
    assert ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]["State"] == "completed"
    for client in (boto3.client("ebs", endpoint_url=env["IPS_LAB_EBS_URL"], aws_secret_access_key="not-the-secret", **key),
                   boto3.client("ec2", endpoint_url=env["IPS_LAB_EBS_URL"], aws_secret_access_key="not-the-secret", **key)):
        call = client.start_snapshot if client.meta.service_model.service_name == "ebs" else client.describe_snapshots
        with pytest.raises(client.exceptions.ClientError) as caught:
            call(VolumeSize=1) if call.__name__ == "start_snapshot" else call(SnapshotIds=[snapshot_id])
        assert caught.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

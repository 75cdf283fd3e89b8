"""The EBS direct front through boto3's `ebs` client (EC2 straight to moto): idempotent
StartSnapshot, 512 KiB blocks with SHA-256, the LINEAR aggregate at CompleteSnapshot, paging."""

import base64
import hashlib
import uuid

import pytest

BLOCK = 524288

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def aws(cloud_lab):
    import boto3

    keys = lab_keys(cloud_lab.env)
    return (boto3.client("ebs", endpoint_url=cloud_lab.env["IPS_LAB_EBS_URL"], **keys),
            boto3.client("ec2", endpoint_url=cloud_lab.env["IPS_LAB_MOTO_URL"], **keys))


def lab_keys(env, region="us-east-1"):
    """The lab's own long-term key: the only one (with its temporary key) its AWS fronts take."""
    return dict(region_name=region, aws_access_key_id=env["IPS_LAB_AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["IPS_LAB_AWS_SECRET_ACCESS_KEY"])


def b64(digest):
    return base64.b64encode(digest).decode("ascii")


def put(ebs, snapshot_id, index, data, checksum=None, length=None, algorithm="SHA256"):
    return ebs.put_snapshot_block(SnapshotId=snapshot_id, BlockIndex=index, BlockData=data, DataLength=len(data) if length is None else length,
                                  Checksum=checksum or b64(hashlib.sha256(data).digest()), ChecksumAlgorithm=algorithm)


def linear(blocks):
    """base64(SHA-256 of the raw 32-byte block digests in ascending block index)."""
    return b64(hashlib.sha256(b"".join(hashlib.sha256(blocks[i]).digest() for i in sorted(blocks))).digest())


def error_code(exc):
    return exc.value.response["Error"]["Code"]


def test_client_token_is_idempotent(aws):
    ebs, _ec2 = aws
    token = str(uuid.uuid4())
    first = ebs.start_snapshot(VolumeSize=1, ClientToken=token, Timeout=60, Tags=[{"Key": "ips-job", "Value": "t"}])
    again = ebs.start_snapshot(VolumeSize=1, ClientToken=token, Timeout=60, Tags=[{"Key": "ips-job", "Value": "t"}])
    assert first["SnapshotId"] == again["SnapshotId"] and first["Status"] == "pending" and first["BlockSize"] == BLOCK
    other = ebs.start_snapshot(VolumeSize=1, Timeout=60)
    assert other["SnapshotId"] != first["SnapshotId"]
    with pytest.raises(ebs.exceptions.ConflictException):
        ebs.start_snapshot(VolumeSize=2, ClientToken=token, Timeout=60)


def test_start_rules(aws):
    ebs, _ec2 = aws
    with pytest.raises(ebs.exceptions.ValidationException) as exc:
        ebs.start_snapshot(VolumeSize=70000)
    assert "VolumeSize" in str(exc.value)
    with pytest.raises(ebs.exceptions.ResourceNotFoundException):
        ebs.start_snapshot(VolumeSize=1, ParentSnapshotId="snap-0123456789abcdef0")


def test_blocks_and_complete(aws):
    ebs, ec2 = aws
    snapshot_id = ebs.start_snapshot(VolumeSize=1, Timeout=60)["SnapshotId"]
    blocks = {0: b"\x01" * BLOCK, 7: bytes(range(256)) * (BLOCK // 256), 2047: b"\xff" * BLOCK}
    for index, data in blocks.items():
        answer = put(ebs, snapshot_id, index, data)
        assert answer["Checksum"] == b64(hashlib.sha256(data).digest())
    put(ebs, snapshot_id, 7, blocks[7])  # a retried block counts once

    refused = [
        (dict(index=1, data=b"x" * 1000), "DataLength"),
        (dict(index=1, data=b"x" * (BLOCK + 512)), "DataLength"),
        (dict(index=1, data=b"x" * BLOCK, checksum=b64(b"\0" * 32)), "Checksum"),
        (dict(index=1, data=b"x" * BLOCK, algorithm="MD5"), "ChecksumAlgorithm"),
        (dict(index=2048, data=b"x" * BLOCK), "BlockIndex"),
    ]
    for kwargs, field in refused:
        with pytest.raises(ebs.exceptions.ValidationException) as exc:
            put(ebs, snapshot_id, **kwargs)
        assert field in str(exc.value), field
    with pytest.raises(ebs.exceptions.ResourceNotFoundException):
        put(ebs, "snap-0123456789abcdef0", 0, b"x" * BLOCK)
    with pytest.raises(ebs.exceptions.ValidationException):  # pending snapshots cannot be read
        ebs.list_snapshot_blocks(SnapshotId=snapshot_id)

    done = ebs.complete_snapshot(SnapshotId=snapshot_id, ChangedBlocksCount=3, Checksum=linear(blocks), ChecksumAlgorithm="SHA256",
                                 ChecksumAggregationMethod="LINEAR")
    assert done["Status"] == "completed"
    assert ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]["State"] == "completed"
    listed = ebs.list_snapshot_blocks(SnapshotId=snapshot_id)
    assert [b["BlockIndex"] for b in listed["Blocks"]] == [0, 7, 2047]
    token = listed["Blocks"][1]["BlockToken"]
    block = ebs.get_snapshot_block(SnapshotId=snapshot_id, BlockIndex=7, BlockToken=token)
    assert block["BlockData"].read() == blocks[7]
    with pytest.raises(ebs.exceptions.ValidationException):  # completed: no more blocks
        put(ebs, snapshot_id, 3, b"x" * BLOCK)


@pytest.mark.parametrize("how", ["checksum", "count"])
def test_wrong_completion_puts_the_snapshot_in_error(aws, how):
    ebs, ec2 = aws
    snapshot_id = ebs.start_snapshot(VolumeSize=1, Timeout=60)["SnapshotId"]
    blocks = {3: b"\x03" * BLOCK, 1: b"\x01" * BLOCK}
    for index, data in blocks.items():
        put(ebs, snapshot_id, index, data)
    if how == "checksum":
        # Block order matters: digests concatenated in the order written (3, 1) are not the LINEAR aggregate.
        unordered = b64(hashlib.sha256(b"".join(hashlib.sha256(d).digest() for d in blocks.values())).digest())
        kwargs = dict(ChangedBlocksCount=2, Checksum=unordered, ChecksumAlgorithm="SHA256", ChecksumAggregationMethod="LINEAR")
    else:
        kwargs = dict(ChangedBlocksCount=3)
    with pytest.raises(ebs.exceptions.ValidationException) as exc:
        ebs.complete_snapshot(SnapshotId=snapshot_id, **kwargs)
    assert ("Checksum" if how == "checksum" else "ChangedBlocksCount") in str(exc.value)
    with pytest.raises(ebs.exceptions.ValidationException) as exc:
        put(ebs, snapshot_id, 0, b"\0" * BLOCK)
    assert "error" in str(exc.value)
    tags = ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0].get("Tags", [])
    assert {"Key": "ips-lab:ebs-status", "Value": "error"} in tags


def test_list_snapshot_blocks_pages(aws):
    ebs, _ec2 = aws
    snapshot_id = ebs.start_snapshot(VolumeSize=1, Timeout=60)["SnapshotId"]
    data = b"\x05" * BLOCK
    for index in range(0, 2 * 205, 2):
        put(ebs, snapshot_id, index, data)
    ebs.complete_snapshot(SnapshotId=snapshot_id, ChangedBlocksCount=205)
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"NextToken": token} if token else {}
        page = ebs.list_snapshot_blocks(SnapshotId=snapshot_id, MaxResults=100, **kwargs)
        assert len(page["Blocks"]) <= 100
        seen += [b["BlockIndex"] for b in page["Blocks"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 3 and seen == list(range(0, 410, 2))
    tail = ebs.list_snapshot_blocks(SnapshotId=snapshot_id, MaxResults=100, StartingBlockIndex=401)
    assert [b["BlockIndex"] for b in tail["Blocks"]] == [402, 404, 406, 408] and "NextToken" not in tail
    with pytest.raises(ebs.exceptions.ValidationException):
        ebs.list_snapshot_blocks(SnapshotId=snapshot_id, MaxResults=100, NextToken="Ym9ndXM=")


def test_a_temporary_key_needs_its_session_token_and_the_signer_is_recorded(cloud_lab):
    import boto3
    from ips_lab.common.admin import LabAdmin

    admin = LabAdmin.from_env(cloud_lab.env, "ebs")
    admin.clear_requests()
    env = cloud_lab.env
    url, key, token = env["IPS_LAB_EBS_URL"], env["IPS_LAB_AWS_SESSION_ACCESS_KEY_ID"], env["IPS_LAB_AWS_SESSION_TOKEN"]
    temporary = dict(region_name="eu-west-1", aws_access_key_id=key, aws_secret_access_key=env["IPS_LAB_AWS_SESSION_SECRET_ACCESS_KEY"])
    bare = boto3.client("ebs", endpoint_url=url, **temporary)
    with pytest.raises(bare.exceptions.ClientError) as exc:
        bare.start_snapshot(VolumeSize=1, Timeout=60)
    assert error_code(exc) == "UnrecognizedClientException"
    with_token = boto3.client("ebs", endpoint_url=url, aws_session_token=token, **temporary)
    assert with_token.start_snapshot(VolumeSize=1, Timeout=60)["Status"] == "pending"
    seen = [(r["aws_key"], r["aws_region"], r["aws_token_sha256"], r["status"]) for r in admin.requests() if r["path"] == "/snapshots"]
    assert seen == [(key, "eu-west-1", None, 403), (key, "eu-west-1", hashlib.sha256(token.encode()).hexdigest(), 201)]
    assert token not in str(admin.requests())


def test_a_lost_block_is_acknowledged_and_counted_but_never_listed(cloud_lab, aws):
    """Fault action `lose` (the EBS front's own): PutSnapshotBlock answers as EBS does and CompleteSnapshot counts the
    block (count and LINEAR aggregate), but the completed snapshot does not hold it. The other planes refuse `lose`."""
    from ips_lab.common.admin import LabAdmin, LabAdminError
    ebs, _ec2 = aws
    admin = LabAdmin.from_env(cloud_lab.env, "ebs")
    snapshot_id = ebs.start_snapshot(VolumeSize=1, Timeout=60)["SnapshotId"]
    admin.add_fault(r"^/snapshots/%s/blocks/7$" % snapshot_id, action="lose", method="PUT")
    blocks = {0: b"\x01" * BLOCK, 7: b"\x07" * BLOCK}
    for index, data in blocks.items():
        assert put(ebs, snapshot_id, index, data)["Checksum"] == b64(hashlib.sha256(data).digest())
    assert admin.faults() == []
    done = ebs.complete_snapshot(SnapshotId=snapshot_id, ChangedBlocksCount=2, Checksum=linear(blocks), ChecksumAlgorithm="SHA256",
                                 ChecksumAggregationMethod="LINEAR")
    assert done["Status"] == "completed"
    assert [b["BlockIndex"] for b in ebs.list_snapshot_blocks(SnapshotId=snapshot_id)["Blocks"]] == [0]
    with pytest.raises(LabAdminError) as exc:
        LabAdmin.from_env(cloud_lab.env, "azure").add_fault("/", action="lose")
    assert exc.value.status == 400 and "action" in str(exc.value.body)

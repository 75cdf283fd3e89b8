"""What the EBS direct front used to pass through to moto, which crashed (an HTML 500 that clients retry) or let
pass, now answered as the EBS direct API documents it (docs.aws.amazon.com/ebs/latest/APIReference):

- every call is SigV4-signed: an unsigned one is 403 MissingAuthenticationTokenException
  ("Common Errors": MissingAuthenticationToken, "The request must contain ... a valid (registered) AWS access key ID"),
  and signed with a key the lab issued, with the right signature (the last two tests);
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


def refusal(call, *args, **kwargs):
    """(HTTP status, error code) of a call the front must refuse."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response["ResponseMetadata"]["HTTPStatusCode"], caught.value.response["Error"]["Code"]


def clients(env, services, url, **keys):
    import boto3
    from botocore.config import Config

    return [boto3.client(s, endpoint_url=url, region_name="us-east-1", config=Config(retries={"max_attempts": 1}), **keys) for s in services]


def test_only_the_labs_keys_with_the_right_signature_are_taken(cloud_lab):
    """AWS takes a call only from a key it issued, signed with that key's secret; the EBS front (EBS direct and EC2) does
    the same with the lab's keys (IPS_LAB_AWS_ACCESS_KEY_ID, and the temporary IPS_LAB_AWS_SESSION_* with its token):
    - EBS direct (EBS User Guide, "Error retries for EBS direct APIs"; the JSON protocol's common errors): a key it does
      not know is 403 UnrecognizedClientException ("The security token included in the request is invalid"), a wrong
      signature 403 InvalidSignatureException;
    - EC2 (EC2 API Reference, "Error codes for the Amazon EC2 API", common client errors): AuthFailure ("The provided
      credentials could not be validated", 401) and SignatureDoesNotMatch (403)."""
    env = cloud_lab.env
    url = env["IPS_LAB_EBS_URL"]
    lab = dict(aws_access_key_id=env["IPS_LAB_AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["IPS_LAB_AWS_SECRET_ACCESS_KEY"])
    ebs, ec2 = clients(env, ("ebs", "ec2"), url, **lab)
    snapshot_id = completed(ebs, {0: b"\x05" * BLOCK})
    token = ebs.list_snapshot_blocks(SnapshotId=snapshot_id)["Blocks"][0]["BlockToken"]
    assert ebs.get_snapshot_block(SnapshotId=snapshot_id, BlockIndex=0, BlockToken=token)["BlockData"].read() == b"\x05" * BLOCK
    assert ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]["State"] == "completed"
    session = dict(aws_access_key_id=env["IPS_LAB_AWS_SESSION_ACCESS_KEY_ID"], aws_secret_access_key=env["IPS_LAB_AWS_SESSION_SECRET_ACCESS_KEY"])
    ebs_tmp, ec2_tmp = clients(env, ("ebs", "ec2"), url, aws_session_token=env["IPS_LAB_AWS_SESSION_TOKEN"], **session)
    assert ebs_tmp.start_snapshot(VolumeSize=1, Timeout=60)["Status"] == "pending"
    assert ec2_tmp.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]["SnapshotId"] == snapshot_id

    made_up = dict(aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    wrong_secret = dict(lab, aws_secret_access_key="not-the-secret")
    wrong_token = dict(session, aws_session_token="not-the-token")
    for keys, ebs_answer, ec2_answer in ((made_up, (403, "UnrecognizedClientException"), (401, "AuthFailure")),
                                         (wrong_token, (403, "UnrecognizedClientException"), (401, "AuthFailure")),
                                         (wrong_secret, (403, "InvalidSignatureException"), (403, "SignatureDoesNotMatch"))):
        bad_ebs, bad_ec2 = clients(env, ("ebs", "ec2"), url, **keys)
        assert refusal(bad_ebs.start_snapshot, VolumeSize=1) == ebs_answer, keys["aws_access_key_id"]
        assert refusal(bad_ebs.get_snapshot_block, SnapshotId=snapshot_id, BlockIndex=0, BlockToken=token) == ebs_answer
        assert refusal(bad_ec2.describe_snapshots, SnapshotIds=[snapshot_id]) == ec2_answer, keys["aws_access_key_id"]


def test_iam_and_sts_take_only_the_labs_keys(cloud_lab):
    """The IAM front (IAM and STS, what the preflight calls) as IAM and STS answer ("Common Errors" of both API
    references): a key they did not issue is 403 InvalidClientTokenId ("The security token included in the request is
    invalid"), a wrong signature 403 SignatureDoesNotMatch, no signature 403 MissingAuthenticationToken."""
    import urllib.error
    import urllib.request

    env = cloud_lab.env
    url = env["IPS_LAB_IAM_URL"]
    lab = dict(aws_access_key_id=env["IPS_LAB_AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["IPS_LAB_AWS_SECRET_ACCESS_KEY"])
    iam, sts = clients(env, ("iam", "sts"), url, **lab)
    arn = env["IPS_LAB_AWS_PRINCIPAL_ARN"]
    assert iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["ebs:StartSnapshot"])["EvaluationResults"][0]["EvalDecision"] == "allowed"
    assert sts.get_caller_identity()["Account"] == "123456789012"
    for keys, answer in ((dict(aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x"), (403, "InvalidClientTokenId")),
                         (dict(lab, aws_secret_access_key="not-the-secret"), (403, "SignatureDoesNotMatch"))):
        bad_iam, bad_sts = clients(env, ("iam", "sts"), url, **keys)
        assert refusal(bad_iam.simulate_principal_policy, PolicySourceArn=arn, ActionNames=["ebs:StartSnapshot"]) == answer
        assert refusal(bad_sts.get_caller_identity) == answer
    request = urllib.request.Request(url + "/", data=b"Action=GetCallerIdentity&Version=2011-06-15", method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=30)
    assert caught.value.code == 403 and b"<Code>MissingAuthenticationToken</Code>" in caught.value.read()

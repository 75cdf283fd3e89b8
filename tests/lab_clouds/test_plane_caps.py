"""The clouds' per-object caps in the planes (lab/ips_lab/planes/caps.py), off by default and switched on through
`PUT /_lab/config`: each is driven as fast as a client can go for a short window with a small cap, and what the
plane let through is measured against cap x window (plus the bucket's one second), the refusals checked for the
service's own error shape:

- Azure disk upload (disk_upload_cap): 503 ServerBusy, x-ms-error-code, Retry-After (learn.microsoft.com "Scalability
  and performance targets for standard storage accounts": 503 Server Busy when over a limit);
- EBS PutSnapshotBlock per snapshot (snapshot_block_cap): RequestThrottledException, HTTP 400, Reason
  RESOURCE_LEVEL_THROTTLE (botocore's ebs service model);
- Cloud Storage writes per object name (object_write_cap): 429 rateLimitExceeded (cloud.google.com/storage/quotas,
  "one write per second" to the same object name).
"""

import base64
import hashlib
import time
import uuid

import pytest
import requests

from ips_lab.common.admin import LabAdmin
from ips_lab.planes import caps

MIB = 1024 * 1024
BLOCK = 524288
WINDOW = 2.0

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def admins(cloud_lab):
    found = dict((part, LabAdmin.from_env(cloud_lab.env, part)) for part in ("azure", "ebs", "gce"))
    yield found
    for admin in found.values():
        admin.reset()


def drive(send, seconds=WINDOW, pause=0.02):
    """send() as fast as it goes for `seconds` (a short pause after a refusal): [(time, admitted, answer)]."""
    seen = []
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        answer = send()
        admitted = answer.status_code < 300
        seen.append((time.monotonic() - start, admitted, answer))
        if not admitted:
            time.sleep(pause)
    return seen


def check_rate(seen, cost, rate, seconds=WINDOW):
    """What got in over the window is the bucket's second plus rate x window (within one request), and after the
    first refusal the plane let through the rate, not more and not much less."""
    admitted = sum(cost for _t, ok, _a in seen if ok)
    assert rate * seconds <= admitted <= rate * (seconds + 1) + cost, (admitted, rate)
    first = min(t for t, ok, _a in seen if not ok)
    after = sum(cost for t, ok, _a in seen if ok and t > first)
    assert 0.7 * rate * (seconds - first) - cost <= after <= rate * (seconds - first) + cost, (after, first, rate)


def test_the_bucket_and_the_tiers():
    now = [0.0]
    buckets = caps.Buckets(clock=lambda: now[0])
    assert buckets.take("d", 10.0, 10) == 0  # a full second's worth at once
    assert buckets.take("d", 10.0, 4) == pytest.approx(0.4)  # then it refills at the rate
    now[0] += 0.4
    assert buckets.take("d", 10.0, 4) == 0
    assert buckets.take("other", 10.0, 4) == 0  # one bucket per object
    assert buckets.take("big", 2.0, 8) == 0  # a request larger than a second's worth still gets in alone
    assert buckets.take("big", 2.0, 8) == pytest.approx(4.0)
    assert caps.azure_tier(32 * 1024 ** 3 + 512) == ("S6", 60 * 1000 ** 2)  # the footer puts 32 GiB into the next size
    assert caps.azure_tier(256 * 1024 ** 3) == ("S15", 60 * 1000 ** 2)
    assert caps.azure_tier(8000 * 1024 ** 3) == ("S60", 300 * 1000 ** 2)
    assert caps.azure_tier(20000 * 1024 ** 3) == ("S80", 500 * 1000 ** 2)
    assert caps.retry_after(0.01) == "1" and caps.retry_after(2.2) == "3"


def test_caps_are_off_by_default_and_checked(admins):
    assert admins["azure"].config()["disk_upload_cap"] == 0
    assert admins["ebs"].config()["snapshot_block_cap"] == 0
    assert admins["gce"].config()["object_write_cap"] == 0
    for part, key in (("azure", "disk_upload_cap"), ("ebs", "snapshot_block_cap"), ("gce", "object_write_cap")):
        with pytest.raises(Exception) as refused:
            admins[part].set_config(**{key: "fast"})
        assert refused.value.status == 400 and key in str(refused.value)


def test_azure_disk_upload_cap(cloud_lab, admins):
    from azure.identity import ClientSecretCredential
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.compute.models import CreationData, Disk, GrantAccessData

    env = cloud_lab.env
    ca = env["IPS_LAB_AZURE_CA_PATH"]
    credential = ClientSecretCredential(env["IPS_LAB_AZURE_TENANT_ID"], env["IPS_LAB_AZURE_CLIENT_ID"], env["IPS_LAB_AZURE_CLIENT_SECRET"],
                                        authority=env["IPS_LAB_AZURE_AUTHORITY"], disable_instance_discovery=True, connection_verify=ca)
    compute = ComputeManagementClient(credential, env["IPS_LAB_AZURE_SUBSCRIPTION_ID"], base_url=env["IPS_LAB_AZURE_URL"],
                                      credential_scopes=["https://management.azure.com/.default"], connection_verify=ca)
    rg, name, size = env["IPS_LAB_AZURE_RESOURCE_GROUP"], "caps-%s" % uuid.uuid4().hex[:6], 64 * MIB + 512
    compute.disks.begin_create_or_update(rg, name, Disk(location=env["IPS_LAB_AZURE_LOCATION"], creation_data=CreationData(
        create_option="Upload", upload_size_bytes=size))).result()
    sas = compute.disks.begin_grant_access(rg, name, GrantAccessData(access="Write", duration_in_seconds=3600)).result().access_sas
    rate = 4 * MIB
    admins["azure"].set_config(disk_upload_cap=rate)
    admins["azure"].clear_requests()
    page = bytes(range(256)) * (MIB // 256)
    session = requests.Session()
    offset = [0]

    def put():
        start = offset[0] % (64 * MIB)
        answer = session.put(sas + "&comp=page", data=page, verify=ca, timeout=30, headers={
            "x-ms-page-write": "update", "x-ms-range": "bytes=%d-%d" % (start, start + MIB - 1), "x-ms-version": "2021-08-06"})
        if answer.status_code < 300:
            offset[0] += MIB
        return answer

    try:
        seen = drive(put)
        check_rate(seen, MIB, rate)
        refused = [a for _t, ok, a in seen if not ok]
        assert refused and all(a.status_code == 503 for a in refused)
        busy = refused[0]
        assert busy.headers["x-ms-error-code"] == "ServerBusy" and "<Code>ServerBusy</Code>" in busy.text
        assert 1 <= int(busy.headers["Retry-After"]) <= 2  # whole seconds, the time until a page fits again
        logged = [r for r in admins["azure"].requests() if r["method"] == "PUT" and r["path"].startswith("/md-impexp/")]
        assert sum(1 for r in logged if r["status"] == 503) == len(refused)
        # another disk has a bucket of its own; with the cap off nothing is refused
        admins["azure"].set_config(disk_upload_cap=0)
        assert all(ok for _t, ok, _a in drive(put, seconds=0.5))
    finally:
        admins["azure"].set_config(disk_upload_cap=0)
        session.close()


def test_ebs_block_cap(cloud_lab, admins):
    import boto3
    from botocore.config import Config

    ebs = boto3.client("ebs", endpoint_url=cloud_lab.env["IPS_LAB_EBS_URL"], region_name="us-east-1",
                       aws_access_key_id=cloud_lab.env["IPS_LAB_AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=cloud_lab.env["IPS_LAB_AWS_SECRET_ACCESS_KEY"], config=Config(retries={"total_max_attempts": 1}))
    snapshot_id = ebs.start_snapshot(VolumeSize=1, Timeout=60)["SnapshotId"]
    data = b"\x07" * BLOCK
    checksum = base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
    rate = 3  # blocks per second: below what one client reaches through the front and moto on a loaded machine
    admins["ebs"].set_config(snapshot_block_cap=rate)
    index = [0]

    class Answer(object):
        def __init__(self, status, error=None):
            self.status_code, self.error = status, error

    def put():
        try:
            ebs.put_snapshot_block(SnapshotId=snapshot_id, BlockIndex=index[0] % 2048, BlockData=data, DataLength=BLOCK, Checksum=checksum,
                                   ChecksumAlgorithm="SHA256")
        except ebs.exceptions.RequestThrottledException as exc:
            return Answer(exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response)
        index[0] += 1
        return Answer(201)

    try:
        seen = drive(put)
        check_rate(seen, 1, rate)
        refused = [a for _t, ok, a in seen if not ok]
        assert refused and all(a.status_code == 400 for a in refused)
        assert refused[0].error["Reason"] == "RESOURCE_LEVEL_THROTTLE"
        assert "throttling limit for the snapshot" in refused[0].error["Message"]
        # the cap is per snapshot: another one starts with a full bucket
        other = ebs.start_snapshot(VolumeSize=1, Timeout=60)["SnapshotId"]
        ebs.put_snapshot_block(SnapshotId=other, BlockIndex=0, BlockData=data, DataLength=BLOCK, Checksum=checksum, ChecksumAlgorithm="SHA256")
    finally:
        admins["ebs"].set_config(snapshot_block_cap=0)


def test_gcs_object_write_cap(cloud_lab, admins):
    env = cloud_lab.env
    auth = {"Authorization": "Bearer " + env["IPS_LAB_GCP_TOKEN"]}
    bucket = "ips-lab-caps"
    created = requests.post("%s/storage/v1/b" % env["IPS_LAB_GCS_URL"], params={"project": "p"}, json={"name": bucket}, timeout=30)
    assert created.status_code in (200, 409), created.text

    def write(name):
        return requests.post("%s/upload/storage/v1/b/%s/o" % (env["IPS_LAB_GCE_URL"], bucket), params={"uploadType": "media", "name": name},
                             data=b"x" * 1024, headers=auth, timeout=30)

    admins["gce"].set_config(object_write_cap="real")
    try:
        name = "same-%s" % uuid.uuid4().hex[:6]
        seen = drive(lambda: write(name), seconds=WINDOW, pause=0.1)
        check_rate(seen, 1, caps.GCS_WRITES_PER_OBJECT_PER_SECOND)
        limited = [a for _t, ok, a in seen if not ok][0]
        assert limited.status_code == 429
        error = limited.json()["error"]
        assert error["code"] == 429 and error["errors"][0]["reason"] == "rateLimitExceeded" and name in error["message"]
        assert write("other-%s" % uuid.uuid4().hex[:6]).status_code == 200  # another name: a bucket of its own
        assert requests.get("%s/storage/v1/b/%s/o/%s" % (env["IPS_LAB_GCE_URL"], bucket, name), headers=auth,
                            timeout=30).status_code == 200  # reads are not capped
    finally:
        admins["gce"].set_config(object_write_cap=0)

"""A restarted plane loses nothing: disks, grants, snapshots' block digests and images live in
each part's sqlite; `ips-lab up` brings the stopped parts back with the same secrets and ports."""

import base64
import hashlib
import json
import os
import signal
import time

import pytest

BLOCK = 524288

pytestmark = pytest.mark.timeout(120)


def stop(run_dir, part):
    record = json.loads((run_dir / "pids" / ("%s.json" % part)).read_text())
    os.kill(record["pid"], signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/stat" % record["pid"]) as handle:
                if handle.read().split(") ", 1)[1][0] in "ZX":
                    break
        except OSError:
            break
        time.sleep(0.05)
    return record


def test_planes_survive_a_restart(cloud_lab):
    import boto3
    from azure.identity import ClientSecretCredential
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.compute.models import CreationData, Disk, GrantAccessData

    env = cloud_lab.env
    ca = env["IPS_LAB_AZURE_CA_PATH"]
    credential = ClientSecretCredential(env["IPS_LAB_AZURE_TENANT_ID"], env["IPS_LAB_AZURE_CLIENT_ID"], env["IPS_LAB_AZURE_CLIENT_SECRET"],
                                        authority=env["IPS_LAB_AZURE_AUTHORITY"], disable_instance_discovery=True, connection_verify=ca)
    compute = ComputeManagementClient(credential, env["IPS_LAB_AZURE_SUBSCRIPTION_ID"], base_url=env["IPS_LAB_AZURE_URL"],
                                      credential_scopes=["https://management.azure.com/.default"], connection_verify=ca)
    rg = env["IPS_LAB_AZURE_RESOURCE_GROUP"]
    compute.disks.begin_create_or_update(rg, "survivor", Disk(location=env["IPS_LAB_AZURE_LOCATION"], creation_data=CreationData(
        create_option="Upload", upload_size_bytes=20 * 1024 * 1024 + 512))).result()
    compute.disks.begin_grant_access(rg, "survivor", GrantAccessData(access="Write", duration_in_seconds=600)).result()

    ebs = boto3.client("ebs", endpoint_url=env["IPS_LAB_EBS_URL"], region_name="us-east-1", aws_access_key_id=env["IPS_LAB_AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=env["IPS_LAB_AWS_SECRET_ACCESS_KEY"])
    snapshot_id = ebs.start_snapshot(VolumeSize=1, Timeout=60)["SnapshotId"]
    data = b"\x09" * BLOCK
    digest = hashlib.sha256(data).digest()
    ebs.put_snapshot_block(SnapshotId=snapshot_id, BlockIndex=5, BlockData=data, DataLength=BLOCK,
                           Checksum=base64.b64encode(digest).decode(), ChecksumAlgorithm="SHA256")

    before = dict((part, stop(cloud_lab.run_dir, part)) for part in ("azure", "ebs", "gce"))
    again = cloud_lab.up()
    assert again.returncode == 0, again.stdout + again.stderr
    for part, record in before.items():
        now = json.loads((cloud_lab.run_dir / "pids" / ("%s.json" % part)).read_text())
        assert now["pid"] != record["pid"] and now["port"] == record["port"] and now["values"] == record["values"], part

    # The token issued before the restart still works; the disk is still in its upload.
    assert compute.disks.get(rg, "survivor").disk_state == "ActiveUpload"
    aggregate = base64.b64encode(hashlib.sha256(digest).digest()).decode()
    done = ebs.complete_snapshot(SnapshotId=snapshot_id, ChangedBlocksCount=1, Checksum=aggregate, ChecksumAlgorithm="SHA256",
                                 ChecksumAggregationMethod="LINEAR")
    assert done["Status"] == "completed"

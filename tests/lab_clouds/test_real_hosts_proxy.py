"""The real-host proxy (lab/ips_lab/realhosts), in process, in front of this session's cloud lab: the clouds' SDKs
with no endpoint, only HTTPS_PROXY and the proxy's CA, reach the stand-ins at the real host names; the Azure
plane's disk SAS then carries a real-shaped md- host (what AzCopy keys on to treat it as a managed disk, see
AzCopy's ste/sender-pageBlob.go); and the proxy refuses what it does not play."""

import socket
import uuid
import ssl
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "lab"))

from ips_lab.realhosts import proxy as real_proxy  # noqa: E402
from ips_lab.realhosts.hosts import part_for  # noqa: E402

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def proxied(cloud_lab, tmp_path_factory):
    env = cloud_lab.env
    upstreams = {"azure": {"url": env["IPS_LAB_AZURE_URL"], "ca": env["IPS_LAB_AZURE_CA_PATH"]},
                 "ebs": {"url": env["IPS_LAB_EBS_URL"], "ca": None}, "moto": {"url": env["IPS_LAB_MOTO_URL"], "ca": None},
                 "iam": {"url": env["IPS_LAB_IAM_URL"], "ca": None},
                 "gce": {"url": env["IPS_LAB_GCE_URL"], "ca": None}}
    running = real_proxy.build(str(tmp_path_factory.mktemp("proxy")), {"host": "127.0.0.1", "port": 0, "upstreams": upstreams})
    yield running
    running.stop()


@pytest.fixture()
def behind_proxy(proxied, monkeypatch):
    ca = proxied.app.ca_path
    monkeypatch.setenv("HTTPS_PROXY", proxied.url)
    for key in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "AWS_CA_BUNDLE"):
        monkeypatch.setenv(key, ca)
    return proxied


def connect(proxied, target):
    with socket.create_connection(("127.0.0.1", proxied.port), timeout=10) as sock:
        sock.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, target)).encode())
        return sock.recv(4096).decode("latin-1")


def test_the_host_table():
    assert part_for("management.azure.com") == "azure"
    assert part_for("md-impexp-0a1b2c.z22.blob.storage.azure.net") == "azure"
    assert part_for("ebs.eu-central-1.amazonaws.com") == "ebs"
    assert part_for("EC2.us-gov-west-1.amazonaws.com") == "ebs"
    assert part_for("sts.amazonaws.com") == "iam" and part_for("sts.eu-west-1.amazonaws.com") == "iam"
    assert part_for("iam.amazonaws.com") == "iam"
    assert part_for("storage.googleapis.com") == "gce"
    assert part_for("api-eu.cloud.com") == "cloud"
    for host in ("example.com", "management.azure.com.evil.net", "s3.amazonaws.com", "xmanagement.azure.com"):
        assert part_for(host) is None, host


def test_the_proxy_refuses_what_it_does_not_play(proxied):
    assert connect(proxied, "example.com:443").startswith("HTTP/1.1 403")
    assert connect(proxied, "management.azure.com:80").startswith("HTTP/1.1 403")
    with socket.create_connection(("127.0.0.1", proxied.port), timeout=10) as sock:
        sock.sendall(b"GET http://management.azure.com/ HTTP/1.1\r\nHost: management.azure.com\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 405")
    # the certificate names the host asked for, signed by the proxy's CA
    with socket.create_connection(("127.0.0.1", proxied.port), timeout=10) as raw:
        raw.sendall(b"CONNECT login.microsoftonline.com:443 HTTP/1.1\r\nHost: login.microsoftonline.com\r\n\r\n")
        assert raw.recv(4096).startswith(b"HTTP/1.1 200")
        context = ssl.create_default_context(cafile=proxied.app.ca_path)
        with context.wrap_socket(raw, server_hostname="login.microsoftonline.com") as tls:
            assert ("DNS", "login.microsoftonline.com") in tls.getpeercert()["subjectAltName"]


def test_azure_by_its_real_names_gives_a_real_shaped_disk_sas(cloud_lab, behind_proxy):
    from azure.core.exceptions import HttpResponseError
    from azure.identity import ClientSecretCredential
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.compute.models import CreationData, Disk, GrantAccessData
    from azure.storage.blob import BlobClient

    env = cloud_lab.env
    compute = ComputeManagementClient(ClientSecretCredential(env["IPS_LAB_AZURE_TENANT_ID"], env["IPS_LAB_AZURE_CLIENT_ID"],
                                                             env["IPS_LAB_AZURE_CLIENT_SECRET"]), env["IPS_LAB_AZURE_SUBSCRIPTION_ID"])
    rg = env["IPS_LAB_AZURE_RESOURCE_GROUP"]
    name = "real-hosts-%s" % uuid.uuid4().hex[:6]  # left in ActiveUpload (no footer is written)
    compute.disks.begin_create_or_update(rg, name, Disk(location=env["IPS_LAB_AZURE_LOCATION"], creation_data=CreationData(
        create_option="Upload", upload_size_bytes=20 * 1024 * 1024 + 512))).result()
    sas = compute.disks.begin_grant_access(rg, name, GrantAccessData(access="Write", duration_in_seconds=600)).result().access_sas
    host = sas.split("/")[2]
    assert host.startswith("md-impexp-") and host.endswith(".z1.blob.storage.azure.net"), host
    blob = BlobClient.from_blob_url(sas)
    blob.upload_page(b"\x01" * 512, offset=0, length=512)
    assert [(r.start, r.end) for r in blob.list_page_ranges()] == [(0, 511)]
    # the grant is one account's: on another md- host the same SAS fails to authenticate
    other = BlobClient.from_blob_url(sas.replace(host, "md-impexp-000000000000.z1.blob.storage.azure.net"))
    with pytest.raises(HttpResponseError) as caught:
        other.upload_page(b"\x01" * 512, offset=0, length=512)
    assert caught.value.status_code == 403 and caught.value.error_code == "AuthenticationFailed"
    # revoking checks the footer (none was written): the message names the blob by its real host
    with pytest.raises(HttpResponseError) as caught:
        compute.disks.begin_revoke_access(rg, name).result()
    assert "https://%s/" % host in str(caught.value)


def test_aws_by_its_real_names(cloud_lab, behind_proxy):
    import boto3

    env = cloud_lab.env  # the lab's key, whose signature each front checks through the proxy (Host: the real name)
    session = boto3.Session(aws_access_key_id=env["IPS_LAB_AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["IPS_LAB_AWS_SECRET_ACCESS_KEY"],
                            region_name="eu-west-1")
    ebs, ec2, sts, iam = session.client("ebs"), session.client("ec2"), session.client("sts"), session.client("iam")
    assert ebs.meta.endpoint_url == "https://ebs.eu-west-1.amazonaws.com"
    # the preflight's calls: STS and IAM through the IAM front
    assert sts.get_caller_identity()["Account"] == "123456789012"
    arn = env["IPS_LAB_AWS_PRINCIPAL_ARN"]
    assert iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["ebs:StartSnapshot"])["EvaluationResults"][0][
        "EvalDecision"] == "allowed"
    snap = ebs.start_snapshot(VolumeSize=1, Timeout=60)["SnapshotId"]
    # EC2 tells the snapshot's EBS state (API_Snapshot: State pending | completed | error | ...): pending while blocks
    # may come, error after a CompleteSnapshot with the wrong ChangedBlocksCount (moto said completed throughout)
    assert [(s["SnapshotId"], s["State"]) for s in ec2.describe_snapshots(SnapshotIds=[snap])["Snapshots"]] == [(snap, "pending")]
    with pytest.raises(ebs.exceptions.ValidationException):
        ebs.complete_snapshot(SnapshotId=snap, ChangedBlocksCount=3)
    assert ec2.describe_snapshots(SnapshotIds=[snap])["Snapshots"][0]["State"] == "error"
    done = ebs.start_snapshot(VolumeSize=1, Timeout=60)["SnapshotId"]
    ebs.complete_snapshot(SnapshotId=done, ChangedBlocksCount=0)
    assert ec2.describe_snapshots(SnapshotIds=[done])["Snapshots"][0]["State"] == "completed"


def test_google_by_its_real_names(cloud_lab, behind_proxy):
    from google.auth.transport.requests import AuthorizedSession
    from google.oauth2.credentials import Credentials

    env = cloud_lab.env
    session = AuthorizedSession(Credentials(env["IPS_LAB_GCP_TOKEN"]))
    listed = session.get("https://compute.googleapis.com/compute/v1/projects/%s/global/images" % env["IPS_LAB_GCP_PROJECT"])
    assert listed.status_code == 200 and listed.json()["selfLink"].startswith("https://compute.googleapis.com/"), listed.text
    start = session.post("https://storage.googleapis.com/upload/storage/v1/b/no-such-bucket-here/o",
                         params={"uploadType": "resumable", "name": "x"}, json={})
    assert start.status_code in (200, 404), start.text
    if start.status_code == 200:
        assert start.headers["Location"].startswith("https://storage.googleapis.com/")

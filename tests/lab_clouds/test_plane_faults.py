"""Fault injection and request recording in the three cloud planes (/_lab/ with X-IPS-Lab-Admin):
status faults with Retry-After and the service's own error body, dropped connections, slow
answers, the `times` countdown, recorded requests without query strings or secrets, and the
admin token."""

import base64
import hashlib
import json
import time

import pytest
import requests

from ips_lab.common.admin import LabAdmin, LabAdminError

BLOCK = 524288
PLANES = ("azure", "ebs", "gce")
SAS_SECRET = "c2VjcmV0LXNpZ25hdHVyZS1kby1ub3QtbG9n"

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def admins(cloud_lab):
    return dict((plane, LabAdmin.from_env(cloud_lab.env, plane)) for plane in PLANES)


@pytest.fixture(autouse=True)
def clean(admins):
    for admin in admins.values():
        admin.clear_faults()
        admin.clear_requests()
    yield
    for admin in admins.values():
        admin.clear_faults()


class Probe(object):
    """One real request per plane that the plane itself answers (so faults have something to replace)."""

    def __init__(self, env, plane):
        self.env, self.plane = env, plane
        self.verify = env["IPS_LAB_AZURE_CA_PATH"] if plane == "azure" else True

    @property
    def target(self):
        """(method, path regex, expected normal status) of the probe."""
        return {"azure": ("PUT", r"^/md-impexp/", 403), "ebs": ("PUT", r"^/snapshots/[^/]+/blocks/", 404),
                "gce": ("GET", r"/global/images$", 200)}[self.plane]

    def send(self, timeout=30):
        env = self.env
        if self.plane == "azure":  # a Put Page with a forged SAS: the blob front answers 403 AuthenticationFailed
            url = "%s/md-impexp/md-000000000000/abcd?sv=2018-03-28&sr=b&sp=rw&se=2099-01-01T00:00:00Z&sig=%s" % (
                env["IPS_LAB_AZURE_URL"], SAS_SECRET)
            return requests.put(url, data=b"\0" * 4096, headers={"x-ms-page-write": "update", "x-ms-range": "bytes=0-4095",
                                                                 "x-ms-version": "2021-08-06"}, verify=self.verify, timeout=timeout)
        if self.plane == "ebs":  # a block for a snapshot the front never started: 404
            data = b"\x01" * BLOCK
            url = "%s/snapshots/snap-0123456789abcdef0/blocks/0" % env["IPS_LAB_EBS_URL"]
            headers = signed(env, "PUT", url, data, {"x-amz-Data-Length": str(BLOCK), "x-amz-Checksum-Algorithm": "SHA256",
                                                     "x-amz-Checksum": base64.b64encode(hashlib.sha256(data).digest()).decode()})
            return requests.put(url, data=data, timeout=timeout, headers=headers)
        return requests.get("%s/compute/v1/projects/%s/global/images" % (env["IPS_LAB_GCE_URL"], env["IPS_LAB_GCP_PROJECT"]),
                            headers={"Authorization": "Bearer " + env["IPS_LAB_GCP_TOKEN"]}, timeout=timeout)


def signed(env, method, url, body, headers):
    """`headers` plus an AWS SigV4 signature with the lab's key (the EBS front refuses unsigned calls and other keys)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    SigV4Auth(Credentials(env["IPS_LAB_AWS_ACCESS_KEY_ID"], env["IPS_LAB_AWS_SECRET_ACCESS_KEY"]), "ebs", "us-east-1").add_auth(request)
    return dict(request.headers.items())


@pytest.fixture(params=PLANES)
def plane(request, cloud_lab, admins):
    return request.param, Probe(cloud_lab.env, request.param), admins[request.param]


def check_service_error(plane, response, status):
    """The injected error looks like the service's own."""
    if plane == "azure":
        code = {503: "ServerBusy", 500: "OperationTimedOut"}[status]
        assert response.headers["x-ms-error-code"] == code
        assert response.headers["Content-Type"].startswith("application/xml")
        assert "<Code>%s</Code>" % code in response.text
    elif plane == "ebs":
        assert response.headers["x-amzn-ErrorType"] == ("ThrottlingException" if status == 503 else "InternalServerException")
        assert "message" in response.json()
    else:
        error = response.json()["error"]
        assert error["code"] == status and error["errors"][0]["reason"] in ("rateLimitExceeded", "backendError")


def test_admin_token_is_enforced(cloud_lab, plane):
    name, probe, admin = plane
    url = admin.url + "/_lab/requests"
    assert requests.get(url, verify=probe.verify, timeout=10).status_code == 401
    assert requests.get(url, headers={"X-IPS-Lab-Admin": "wrong"}, verify=probe.verify, timeout=10).status_code == 403
    bad = LabAdmin(admin.url, "wrong", cloud_lab.env.get("IPS_LAB_AZURE_CA_PATH"))
    with pytest.raises(LabAdminError) as exc:
        bad.add_fault(".*")
    assert exc.value.status == 403
    right = requests.get(url, headers={"X-IPS-Lab-Admin": cloud_lab.env["IPS_LAB_%s_ADMIN_TOKEN" % name.upper()]}, verify=probe.verify,
                         timeout=10)
    assert right.status_code == 200 and right.json() == {"items": []}  # admin calls are not recorded
    # The faults never apply to the admin API itself.
    admin.add_fault("/_lab/", status=503, times=5)
    assert admin.requests() == []


def test_bad_rule_is_400(plane):
    _name, _probe, admin = plane
    for rule in ({"action": "explode"}, {"action": "status", "status": 99}, {"action": "slow", "path": "("}, {"action": "drop", "what": 1}):
        with pytest.raises(LabAdminError) as exc:
            admin._call("POST", "/_lab/faults", rule)  # pylint: disable=protected-access
        assert exc.value.status == 400


@pytest.mark.parametrize("status", [503, 500])
def test_status_with_retry_after_counts_down(plane, status):
    name, probe, admin = plane
    method, path, normal = probe.target
    admin.add_fault(path, method=method, status=status, retry_after=2, times=2)
    admin.add_fault(path, method="DELETE", status=418)  # another method: never taken by the probe
    assert [f["times"] for f in admin.faults()] == [2, 1]
    for _attempt in range(2):
        response = probe.send()
        assert response.status_code == status and response.headers["Retry-After"] == "2"
        check_service_error(name, response, status)
    assert probe.send().status_code == normal
    assert [f["method"] for f in admin.faults()] == ["DELETE"]
    assert [r["status"] for r in admin.requests()] == [status, status, normal]


def test_throttling_statuses_per_service(plane):
    name, probe, admin = plane
    method, path, _normal = probe.target
    status = {"azure": 503, "ebs": 400, "gce": 429}[name]
    admin.add_fault(path, method=method, status=status)
    response = probe.send()
    assert response.status_code == status and "Retry-After" not in response.headers
    if name == "azure":
        assert response.headers["x-ms-error-code"] == "ServerBusy"
    elif name == "ebs":
        assert response.headers["x-amzn-ErrorType"] == "ThrottlingException"
    else:
        assert response.json()["error"]["status"] == "RESOURCE_EXHAUSTED"


def test_raw_body(plane):
    _name, probe, admin = plane
    method, path, _normal = probe.target
    admin.add_fault(path, method=method, status=502, body="<html>bad gateway</html>")
    response = probe.send()
    assert response.status_code == 502 and response.text == "<html>bad gateway</html>"


def test_drop(plane):
    _name, probe, admin = plane
    method, path, normal = probe.target
    fault_id = admin.add_fault(path, method=method, action="drop", times=1)
    with pytest.raises(requests.ConnectionError):
        probe.send()
    assert probe.send().status_code == normal
    recorded = admin.requests()
    assert [(r["status"], r["fault"]) for r in recorded] == [(None, fault_id), (normal, None)]


def test_slow(plane):
    _name, probe, admin = plane
    method, path, normal = probe.target
    admin.add_fault(path, method=method, action="slow", delay=1.0, times=1)
    started = time.monotonic()
    assert probe.send().status_code == normal
    assert time.monotonic() - started >= 1.0
    started = time.monotonic()
    assert probe.send().status_code == normal
    assert time.monotonic() - started < 1.0
    # A slow answer past the client's timeout: the client gives up, the plane still answers later.
    admin.add_fault(path, method=method, action="slow", delay=2.0)
    with pytest.raises(requests.Timeout):
        probe.send(timeout=0.5)


def test_recorded_requests(cloud_lab, plane):
    name, probe, admin = plane
    method, _path, normal = probe.target
    for _attempt in range(3):
        assert probe.send().status_code == normal
    recorded = admin.requests()
    assert len(recorded) == 3
    for entry in recorded:
        signed = {"aws_key", "aws_region", "aws_token_sha256"} if name == "ebs" else set()  # a SigV4 call's signer
        assert set(entry) == {"time", "ts", "method", "path", "host", "status", "length", "fault"} | signed
        assert entry["method"] == method and entry["status"] == normal and "?" not in entry["path"]
        assert entry["length"] == {"azure": 4096, "ebs": BLOCK, "gce": 0}[name]
    text = json.dumps(recorded)
    for secret in (SAS_SECRET, "sig", cloud_lab.env["IPS_LAB_GCP_TOKEN"], cloud_lab.env["IPS_LAB_%s_ADMIN_TOKEN" % name.upper()]):
        assert secret not in text
    admin.clear_requests()
    assert admin.requests() == []


def test_reset_and_config(plane):
    name, probe, admin = plane
    method, path, normal = probe.target
    admin.add_fault(path, method=method, status=503)
    probe.send()
    admin.reset()
    assert admin.faults() == [] and admin.requests() == []
    assert probe.send().status_code == normal
    # each plane's settings at their defaults (the permission settings: nothing taken away; the per-object caps: off)
    defaults = {"azure": {"operation_seconds": 0, "rbac_removed_actions": [], "disk_upload_cap": 0},
                "ebs": {"snapshot_block_cap": 0},
                "gce": {"iam_removed_permissions": [], "object_write_cap": 0}}[name]
    assert admin.config() == defaults
    with pytest.raises(LabAdminError) as exc:
        admin.set_config(operation_seconds="slow")
    assert exc.value.status == 400
    with pytest.raises(LabAdminError) as exc:
        admin._call("GET", "/_lab/reset")  # pylint: disable=protected-access
    assert exc.value.status == 405


def test_azure_sdk_retries_put_page_through_server_busy(cloud_lab, admins):
    """The storage SDK's own retry policy gets through two ServerBusy answers; the plane saw three Put Page."""
    from azure.identity import ClientSecretCredential
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.compute.models import CreationData, Disk, GrantAccessData
    from azure.storage.blob import BlobClient, LinearRetry

    env = cloud_lab.env
    ca = env["IPS_LAB_AZURE_CA_PATH"]
    credential = ClientSecretCredential(env["IPS_LAB_AZURE_TENANT_ID"], env["IPS_LAB_AZURE_CLIENT_ID"], env["IPS_LAB_AZURE_CLIENT_SECRET"],
                                        authority=env["IPS_LAB_AZURE_AUTHORITY"], disable_instance_discovery=True, connection_verify=ca)
    compute = ComputeManagementClient(credential, env["IPS_LAB_AZURE_SUBSCRIPTION_ID"], base_url=env["IPS_LAB_AZURE_URL"],
                                      credential_scopes=["https://management.azure.com/.default"], connection_verify=ca)
    rg = env["IPS_LAB_AZURE_RESOURCE_GROUP"]
    compute.disks.begin_create_or_update(rg, "faulted", Disk(location=env["IPS_LAB_AZURE_LOCATION"], creation_data=CreationData(
        create_option="Upload", upload_size_bytes=20 * 1024 * 1024 + 512))).result()
    sas = compute.disks.begin_grant_access(rg, "faulted", GrantAccessData(access="Write", duration_in_seconds=600)).result().access_sas
    admin = admins["azure"]
    admin.clear_requests()
    admin.add_fault(r"^/md-impexp/", method="PUT", status=503, retry_after=0, times=2)
    blob = BlobClient.from_blob_url(sas, connection_verify=ca, retry_policy=LinearRetry(backoff=0.1, random_jitter_range=0))
    blob.upload_page(b"\x07" * 4096, offset=0, length=4096)
    puts = [r for r in admin.requests() if r["method"] == "PUT"]
    assert [r["status"] for r in puts] == [503, 503, 201] and all(r["length"] == 4096 for r in puts)
    assert sas.split("sig=")[1].split("&")[0] not in json.dumps(admin.requests())


def test_boto3_retries_put_snapshot_block_through_throttling(cloud_lab, admins):
    import boto3

    env = cloud_lab.env
    ebs = boto3.client("ebs", endpoint_url=env["IPS_LAB_EBS_URL"], region_name="us-east-1", aws_access_key_id=env["IPS_LAB_AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=env["IPS_LAB_AWS_SECRET_ACCESS_KEY"])
    snapshot_id = ebs.start_snapshot(VolumeSize=1, Timeout=60)["SnapshotId"]
    admin = admins["ebs"]
    admin.clear_requests()
    admin.add_fault(r"/blocks/", method="PUT", status=400, times=1)  # ThrottlingException: botocore retries it
    data = b"\x05" * BLOCK
    ebs.put_snapshot_block(SnapshotId=snapshot_id, BlockIndex=3, BlockData=data, DataLength=BLOCK, ChecksumAlgorithm="SHA256",
                           Checksum=base64.b64encode(hashlib.sha256(data).digest()).decode())
    puts = [r for r in admin.requests() if r["method"] == "PUT"]
    assert [r["status"] for r in puts] == [400, 201] and [r["path"] for r in puts] == ["/snapshots/%s/blocks/3" % snapshot_id] * 2

"""The Azure plane through the real SDKs: azure-identity for the token, azure-mgmt-compute for the
disk, azure-storage-blob (and raw requests where the SDK would not send the bad request) for the
pages, and the managed-disk rules the lab enforces on top of Azurite."""

import json
import struct
import time
import uuid

import pytest
import requests

from ips_lab.common.admin import LabAdmin, LabAdminError

MIB = 1024 * 1024
SIZE = 32 * MIB + 512  # a 32 MiB fixed VHD plus its footer

pytestmark = pytest.mark.timeout(120)


def vhd_footer(current_size, disk_type=2, cookie=b"conectix", break_checksum=False):
    """A fixed-VHD footer written from the spec (VHD v1.0), big-endian, 512 bytes."""
    footer = bytearray(512)
    footer[0:8] = cookie
    struct.pack_into(">I", footer, 8, 2)                       # features: reserved bit
    struct.pack_into(">I", footer, 12, 0x00010000)             # file format version
    struct.pack_into(">Q", footer, 16, 0xFFFFFFFFFFFFFFFF)     # data offset: none for fixed
    struct.pack_into(">I", footer, 24, int(time.time()) - 946684800)
    footer[28:32] = b"ilab"
    struct.pack_into(">I", footer, 32, 0x00010000)
    footer[36:40] = b"Wi2k"
    struct.pack_into(">Q", footer, 40, current_size)           # original size
    struct.pack_into(">Q", footer, 48, current_size)           # current size
    sectors = current_size // 512                              # CHS (spec appendix), small disks only
    spt = 17
    cth = sectors // spt
    heads = max(4, (cth + 1023) // 1024)
    if cth >= heads * 1024 or heads > 16:
        spt, heads = 31, 16
        cth = sectors // spt
    if cth >= heads * 1024:
        spt, heads = 63, 16
        cth = sectors // spt
    struct.pack_into(">HBB", footer, 56, cth // heads, heads, spt)
    struct.pack_into(">I", footer, 60, disk_type)
    footer[68:84] = uuid.uuid4().bytes
    checksum = (~sum(footer)) & 0xFFFFFFFF
    struct.pack_into(">I", footer, 64, checksum ^ (1 if break_checksum else 0))
    return bytes(footer)


@pytest.fixture(scope="module")
def az(cloud_lab):
    from azure.identity import ClientSecretCredential
    from azure.mgmt.compute import ComputeManagementClient

    env = cloud_lab.env
    ca = env["IPS_LAB_AZURE_CA_PATH"]
    credential = ClientSecretCredential(env["IPS_LAB_AZURE_TENANT_ID"], env["IPS_LAB_AZURE_CLIENT_ID"], env["IPS_LAB_AZURE_CLIENT_SECRET"],
                                        authority=env["IPS_LAB_AZURE_AUTHORITY"], disable_instance_discovery=True, connection_verify=ca)
    compute = ComputeManagementClient(credential, env["IPS_LAB_AZURE_SUBSCRIPTION_ID"], base_url=env["IPS_LAB_AZURE_URL"],
                                      credential_scopes=["https://management.azure.com/.default"], connection_verify=ca)

    class Az(object):
        pass

    az = Az()
    az.env, az.ca, az.credential, az.compute = env, ca, credential, compute
    az.rg = env["IPS_LAB_AZURE_RESOURCE_GROUP"]
    az.rg2 = "ips-lab-rg2"
    az.location = env["IPS_LAB_AZURE_LOCATION"]
    return az


def upload_disk(az, size=SIZE, **extra):
    from azure.mgmt.compute.models import CreationData, Disk, DiskSku

    return Disk(location=az.location, sku=DiskSku(name=extra.pop("sku", "Standard_LRS")),
                creation_data=CreationData(create_option="Upload", upload_size_bytes=size), **extra)


def create(az, name, size=SIZE, **extra):
    return az.compute.disks.begin_create_or_update(az.rg, name, upload_disk(az, size, **extra)).result()


def grant(az, name, access="Write", seconds=3600):
    from azure.mgmt.compute.models import GrantAccessData

    return az.compute.disks.begin_grant_access(az.rg, name, GrantAccessData(access=access, duration_in_seconds=seconds)).result().access_sas


def blob(az, sas):
    from azure.storage.blob import BlobClient

    return BlobClient.from_blob_url(sas, connection_verify=az.ca)


def put_page_raw(az, sas, start, data, end=None):
    end = start + len(data) - 1 if end is None else end
    return requests.put(sas + "&comp=page", data=data, verify=az.ca, timeout=30,
                        headers={"x-ms-page-write": "update", "x-ms-range": "bytes=%d-%d" % (start, end), "x-ms-version": "2021-08-06"})


def state(az, name):
    return az.compute.disks.get(az.rg, name).disk_state


def arm_code(exc):
    return exc.value.error.code if exc.value.error else None


# --- Entra -----------------------------------------------------------------------------------

def test_token_and_wrong_secret(az):
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import ClientSecretCredential

    token = az.credential.get_token("https://management.azure.com/.default")
    assert token.token and token.expires_on > time.time() + 600
    wrong = ClientSecretCredential(az.env["IPS_LAB_AZURE_TENANT_ID"], az.env["IPS_LAB_AZURE_CLIENT_ID"], "not-the-secret",
                                   authority=az.env["IPS_LAB_AZURE_AUTHORITY"], disable_instance_discovery=True, connection_verify=az.ca)
    with pytest.raises(ClientAuthenticationError) as exc:
        wrong.get_token("https://management.azure.com/.default")
    assert "AADSTS7000215" in str(exc.value)
    raw = requests.post("%s/%s/oauth2/v2.0/token" % (az.env["IPS_LAB_AZURE_AUTHORITY"], az.env["IPS_LAB_AZURE_TENANT_ID"]),
                        data={"grant_type": "client_credentials", "client_id": az.env["IPS_LAB_AZURE_CLIENT_ID"], "client_secret": "x",
                              "scope": "https://management.azure.com/.default"}, verify=az.ca, timeout=10)
    assert raw.status_code == 401 and raw.json()["error"] == "invalid_client"


def test_arm_needs_a_bearer_token(az):
    url = "%s/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/disks?api-version=2026-03-02" % (
        az.env["IPS_LAB_AZURE_URL"], az.env["IPS_LAB_AZURE_SUBSCRIPTION_ID"], az.rg)
    answer = requests.get(url, verify=az.ca, timeout=10)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "AuthenticationFailed"
    answer = requests.get(url, verify=az.ca, timeout=10, headers={"Authorization": "Bearer a.b.c"})
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "InvalidAuthenticationToken"
    token = az.credential.get_token("https://management.azure.com/.default").token
    answer = requests.get(url.split("?")[0], verify=az.ca, timeout=10, headers={"Authorization": "Bearer " + token})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "MissingApiVersionParameter"


def test_unknown_subscription_and_resource_group(az):
    from azure.core.exceptions import ResourceNotFoundError
    from azure.mgmt.compute import ComputeManagementClient

    other = ComputeManagementClient(az.credential, str(uuid.uuid4()), base_url=az.env["IPS_LAB_AZURE_URL"],
                                    credential_scopes=["https://management.azure.com/.default"], connection_verify=az.ca)
    with pytest.raises(ResourceNotFoundError) as exc:
        other.disks.get(az.rg, "nope")
    assert arm_code(exc) == "SubscriptionNotFound"
    with pytest.raises(ResourceNotFoundError) as exc:
        az.compute.disks.get("no-such-rg", "nope")
    assert arm_code(exc) == "ResourceGroupNotFound"
    with pytest.raises(ResourceNotFoundError) as exc:
        az.compute.disks.get(az.rg, "nope")
    assert arm_code(exc) == "ResourceNotFound"


@pytest.mark.parametrize("size", [20 * MIB, 20 * MIB + 511, 32 * MIB + 1024, 33 * MIB, 32 * 1024 * 1024 * MIB + 512 + MIB])
def test_upload_size_rules(az, size):
    from azure.core.exceptions import HttpResponseError

    with pytest.raises(HttpResponseError) as exc:
        create(az, "badsize", size)
    assert exc.value.status_code == 400
    assert arm_code(exc) == "InvalidParameter" and "uploadSizeBytes" in exc.value.error.message


def test_other_disk_rules(az):
    from azure.core.exceptions import HttpResponseError

    for extra, field in ((dict(sku="Fast_LRS"), "sku.name"), (dict(hyper_v_generation="V3"), "hyperVGeneration"),
                         (dict(zones=["4"]), "zones"), (dict(zones=["1"], sku="Premium_ZRS"), "zones")):
        with pytest.raises(HttpResponseError) as exc:
            create(az, "badrule", **extra)
        assert exc.value.status_code == 400 and field in exc.value.error.message + (exc.value.error.target or ""), extra
    create(az, "smallest", 20 * MIB + 512)
    az.compute.disks.begin_delete(az.rg, "smallest").result()


def test_upload_lifecycle(az):
    from azure.core.exceptions import HttpResponseError, ResourceExistsError

    name = "upload-%s" % uuid.uuid4().hex[:6]
    disk = create(az, name, hyper_v_generation="V2", os_type="Windows", zones=["1"], tags={"ips-job": "abc"})
    assert disk.disk_state == "ReadyToUpload" and disk.tags == {"ips-job": "abc"} and disk.zones == ["1"]
    assert disk.hyper_v_generation == "V2" and disk.creation_data.upload_size_bytes == SIZE
    assert name in [d.name for d in az.compute.disks.list_by_resource_group(az.rg)]
    with pytest.raises(ResourceExistsError) as exc:
        create(az, name)
    assert exc.value.status_code == 409 and arm_code(exc) == "OperationNotAllowed"
    with pytest.raises(HttpResponseError) as exc:  # no Read access before the upload is finished
        grant(az, name, "Read")
    assert exc.value.status_code == 409

    sas = grant(az, name)
    assert state(az, name) == "ActiveUpload"
    assert "sig=" in sas and "/md-impexp/" in sas
    with pytest.raises(ResourceExistsError) as exc:
        az.compute.disks.begin_delete(az.rg, name).result()
    assert exc.value.status_code == 409

    client = blob(az, sas)
    data = bytes(range(256)) * (4 * MIB // 256)
    client.upload_page(data, offset=0, length=4 * MIB)  # the largest Put Page Azure takes
    client.upload_page(b"\x07" * 512, offset=8 * MIB, length=512)

    too_big = put_page_raw(az, sas, 12 * MIB, b"\x01" * 8 * MIB)
    assert too_big.status_code == 413 and too_big.headers["x-ms-error-code"] == "RequestBodyTooLarge"
    unaligned = put_page_raw(az, sas, 100, b"\x01" * 512)
    assert unaligned.status_code == 416 and unaligned.headers["x-ms-error-code"] == "InvalidPageRange"
    short_end = put_page_raw(az, sas, 0, b"\x01" * 500)
    assert short_end.status_code == 416
    beyond = put_page_raw(az, sas, SIZE, b"\x01" * 512)
    assert beyond.status_code == 416
    from azure.core.exceptions import HttpResponseError as StorageError
    with pytest.raises(StorageError) as exc:
        client.upload_blob(b"\0" * 1024, blob_type="PageBlob", overwrite=True)
    assert exc.value.status_code == 403 and exc.value.error_code == "OperationNotAllowed"
    forged = sas.replace("sig=", "sig=AA")
    assert put_page_raw(az, forged, 0, b"\x01" * 512).status_code == 403

    ranges = [(r.start, r.end) for r in client.list_page_ranges()]
    assert (0, 4 * MIB - 1) in ranges and (8 * MIB, 8 * MIB + 511) in ranges

    # Bad footers: endGetAccess answers 400 InvalidVhd and the disk stays in ActiveUpload.
    for bad, words in ((b"\0" * 512, "conectix"), (vhd_footer(SIZE - 512, cookie=b"notavhd!"), "conectix"),
                       (vhd_footer(SIZE - 512, break_checksum=True), "checksum"), (vhd_footer(SIZE - 512, disk_type=3), "fixed"),
                       (vhd_footer(SIZE - 512 - MIB), "current size")):
        client.upload_page(bad, offset=SIZE - 512, length=512)
        with pytest.raises(HttpResponseError) as exc:
            az.compute.disks.begin_revoke_access(az.rg, name).result()
        assert exc.value.status_code == 400 and arm_code(exc) == "InvalidVhd" and words in exc.value.error.message, words
        assert state(az, name) == "ActiveUpload"

    client.upload_page(vhd_footer(SIZE - 512), offset=SIZE - 512, length=512)
    az.compute.disks.begin_revoke_access(az.rg, name).result()
    assert state(az, name) == "Unattached"
    revoked = put_page_raw(az, sas, 0, b"\x01" * 512)
    assert revoked.status_code == 403 and revoked.headers["x-ms-error-code"] == "AuthenticationFailed"
    with pytest.raises(HttpResponseError) as exc:  # an uploaded disk takes no second upload
        grant(az, name, "Write")
    assert exc.value.status_code == 409

    read_sas = grant(az, name, "Read")
    assert state(az, name) == "ActiveSAS"
    reader = blob(az, read_sas)
    assert reader.download_blob(offset=0, length=4 * MIB).readall() == data
    assert reader.get_blob_properties().size == SIZE
    assert put_page_raw(az, read_sas, 0, b"\x01" * 512).status_code == 403
    az.compute.disks.begin_revoke_access(az.rg, name).result()
    assert state(az, name) == "Unattached"

    disk.tags = {"ips-job": "abc", "more": "x"}
    updated = az.compute.disks.begin_create_or_update(az.rg, name, upload_disk(az, tags={"ips-job": "abc", "more": "x"})).result()
    assert updated.tags["more"] == "x"
    az.compute.disks.begin_delete(az.rg, name).result()
    assert name not in [d.name for d in az.compute.disks.list_by_resource_group(az.rg)]


def test_expired_sas(az):
    name = "expiry-%s" % uuid.uuid4().hex[:6]
    create(az, name)
    sas = grant(az, name, seconds=1)
    time.sleep(1.5)
    answer = put_page_raw(az, sas, 0, b"\x01" * 512)
    assert answer.status_code == 403 and answer.headers["x-ms-error-code"] == "AuthenticationFailed"
    sas = grant(az, name, seconds=600)  # a new Write grant while ActiveUpload replaces the old SAS
    assert put_page_raw(az, sas, 0, b"\x01" * 512).status_code == 201


def test_copy_an_uploaded_disk(az):
    """createOption Copy (what the lab's prepare makes its output disk with): same bytes, Unattached at once."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
    from azure.mgmt.compute.models import CreationData, Disk

    name = "copy-src-%s" % uuid.uuid4().hex[:6]
    source = create(az, name, hyper_v_generation="V2", os_type="Windows")

    def copy(target, source_id):
        return az.compute.disks.begin_create_or_update(az.rg2, target, Disk(location=az.location, tags={"ips": "prep"},
                                                       creation_data=CreationData(create_option="Copy", source_resource_id=source_id))).result()

    with pytest.raises(HttpResponseError) as exc:  # an upload in progress cannot be copied
        copy(name + "-early", source.id)
    assert exc.value.status_code == 409 and arm_code(exc) == "OperationNotAllowed"
    sas = grant(az, name)
    data = bytes(range(256)) * (MIB // 256)
    blob(az, sas).upload_page(data, offset=MIB, length=MIB)
    blob(az, sas).upload_page(vhd_footer(SIZE - 512), offset=SIZE - 512, length=512)
    az.compute.disks.begin_revoke_access(az.rg, name).result()

    made = copy(name + "-copy", source.id)
    assert made.disk_state == "Unattached" and made.creation_data.create_option == "Copy"
    assert made.creation_data.source_resource_id == source.id and made.creation_data.source_unique_id == source.unique_id
    assert made.disk_size_bytes == SIZE - 512 and made.hyper_v_generation == "V2" and made.tags == {"ips": "prep"}
    reader = blob(az, az.compute.disks.begin_grant_access(az.rg2, name + "-copy", GrantAccess("Read")).result().access_sas)
    assert reader.download_blob(offset=MIB, length=MIB).readall() == data
    assert reader.download_blob(offset=SIZE - 512, length=512).readall()[:8] == b"conectix"
    az.compute.disks.begin_revoke_access(az.rg2, name + "-copy").result()

    missing = source.id.replace(name, "no-such-disk")
    with pytest.raises(ResourceNotFoundError):
        copy(name + "-none", missing)
    with pytest.raises(HttpResponseError) as exc:
        copy(name + "-bad", "/subscriptions/x/disks/y")
    assert exc.value.status_code == 400 and arm_code(exc) == "InvalidParameter"


def GrantAccess(access):  # noqa: N802 - reads like the SDK model it builds
    from azure.mgmt.compute.models import GrantAccessData

    return GrantAccessData(access=access, duration_in_seconds=600)


# --- slow disk creation (operation_seconds) ---------------------------------------------------

@pytest.fixture()
def plane_admin(cloud_lab):
    admin = LabAdmin.from_env(cloud_lab.env, "azure")
    yield admin
    admin.reset()


def test_disk_creation_takes_operation_seconds(az, plane_admin):
    """With operation_seconds the PUT is a real long-running operation: 202, the disk Updating,
    the async operation InProgress, and azure-core's poller waits, then returns the Disk."""
    assert plane_admin.config()["operation_seconds"] == 0
    assert plane_admin.set_config(operation_seconds=3)["operation_seconds"] == 3
    name = "slow-%s" % uuid.uuid4().hex[:6]
    started = time.monotonic()
    poller = az.compute.disks.begin_create_or_update(az.rg, name, upload_disk(az))
    assert poller.done() is False
    early = az.compute.disks.get(az.rg, name)
    assert early.provisioning_state == "Updating" and early.disk_state == "ReadyToUpload"
    from azure.core.exceptions import HttpResponseError
    with pytest.raises(HttpResponseError) as exc:  # nothing can use the disk before it exists
        grant(az, name)
    assert exc.value.status_code == 409 and arm_code(exc) == "OperationNotAllowed"
    disk = poller.result()
    elapsed = time.monotonic() - started
    assert 2.9 <= elapsed < 8, elapsed
    assert disk.name == name and disk.provisioning_state == "Succeeded" and disk.disk_state == "ReadyToUpload"
    assert state(az, name) == "ReadyToUpload" and az.compute.disks.get(az.rg, name).provisioning_state == "Succeeded"
    assert grant(az, name).startswith(az.env["IPS_LAB_AZURE_URL"])


def test_slow_disk_put_answers_like_arm(az, plane_admin):
    """The raw wire: 202 with the disk Updating, Azure-AsyncOperation, Location and Retry-After;
    the operation is InProgress, then Succeeded with the disk as output; 0 is immediate again."""
    token = az.credential.get_token("https://management.azure.com/.default").token
    headers = {"Authorization": "Bearer " + token}
    url = "%s/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/disks/%%s?api-version=2026-03-02" % (
        az.env["IPS_LAB_AZURE_URL"], az.env["IPS_LAB_AZURE_SUBSCRIPTION_ID"], az.rg)
    body = {"location": az.location, "properties": {"creationData": {"createOption": "Upload", "uploadSizeBytes": SIZE}}}
    plane_admin.set_config(operation_seconds=1.5)
    name = "raw-slow-%s" % uuid.uuid4().hex[:6]
    put = requests.put(url % name, json=body, headers=headers, verify=az.ca, timeout=30)
    assert put.status_code == 202, put.text
    assert put.json()["properties"]["provisioningState"] == "Updating"
    assert put.headers["Retry-After"] == "1" and "/DiskOperations/" in put.headers["Azure-AsyncOperation"]
    assert "monitor=true" in put.headers["Location"]
    running = requests.get(put.headers["Azure-AsyncOperation"], headers=headers, verify=az.ca, timeout=30)
    assert running.json()["status"] == "InProgress" and "endTime" not in running.json()
    assert requests.get(put.headers["Location"], headers=headers, verify=az.ca, timeout=30).status_code == 202
    deleting = requests.delete(url % name, headers=headers, verify=az.ca, timeout=30)
    assert deleting.status_code == 409 and deleting.json()["error"]["code"] == "OperationNotAllowed"
    time.sleep(1.6)
    done = requests.get(put.headers["Azure-AsyncOperation"], headers=headers, verify=az.ca, timeout=30).json()
    assert done["status"] == "Succeeded" and done["properties"]["output"]["properties"]["provisioningState"] == "Succeeded"
    assert requests.get(put.headers["Location"], headers=headers, verify=az.ca, timeout=30).json()["name"] == name

    with pytest.raises(LabAdminError) as err:
        plane_admin.set_config(operation_seconds=-1)
    assert err.value.status == 400 and "operation_seconds" in json.loads(err.value.body)["errors"]
    with pytest.raises(LabAdminError) as err:
        plane_admin.set_config(colour="red")
    assert err.value.status == 400
    plane_admin.reset()
    assert plane_admin.config()["operation_seconds"] == 0
    quick = requests.put(url % (name + "-quick"), json=body, headers=headers, verify=az.ca, timeout=30)
    assert quick.status_code == 200 and quick.json()["properties"]["provisioningState"] == "Succeeded"
    assert "Azure-AsyncOperation" not in quick.headers

"""The Azure plane's two strictness rules of issue 18: Put Page content hashes checked (400 Md5Mismatch /
Crc64Mismatch, nothing stored) and no upload disk larger than Azure's maximum (32,767 GiB + 512 bytes)."""

import base64
import hashlib
import uuid

import pytest
import requests

from ips_lab.planes.azure_content import crc64
# az is the fixture of test_azure_plane, imported so these tests use it too
from test_azure_plane import MIB, az, blob, create, grant  # noqa: F401 pylint: disable=unused-import

pytestmark = pytest.mark.timeout(120)
GIB = 1024 * MIB


def put(az, sas, start, data, **headers):
    headers.update({"x-ms-page-write": "update", "x-ms-range": "bytes=%d-%d" % (start, start + len(data) - 1), "x-ms-version": "2021-08-06"})
    return requests.put(sas + "&comp=page", data=data, verify=az.ca, timeout=30, headers=headers)


def b64(raw):
    return base64.b64encode(raw).decode("ascii")


@pytest.fixture(scope="module")
def sas(az):
    name = "content-%s" % uuid.uuid4().hex[:6]
    create(az, name)
    return grant(az, name)


def test_crc64_is_crc64_nvme():
    assert crc64(b"123456789") == 0xAE8B14860A799888


def test_matching_hashes_are_stored(az, sas):
    data = bytes(range(256)) * 4
    assert put(az, sas, 0, data, **{"Content-MD5": b64(hashlib.md5(data).digest())}).status_code == 201
    assert put(az, sas, MIB, data, **{"x-ms-content-crc64": b64(crc64(data).to_bytes(8, "little"))}).status_code == 201
    assert blob(az, sas).download_blob(offset=MIB, length=len(data)).readall() == data


@pytest.mark.parametrize("header,value,code", [
    ("Content-MD5", b64(hashlib.md5(b"other").digest()), "Md5Mismatch"),
    ("x-ms-content-crc64", b64((12345).to_bytes(8, "little")), "Crc64Mismatch"),
    ("Content-MD5", "not-base64!", "InvalidHeaderValue"),
    ("x-ms-content-crc64", b64(b"short"), "InvalidHeaderValue"),
])
def test_mismatched_hash_is_refused_and_nothing_stored(az, sas, header, value, code):
    at = 2 * MIB
    answer = put(az, sas, at, b"\x5a" * 512, **{header: value})
    assert answer.status_code == 400 and answer.headers["x-ms-error-code"] == code
    assert blob(az, sas).download_blob(offset=at, length=512).readall() == bytes(512)


def test_the_sdk_sends_content_md5_and_it_is_checked(az, sas):
    """azure-storage-blob with validate_content=True (what ips_upload sends) passes the check."""
    blob(az, sas).upload_page(b"\x11" * 4096, offset=3 * MIB, length=4096, validate_content=True)
    assert blob(az, sas).download_blob(offset=3 * MIB, length=4096).readall() == b"\x11" * 4096


@pytest.mark.parametrize("size", [32767 * GIB + 512 + MIB, 32768 * GIB + 512])
def test_disk_larger_than_azures_maximum_is_refused(az, size):
    from azure.core.exceptions import HttpResponseError

    with pytest.raises(HttpResponseError) as exc:
        create(az, "toobig", size)
    assert exc.value.status_code == 400 and exc.value.error.code == "InvalidParameter"
    assert "uploadSizeBytes" in exc.value.error.message and str(32767 * GIB + 512) in exc.value.error.message

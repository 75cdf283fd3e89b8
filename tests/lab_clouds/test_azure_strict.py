"""Rules of a managed disk's SAS that the Azure plane used to let pass, each answered as Azure documents it:

- x-ms-version: "Versioning for Azure Storage" (learn.microsoft.com/rest/api/storageservices/versioning-for-the-azure-storage-services):
  the response's x-ms-version is the version the request was served with; an unknown version is
  400 InvalidHeaderValue naming the header.
"""

import uuid

import pytest
import requests

# The module's fixture and helpers, reused
from test_azure_plane import az, create, grant  # noqa: F401  # pylint: disable=unused-import

pytestmark = pytest.mark.timeout(120)


def put_page(az, sas, version):
    headers = {"x-ms-page-write": "update", "x-ms-range": "bytes=0-511"}
    if version:
        headers["x-ms-version"] = version
    return requests.put(sas + "&comp=page", data=b"\x02" * 512, verify=az.ca, timeout=30, headers=headers)


def test_x_ms_version_is_checked_and_echoed(az):  # noqa: F811 - the fixture
    name = "ver-%s" % uuid.uuid4().hex[:6]
    create(az, name)
    sas = grant(az, name)  # the disk stays in ActiveUpload (no footer is written); names are unique per run
    bad = put_page(az, sas, "2099-01-01")
    assert bad.status_code == 400 and bad.headers["x-ms-error-code"] == "InvalidHeaderValue"
    assert b"<HeaderName>x-ms-version</HeaderName>" in bad.content
    for version in ("2021-08-06", "2025-11-05"):
        ok = put_page(az, sas, version)
        assert ok.status_code == 201, ok.text
        assert ok.headers["x-ms-version"] == version
    # no x-ms-version: served with the SAS's signed version (sv)
    plain = put_page(az, sas, None)
    assert plain.status_code == 201 and plain.headers["x-ms-version"] == "2018-03-28"


def test_the_disk_sas_names_a_stored_access_policy(az):  # noqa: F811 - the fixture
    """Grant Access answers a SAS whose permission and expiry live in a stored access policy (si), as Azure's does
    (`...abcd?sv=2018-03-28&sr=b&si=<guid>&sig=...`, e.g. learn.microsoft.com's "Upload a VHD to Azure" output), not
    sp/se in the URL; another policy id, or one of a revoked grant, fails to authenticate."""
    from urllib.parse import parse_qs, urlsplit

    name = "si-%s" % uuid.uuid4().hex[:6]
    create(az, name)
    sas = grant(az, name)
    query = parse_qs(urlsplit(sas).query)
    assert sorted(query) == ["si", "sig", "sr", "sv"] and query["sr"] == ["b"] and len(query["si"][0]) == 36
    assert put_page(az, sas, "2021-08-06").status_code == 201
    forged = sas.replace(query["si"][0], str(uuid.uuid4()))
    answer = put_page(az, forged, "2021-08-06")
    assert answer.status_code == 403 and answer.headers["x-ms-error-code"] == "AuthenticationFailed"
    replaced = grant(az, name)  # a new grant while ActiveUpload: the old policy is gone
    answer = put_page(az, sas, "2021-08-06")
    assert answer.status_code == 403 and answer.headers["x-ms-error-code"] == "AuthenticationFailed"
    assert put_page(az, replaced, "2021-08-06").status_code == 201


def test_put_page_from_url_copies_another_disk(az, cloud_lab):  # noqa: F811 - the fixture
    """Put Page From URL (learn.microsoft.com/rest/api/storageservices/put-page-from-url), what AzCopy's disk-to-disk
    copy sends: the source is another disk's Read SAS; a source that cannot be read is 403 CannotVerifyCopySource."""
    from azure.core.exceptions import HttpResponseError
    from ips_lab.planes.seed import azure_uploaded_disk

    source_name, dest_name = "pfu-src-%s" % uuid.uuid4().hex[:6], "pfu-dst-%s" % uuid.uuid4().hex[:6]
    azure_uploaded_disk(cloud_lab.env, source_name)
    source_sas = grant(az, source_name, access="Read")
    create(az, dest_name)
    dest = blob_client(az, grant(az, dest_name))
    mib = 1024 * 1024
    dest.upload_pages_from_url(source_sas, offset=0, length=mib, source_offset=0)
    source_bytes = blob_client(az, source_sas).download_blob(offset=0, length=mib).readall()
    assert dest.download_blob(offset=0, length=mib).readall() == source_bytes and any(source_bytes)
    forged = source_sas.split("&sig=")[0] + "&sig=AAAA"
    with pytest.raises(HttpResponseError) as caught:
        dest.upload_pages_from_url(forged, offset=0, length=mib, source_offset=0)
    assert caught.value.status_code == 403 and caught.value.error_code == "CannotVerifyCopySource"


def blob_client(az, sas):
    from azure.storage.blob import BlobClient

    return BlobClient.from_blob_url(sas, connection_verify=az.ca)


def test_a_ranged_read_answers_the_crc64_it_is_asked_for(az):  # noqa: F811 - the fixture
    """Get Blob with `x-ms-range-get-content-crc64: true` ("Get Blob", learn.microsoft.com/rest/api/storageservices/get-blob):
    the response carries x-ms-content-crc64 of the range; the range must be at most 4 MiB and the MD5 may not be asked
    too (400 InvalidHeaderValue). The oracle is CRC-64/NVME's published check value, CRC of "123456789" =
    0xAE8B14860A799888, so the test does not share the plane's arithmetic."""
    import base64

    name = "crc-%s" % uuid.uuid4().hex[:6]
    create(az, name)
    sas = grant(az, name)
    page = b"123456789" + b"\x00" * 503
    wrote = requests.put(sas + "&comp=page", data=page, verify=az.ca, timeout=30,
                         headers={"x-ms-page-write": "update", "x-ms-range": "bytes=0-511", "x-ms-version": "2021-08-06"})
    assert wrote.status_code == 201, wrote.text

    def read(span, **extra):
        headers = {"x-ms-range": span, "x-ms-version": "2021-08-06", "x-ms-range-get-content-crc64": "true"}
        headers.update(extra)
        return requests.get(sas, verify=az.ca, timeout=30, headers=headers)

    ranged = read("bytes=0-8")
    assert ranged.status_code == 206 and ranged.content == b"123456789", ranged.text
    assert ranged.headers["x-ms-content-crc64"] == base64.b64encode((0xAE8B14860A799888).to_bytes(8, "little")).decode()
    too_long = read("bytes=0-%d" % (4 * 1024 * 1024))
    assert too_long.status_code == 400 and too_long.headers["x-ms-error-code"] == "InvalidHeaderValue"
    both = read("bytes=0-8", **{"x-ms-range-get-content-md5": "true"})
    assert both.status_code == 400 and both.headers["x-ms-error-code"] == "InvalidHeaderValue"
    plain = requests.get(sas, verify=az.ca, timeout=30, headers={"x-ms-range": "bytes=0-8", "x-ms-version": "2021-08-06"})
    assert plain.status_code == 206 and "x-ms-content-crc64" not in plain.headers

"""Rules of a managed disk's SAS that the Azure plane used to let pass, each answered as Azure Storage documents it:

- x-ms-version: "Versioning for Azure Storage" (learn.microsoft.com/rest/api/storageservices/versioning-for-the-azure-storage-services):
  the response's x-ms-version is the version the request was served with; an unknown version is
  400 InvalidHeaderValue naming the header.
"""

import uuid

import pytest
import requests

from test_azure_plane import az, create, grant  # noqa: F401 - the module's fixture and helpers, reused

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

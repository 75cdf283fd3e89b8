"""Error messages: one line, the service's reason, the transaction id, never a secret."""

import json

import pytest

from ansible_collections.citrix_community.ips.plugins.module_utils._errors import (
    IPSApiError, IPSAuthError, IPSConnectionError, IPSError, IPSTLSError, redact, service_message)


@pytest.mark.parametrize("body, expected", [
    (json.dumps({"title": "Bad Request", "detail": "prefix too long"}), "prefix too long"),
    (json.dumps({"title": "Conflict"}), "Conflict"),
    (json.dumps({"message": "nope"}), "nope"),
    (json.dumps({"error": "invalid_client", "error_description": "unknown client"}), "unknown client"),
    (json.dumps({"other": 1}), '{"other": 1}'),
    (b"plain   text\nbody", "plain text body"),
    ("", ""),
    (None, ""),
])
def test_service_message(body, expected):
    assert service_message(body) == expected


def test_service_message_trims_long_text():
    assert len(service_message("x" * 5000)) == 300


def test_redact_longest_secret_first():
    assert redact("a abc abcdef", ["abc", "abcdef", "", None]) == "a ******** ********"
    assert redact(None, ["x"]) is None


def test_every_error_carries_the_transaction_id():
    errors = [
        IPSError("boom", "t-0"),
        IPSApiError(404, "not found", "t-1", "GET", "/ips/jobs/x", "{}"),
        IPSAuthError(401, "invalid_client", "t-2"),
        IPSConnectionError("api-us.cloud.com", "timed out", 5, "t-3"),
        IPSTLSError("api-us.cloud.com", "self-signed certificate", "t-4"),
    ]
    for n, err in enumerate(errors):
        assert str(err).endswith("(transaction id: t-%d)" % n)
        assert "\n" not in str(err)
        assert repr(err) == "%s(%r)" % (type(err).__name__, str(err))


def test_no_transaction_id_no_suffix():
    assert str(IPSError("boom")) == "boom"


def test_api_error_attributes():
    err = IPSApiError(503, "busy", "t", "GET", "/ips/jobs", "b" * 10000, retries=1, hint="Try later")
    assert (err.status, err.method, err.path, err.transaction_id, err.retries, err.service_message) == (503, "GET", "/ips/jobs", "t", 1, "busy")
    assert len(err.body) == 4096
    assert str(err) == "Citrix Cloud answered HTTP 503 to GET /ips/jobs: busy (after 1 retry). Try later (transaction id: t)"


def test_hints():
    assert "client_secret" in str(IPSAuthError(401, None))
    assert "retries made" in str(IPSConnectionError("h", "refused", 3)) and "h" in str(IPSConnectionError("h", "x"))
    tls = str(IPSTLSError("h", "unable to get local issuer certificate"))
    assert "ca_path" in tls and "validate_certs: false" in tls

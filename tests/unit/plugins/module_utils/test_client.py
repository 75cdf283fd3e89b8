"""IPSClient against a real local HTTPS server (see conftest.py): auth, retries, TLS, headers, paging, errors."""

import json
import re
import socket
import time
from urllib.parse import parse_qs

import pytest

from ansible_collections.citrix_community.ips.plugins.module_utils import _wire
from ansible_collections.citrix_community.ips.plugins.module_utils._client import IPSClient
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import (
    IPSApiError, IPSAuthError, IPSConnectionError, IPSError, IPSTLSError)
from ansible_collections.citrix_community.ips.plugins.module_utils._version import COLLECTION_VERSION

from ips_https_server import CLIENT_ID, CUSTOMER, SECRET, drop, reply, stall

TID = _wire.HEADER_TRANSACTION_ID.json.lower()
AUTH = _wire.HEADER_AUTHORIZATION.json.lower()


def bearer(token):
    return _wire.AUTHORIZATION_FORMAT.format(token=token)


# --- token ------------------------------------------------------------------------------------

@pytest.mark.parametrize("expires_in", ["3600", 3600])
def test_token_fetched_with_form_body(cloud, make_client, expires_in):
    cloud.expires_in = expires_in
    client = make_client()
    client.call("jobs")
    client.call("jobs")

    [tok] = cloud.token_requests  # one token for both calls
    assert tok.method == "POST"
    assert tok.path == "/cctrustoauth2/%s/tokens/clients" % CUSTOMER
    assert tok.headers["content-type"] == "application/x-www-form-urlencoded"
    assert tok.headers["accept"] == "application/json"
    assert parse_qs(tok.body.decode()) == {"grant_type": ["client_credentials"], "client_id": [CLIENT_ID], "client_secret": [SECRET]}
    assert AUTH not in tok.headers
    assert [r.headers[AUTH] for r in cloud.api_requests] == [bearer("tok-1")] * 2


def test_token_refreshed_ahead_of_expiry_without_a_401(cloud, make_client, clock):
    client = make_client()
    client.call("jobs")
    clock.advance(3600 - 300 - 1)  # still outside the 300 s margin
    client.call("jobs")
    assert len(cloud.token_requests) == 1
    clock.advance(2)  # inside the margin: renew before the service could refuse it
    client.call("jobs")
    assert len(cloud.token_requests) == 2
    assert [r.headers[AUTH] for r in cloud.api_requests] == [bearer("tok-1"), bearer("tok-1"), bearer("tok-2")]


def test_short_token_renews_at_three_quarters_of_its_life(cloud, make_client, clock):
    cloud.expires_in = 400  # margin = min(300, 400 / 4) = 100 s
    client = make_client()
    client.call("jobs")
    clock.advance(299)
    client.call("jobs")
    assert len(cloud.token_requests) == 1
    clock.advance(2)
    client.call("jobs")
    assert len(cloud.token_requests) == 2


@pytest.mark.parametrize("route, body", [("jobs", None), ("export", {"platform": "vsphere"})])
def test_401_reauthenticates_once_and_retries_once(cloud, make_client, sleeps, route, body):
    cloud.api(reply(401, {"title": "Unauthorized"}), reply(200, {"id": "j-1"}))
    resp = make_client().call(route, body=body)
    assert resp.data == {"id": "j-1"}
    assert len(cloud.token_requests) == 2
    assert [r.headers[AUTH] for r in cloud.api_requests] == [bearer("tok-1"), bearer("tok-2")]
    assert sleeps == []


def test_second_401_is_an_error(cloud, make_client):
    cloud.api(reply(401, {"title": "Unauthorized"}), reply(401, {"title": "Unauthorized"}), reply(200, {}))
    with pytest.raises(IPSApiError) as err:
        make_client().call("jobs")
    assert err.value.status == 401
    assert len(cloud.api_requests) == 2 and len(cloud.token_requests) == 2
    assert err.value.transaction_id == cloud.api_requests[-1].headers[TID]


def test_token_endpoint_refusal_is_an_auth_error_without_secrets(cloud, make_client):
    # A hostile or verbose service echoing the secret must not get it into the message.
    cloud.token(reply(401, {"error": "invalid_client", "error_description": "bad secret %s" % SECRET}))
    with pytest.raises(IPSAuthError) as err:
        make_client().call("jobs")
    text = str(err.value) + repr(err.value)
    assert "client_id" in text and "client_secret" in text and "customer_id" in text
    assert "bad secret" in text
    assert SECRET not in text
    assert "transaction id: %s" % cloud.token_requests[0].headers[TID] in str(err.value)
    assert cloud.api_requests == []


def test_token_answer_without_access_token_is_an_auth_error(cloud, make_client):
    cloud.token(reply(200, {"token_type": "bearer"}))
    with pytest.raises(IPSAuthError) as err:
        make_client().call("jobs")
    assert "access_token" in str(err.value)


# --- retries ----------------------------------------------------------------------------------

def test_429_honours_retry_after_seconds(cloud, make_client, sleeps):
    cloud.api(reply(429, {"title": "Too Many Requests"}, headers={"Retry-After": "2"}), reply(200, {"ok": True}))
    assert make_client().call("jobs").data == {"ok": True}
    assert sleeps == [2.0]
    assert len(cloud.api_requests) == 2


def test_429_on_post_is_retried(cloud, make_client, sleeps):
    cloud.api(reply(429, headers={"Retry-After": "1"}), reply(202, {"id": "j-1"}))
    assert make_client().call("export", body={"a": 1}).status == 202
    assert [r.method for r in cloud.api_requests] == ["POST", "POST"]
    assert sleeps == [1.0]


def test_retry_after_is_capped_by_retry_max_delay(cloud, make_client, sleeps):
    cloud.api(reply(503, headers={"Retry-After": "120"}), reply(200, {}))
    make_client(retry_max_delay=7).call("jobs")
    assert sleeps == [7.0]


def test_503_retried_with_jittered_backoff(cloud, make_client, sleeps):
    cloud.api(reply(503), reply(503), reply(200, {"ok": 1}))
    assert make_client().call("export", body={}).data == {"ok": 1}
    # Full jitter, base 1 s: rand (0.5) * 1, then rand * 2.
    assert sleeps == [0.5, 1.0]
    assert len(cloud.api_requests) == 3


def test_502_on_post_is_not_retried(cloud, make_client, sleeps):
    cloud.api(reply(502, {"title": "Bad Gateway"}), reply(202, {"id": "j-2"}))
    with pytest.raises(IPSApiError) as err:
        make_client().call("export", body={"platform": "vsphere"})
    assert [r.method for r in cloud.api_requests] == ["POST"]
    assert sleeps == []
    sent = cloud.api_requests[0].headers[TID]
    assert err.value.status == 502 and err.value.transaction_id == sent
    assert "transaction id: %s" % sent in str(err.value)
    assert "ips_job_info" in str(err.value)  # tells the user how to find out whether the job started


@pytest.mark.parametrize("status", [502, 504])
@pytest.mark.parametrize("route, path_params", [("job", {"id": "j"}), ("credential_delete", {"id": "c"})])
def test_502_504_on_idempotent_methods_retried(cloud, make_client, sleeps, status, route, path_params):
    cloud.api(reply(status), reply(200, {"id": "x"}))
    assert make_client().call(route, path_params=path_params).data == {"id": "x"}
    assert len(cloud.api_requests) == 2
    assert len(sleeps) == 1


def test_dropped_connection_on_get_retried(cloud, make_client, sleeps):
    cloud.api(drop(), reply(200, {"items": []}))
    assert make_client().call("jobs").data == {"items": []}
    assert len(cloud.api_requests) == 2
    assert sleeps == [0.5]


def test_dropped_connection_on_post_not_retried(cloud, make_client, sleeps):
    cloud.api(drop(), reply(202, {}))
    with pytest.raises(IPSConnectionError) as err:
        make_client().call("export", body={"platform": "vsphere"})
    assert [r.method for r in cloud.api_requests] == ["POST"]
    assert sleeps == []
    assert "127.0.0.1" in str(err.value) and "0 retries" in str(err.value)
    assert "ips_job_info" in str(err.value)
    assert err.value.transaction_id == cloud.api_requests[0].headers[TID]


def test_connection_reset_on_get_retried(cloud, make_client, sleeps):
    client = make_client()
    client.call("jobs")  # the token is fetched before the faults start
    cloud.resets = 2
    assert client.call("jobs").status == 200
    assert cloud.resets == 0 and len(sleeps) == 2
    assert len(cloud.api_requests) == 2  # the reset attempts never got to send a request


def test_connection_reset_on_post_not_retried(cloud, make_client, sleeps):
    client = make_client()
    client.call("jobs")
    cloud.resets = 1
    with pytest.raises(IPSConnectionError) as err:
        client.call("export", body={})
    assert "reset" in str(err.value).lower() and sleeps == []


def test_connection_refused_bounded_by_max_retries(make_client, sleeps):
    # A loopback port nobody listens on.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(IPSConnectionError) as err:
        make_client(api_url="https://127.0.0.1:%d" % port, max_retries=2).call("jobs")
    assert "127.0.0.1:%d" % port in str(err.value) and "2 retries" in str(err.value)
    assert "refused" in str(err.value).lower()
    assert len(sleeps) == 2  # the token call is safe to repeat, so it was retried too


@pytest.mark.parametrize("fault", [drop, lambda: reply(502)], ids=["closed", "502"])
def test_token_call_is_retried_like_an_idempotent_one(cloud, make_client, sleeps, fault):
    cloud.token(fault())
    assert make_client().call("jobs").status == 200
    assert len(cloud.token_requests) == 2 and len(sleeps) == 1


def test_timeout_on_get_retried(cloud, make_client, sleeps):
    cloud.api(stall(0.6), reply(200, {"ok": 1}))
    assert make_client(request_timeout=0.2).call("jobs").data == {"ok": 1}
    assert len(cloud.api_requests) == 2 and len(sleeps) == 1


def test_retries_bounded_by_max_retries(cloud, make_client, sleeps):
    cloud.api(*[reply(503, {"detail": "overloaded"}) for dummy in range(6)])
    with pytest.raises(IPSApiError) as err:
        make_client(max_retries=2).call("jobs")
    assert len(cloud.api_requests) == 3
    assert len(sleeps) == 2
    assert err.value.status == 503 and err.value.retries == 2
    assert "overloaded" in str(err.value) and "after 2 retries" in str(err.value)
    assert err.value.transaction_id == cloud.api_requests[-1].headers[TID]


def test_dropped_connections_bounded_by_max_retries(cloud, make_client, sleeps):
    cloud.api(*[drop() for dummy in range(6)])
    with pytest.raises(IPSConnectionError) as err:
        make_client(max_retries=2).call("jobs")
    assert len(cloud.api_requests) == 3
    assert "2 retries" in str(err.value)


def test_max_retries_zero_means_one_attempt(cloud, make_client, sleeps):
    cloud.api(reply(503), reply(200, {}))
    with pytest.raises(IPSApiError):
        make_client(max_retries=0).call("jobs")
    assert len(cloud.api_requests) == 1 and sleeps == []


@pytest.mark.parametrize("status", [400, 403, 404, 409, 500])
def test_other_errors_not_retried(cloud, make_client, sleeps, status):
    cloud.api(reply(status, {"detail": "nope"}), reply(200, {}))
    with pytest.raises(IPSApiError) as err:
        make_client().call("job", path_params={"id": "j"})
    assert err.value.status == status
    assert len(cloud.api_requests) == 1 and sleeps == []


# --- TLS --------------------------------------------------------------------------------------

def test_wrong_ca_is_a_tls_error_suggesting_ca_path(cloud, make_client, pki, sleeps):
    with pytest.raises(IPSTLSError) as err:
        make_client(ca_path=str(pki.other_ca)).call("jobs")
    assert "ca_path" in str(err.value) and "validate_certs" in str(err.value)
    assert "127.0.0.1" in str(err.value)
    assert cloud.received == []
    # The server counts the failed handshake in its own thread, possibly just after the client gave up.
    deadline = time.monotonic() + 2
    while cloud.tls_failures < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cloud.tls_failures >= 1
    assert sleeps == []  # a certificate problem does not go away by retrying


def test_system_cas_alone_do_not_trust_the_lab_ca(cloud, make_client):
    with pytest.raises(IPSTLSError):
        make_client(ca_path=None).call("jobs")


def test_right_ca_path_verifies(cloud, make_client):
    assert make_client().call("jobs").status == 200


def test_validate_certs_false_skips_verification(cloud, make_client):
    assert make_client(ca_path=None, validate_certs=False).call("jobs").status == 200


def test_unreadable_ca_path_is_a_clear_error(cloud, make_client, tmp_path):
    with pytest.raises(IPSError) as err:
        make_client(ca_path=str(tmp_path / "missing.pem"))
    assert "ca_path" in str(err.value)


# --- headers and bodies -----------------------------------------------------------------------

def test_headers_on_every_call(cloud, make_client):
    cloud.api(reply(503), reply(202, {"id": "j"}), reply(200, {}))
    client = make_client()
    client.call("export", body={"prefix": "caf\u00e9"})
    client.call("jobs")
    post, retried, get = cloud.api_requests
    for rec in (post, retried, get):
        assert rec.headers[AUTH] == "CwsAuth Bearer=tok-1"
        assert rec.headers[_wire.HEADER_CUSTOMER_ID.json.lower()] == CUSTOMER
        assert rec.headers["accept"] == "application/json"
        assert re.match(r"^citrix_community\.ips/%s ansible-core/\S+ python/\d+\.\d+" % re.escape(COLLECTION_VERSION), rec.headers["user-agent"])
    assert post.headers["content-type"] == "application/json;charset=utf-8"
    assert "content-type" not in get.headers
    # The body is UTF-8 JSON.
    assert json.loads(post.body.decode("utf-8")) == {"prefix": "caf\u00e9"}
    assert "caf\u00e9".encode("utf-8") in post.body
    # A fresh transaction id per attempt, the token call included.
    ids = [r.headers[TID] for r in cloud.received]
    assert len(ids) == 4 and len(set(ids)) == 4
    assert all(re.match(r"^[0-9a-f-]{36}$", i) for i in ids)


def test_response_shape(cloud, make_client):
    cloud.api(reply(202, {"id": "j-9"}, headers={"Location": "/ips/jobs/j-9", "Citrix-TransactionId": "server-tid"}))
    resp = make_client().call("export", body={})
    assert resp.status == 202 and resp.data == {"id": "j-9"}
    assert resp.headers["location"] == "/ips/jobs/j-9"
    assert resp.transaction_id == "server-tid"  # the service's own id wins when it returns one


def test_redirects_are_not_followed(cloud, make_client):
    cloud.api(reply(302, headers={"Location": "https://elsewhere.example.test/ips/jobs"}))
    with pytest.raises(IPSApiError) as err:
        make_client().call("jobs")
    assert err.value.status == 302 and "elsewhere.example.test" in str(err.value) and "api_url" in str(err.value)
    assert len(cloud.api_requests) == 1


def test_empty_body_gives_none(cloud, make_client):
    cloud.api(reply(204))
    resp = make_client().call("credential_delete", path_params={"id": "c"})
    assert resp.status == 204 and resp.data is None


def test_routes_path_params_and_query(cloud, make_client):
    client = make_client()
    client.call("job", path_params={"id": "a b/c"})
    client.call("export", query={_wire.QUERY_DRY_RUN.json: True, "skip": None}, body={})
    first, second = cloud.api_requests
    assert first.method == "GET" and first.path == "/ips/jobs/a%20b%2Fc"
    assert second.method == "POST" and second.path == "/ips/images/$export"
    assert second.query == {"dryRun": ["true"]}


def test_module_versions_is_unauthenticated(cloud, make_client):
    cloud.api(reply(200, {"Citrix.Workloads.Portability": "2.4.6"}))
    assert make_client().module_versions() == {"Citrix.Workloads.Portability": "2.4.6"}
    [rec] = cloud.received
    assert rec.path == "/info/powershellModuleVersions"
    assert AUTH not in rec.headers and cloud.token_requests == []


# --- paging -----------------------------------------------------------------------------------

def test_iter_pages_follows_continuation_tokens(cloud, make_client):
    cloud.api(
        reply(200, {"items": [{"id": 1}, {"id": 2}], "continuationToken": "c1"}),
        reply(200, {"items": [{"id": 3}], "continuationToken": "c2"}),
        reply(200, {"items": [{"id": 4}], "continuationToken": None}),
    )
    items = list(make_client().iter_pages("credentials", query={"type": "Azure"}))
    assert [i["id"] for i in items] == [1, 2, 3, 4]
    queries = [r.query for r in cloud.api_requests]
    assert queries == [{"type": ["Azure"]}, {"type": ["Azure"], "continuationToken": ["c1"]}, {"type": ["Azure"], "continuationToken": ["c2"]}]


def test_iter_pages_accepts_a_plain_list(cloud, make_client):
    cloud.api(reply(200, [{"id": "a"}]))
    assert list(make_client().iter_pages("credentials")) == [{"id": "a"}]


def test_iter_pages_stops_on_a_repeated_token(cloud, make_client):
    cloud.api(*[reply(200, {"items": [{"id": 1}], "continuationToken": "same"}) for dummy in range(3)])
    with pytest.raises(IPSError) as err:
        list(make_client().iter_pages("jobs"))
    assert "continuation token" in str(err.value)


# --- error messages ---------------------------------------------------------------------------

def test_error_message_has_detail_and_transaction_id_never_secrets(cloud, make_client):
    cloud.api(reply(400, {"type": "x", "title": "Bad Request", "status": 400, "detail": "prefix must be 1-12 characters"}))
    with pytest.raises(IPSApiError) as err:
        make_client().call("export", body={"prefix": "much-too-long-prefix"})
    e = err.value
    sent = cloud.api_requests[0].headers[TID]
    assert "prefix must be 1-12 characters" in str(e)
    assert "HTTP 400" in str(e) and "POST /ips/images/$export" in str(e)
    assert "transaction id: %s" % sent in str(e)
    assert (e.status, e.method, e.path, e.transaction_id) == (400, "POST", "/ips/images/$export", sent)
    for text in (str(e), repr(e), e.body):
        assert SECRET not in text and "tok-1" not in text


def test_echoed_token_and_body_secrets_are_masked(cloud, make_client):
    password = "Pa55-word-XYZ"
    echo = "token tok-1 secret %s password %s" % (SECRET, password)
    cloud.api(reply(409, {"detail": echo}))
    body = {"id": "smb", "type": "UsernamePassword", "username": "u", "password": password}
    with pytest.raises(IPSApiError) as err:
        make_client().call("credential_create", body=body)
    for text in (str(err.value), repr(err.value), err.value.body, err.value.service_message):
        assert "tok-1" not in text and SECRET not in text and password not in text
    assert "token ******** secret ******** password ********" in str(err.value)


def test_non_json_error_body_is_trimmed_text(cloud, make_client):
    cloud.api(reply(500, "<html>  Internal\n\n  error " + "x" * 1000 + "</html>"))
    with pytest.raises(IPSApiError) as err:
        make_client().call("jobs")
    assert "<html> Internal error xxx" in str(err.value)
    assert len(str(err.value)) < 500


# --- hosts ------------------------------------------------------------------------------------

@pytest.mark.parametrize("region", sorted(_wire.REGION_API_URLS))
def test_region_selects_the_host(region):
    client = IPSClient(CUSTOMER, CLIENT_ID, SECRET, region=region)
    assert client.api_url == _wire.REGION_API_URLS[region]


def test_region_defaults_to_us():
    assert IPSClient(CUSTOMER, CLIENT_ID, SECRET).api_url == _wire.REGION_API_URLS["us"]


def test_api_url_overrides_region():
    client = IPSClient(CUSTOMER, CLIENT_ID, SECRET, region="eu", api_url="https://ips.example.test:8443/")
    assert client.api_url == "https://ips.example.test:8443"
    assert client.host == "ips.example.test:8443"


def test_unknown_region_names_the_choices():
    with pytest.raises(IPSError) as err:
        IPSClient(CUSTOMER, CLIENT_ID, SECRET, region="mars")
    assert "mars" in str(err.value) and "eu" in str(err.value) and "api_url" in str(err.value)

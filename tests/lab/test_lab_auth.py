"""The token endpoint and the checks every IPS call goes through: 401, 403, 406, 415, transaction ids."""

import base64
import json
import uuid


def test_token_happy_path_gives_a_string_expires_in(api):
    resp = api.token_request()
    assert resp.status == 200
    assert resp.json["token_type"] == "bearer"
    assert resp.json["expires_in"] == "3600"
    payload = resp.json["access_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert json.loads(claims["customers"])[0]["CustomerId"] == api.config["customer_id"]
    # The customer id works in place of root, and the token opens IPS calls.
    assert api.token_request(customer=api.config["customer_id"]).status == 200
    assert api.ips("GET", "credentials").status == 200


def test_token_ttl_follows_the_runtime_config(api, admin):
    admin.set_config(token_ttl=120)
    assert api.token_request().json["expires_in"] == "120"


def test_token_rejects_a_bad_client(api):
    resp = api.token_request({"grant_type": "client_credentials", "client_id": api.config["client_id"], "client_secret": "wrong"})
    assert resp.status == 401
    assert resp.json["status"] == 401 and resp.json["type"].startswith("https://errors.lab/")
    assert api.token_request(customer="someone-else").status == 401


def test_token_rejects_bad_grant_and_missing_fields_naming_them(api):
    resp = api.token_request({"grant_type": "password", "client_id": "a", "client_secret": "b"})
    assert resp.status == 400 and "grant_type" in resp.json["detail"] and "grant_type" in resp.json["errors"]
    resp = api.token_request({"grant_type": "client_credentials", "client_id": api.config["client_id"]})
    assert resp.status == 400 and "client_secret" in resp.json["detail"]


def test_token_needs_a_form_body(api):
    resp = api.send("POST", "/cctrustoauth2/root/tokens/clients", {"client_id": "a", "client_secret": "b"}, headers={"Accept": "application/json"})
    assert resp.status == 415


def test_ips_calls_need_a_valid_token(api, admin):
    no_auth = api.ips("GET", "credentials", headers={"Authorization": None})
    assert no_auth.status == 401 and "Authorization" in no_auth.json["errors"]
    assert api.ips("GET", "credentials", headers={"Authorization": "Bearer %s" % api.token}).status == 401
    assert api.ips("GET", "credentials", headers={"Authorization": "CwsAuth Bearer=not-a-token"}).status == 401
    # The scheme and "bearer=" are case-insensitive, as the PowerShell SDK sends them.
    assert api.ips("GET", "credentials", headers={"Authorization": "CWSAuth bearer=%s" % api.token}).status == 200


def test_tokens_expire_by_the_lab_clock(api, admin):
    admin.set_config(token_ttl=60)
    assert api.ips("GET", "jobs").status == 200
    admin.advance_clock(61)
    expired = api.ips("GET", "jobs")
    assert expired.status == 401 and "expired" in expired.json["detail"]


def test_customer_mismatch_is_403(api):
    assert api.ips("GET", "jobs", headers={"Citrix-CustomerId": "another-customer"}).status == 403
    assert api.ips("GET", "jobs", headers={"Citrix-CustomerId": None}).status == 403


def test_accept_must_admit_json(api):
    assert api.ips("GET", "jobs", headers={"Accept": "text/html"}).status == 406
    assert api.ips("GET", "jobs", headers={"Accept": "application/json;version=preview"}).status == 200
    assert api.ips("GET", "jobs", headers={"Accept": "text/html, */*;q=0.1"}).status == 200
    assert api.ips("GET", "jobs", headers={"Accept": "application/json;q=0"}).status == 406


def test_bodies_must_be_json(api):
    body = {"id": "x", "type": "UsernamePassword", "username": "u", "password": "p"}
    resp = api.ips("POST", "credentials", body, headers={"Content-Type": "text/plain"})
    assert resp.status == 415 and resp.json["detail"]
    assert api.ips("POST", "credentials", body, headers={"Content-Type": "application/json;charset=utf-8"}).status == 201
    broken = api.ips("POST", "credentials", raw_body=b"{not json")
    assert broken.status == 400 and "JSON" in broken.json["detail"]


def test_routes_are_served_under_ips_and_bare(api):
    bare = api.send("GET", "/jobs", headers=api.auth_headers())
    assert bare.status == 200 and bare.json["items"] == []
    assert api.ips("GET", "no/such/route").status == 404
    not_allowed = api.ips("PATCH", "jobs")
    assert not_allowed.status == 405 and "GET" in not_allowed.headers["Allow"]


def test_module_versions_need_no_auth(api):
    resp = api.send("GET", "/info/powershellModuleVersions", headers={"Accept": "application/json"})
    assert resp.status == 200
    assert "Citrix.Workloads.Portability" in resp.json


def test_transaction_id_is_echoed_or_made(api):
    mine = str(uuid.uuid4())
    assert api.ips("GET", "jobs", headers={"Citrix-TransactionId": mine}).headers["Citrix-TransactionId"] == mine
    fresh = api.ips("GET", "jobs").headers["Citrix-TransactionId"]
    assert uuid.UUID(fresh)
    # Errors carry one too.
    assert api.ips("GET", "jobs", headers={"Authorization": None}).headers["Citrix-TransactionId"]

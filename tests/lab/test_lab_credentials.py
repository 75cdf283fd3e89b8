"""The Credential Wallet: CRUD, strict validation naming the field, and no secret in any answer."""

import json
import re

import pytest

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
METADATA_KEYS = {"id", "type", "state", "createdAt", "updatedAt"}

SECRETS = {
    "up": "up-pw-3f9a1c77",
    "aws": "aws-sk-0b8e55d2",
    "aws_session": "aws-st-9d1f0a6e",
    "azure": "az-cs-7c2e4b19",
    "gcp": "-----BEGIN PRIVATE KEY-----\\ngcp-pk-51ad0e3b\\n-----END PRIVATE KEY-----\\n",
}
GCP_KEY = {"type": "service_account", "project_id": "lab-7", "private_key": SECRETS["gcp"], "client_email": "x@lab-7.iam"}
BODIES = [
    {"id": "vc-admin", "type": "UsernamePassword", "username": "administrator", "password": SECRETS["up"], "domain": "VSPHERE"},
    {"id": "aws-main", "type": "Aws", "accessKeyId": "AKIAEXAMPLE", "secretAccessKey": SECRETS["aws"], "sessionToken": SECRETS["aws_session"]},
    {"id": "azure-sp", "type": "Azure", "tenantId": "tenant", "clientId": "client", "clientSecret": SECRETS["azure"]},
    {"id": "gcp-obj", "type": "Gcp", "serviceAccountKey": GCP_KEY},
    {"id": "gcp-str", "type": "Gcp", "serviceAccountKey": json.dumps(GCP_KEY)},
]


def assert_no_secret(resp_or_text):
    text = resp_or_text if isinstance(resp_or_text, str) else resp_or_text.raw.decode()
    for value in SECRETS.values():
        assert value not in text and value.replace("\\n", "\n") not in text


def test_crud_round_trip_never_answers_a_secret(api, admin):
    for body in BODIES:
        created = api.ips("POST", "credentials", body)
        assert created.status == 201, created.raw
        assert set(created.json) == METADATA_KEYS
        assert created.json["state"] == "Ok" and created.json["id"] == body["id"] and created.json["type"] == body["type"]
        assert ISO.match(created.json["createdAt"]) and created.json["createdAt"] == created.json["updatedAt"]
        assert_no_secret(created)

    listed = api.ips("GET", "credentials")
    assert sorted(c["id"] for c in listed.json["items"]) == sorted(b["id"] for b in BODIES)
    assert all(set(c) == METADATA_KEYS for c in listed.json["items"])
    assert_no_secret(listed)
    gcp_only = api.ips("GET", "credentials?type=Gcp")
    assert sorted(c["id"] for c in gcp_only.json["items"]) == ["gcp-obj", "gcp-str"]

    one = api.ips("GET", "credentials/aws-main")
    assert one.status == 200 and one.json["type"] == "Aws"
    assert_no_secret(one)

    # PUT is a full replace; the type may change; updatedAt moves on.
    replaced = api.ips("PUT", "credentials/aws-main", {"id": "aws-main", "type": "UsernamePassword", "username": "u", "password": SECRETS["up"]})
    assert replaced.status == 200 and replaced.json["type"] == "UsernamePassword"
    assert replaced.json["updatedAt"] > one.json["updatedAt"] and replaced.json["createdAt"] == one.json["createdAt"]
    assert_no_secret(replaced)

    assert api.ips("DELETE", "credentials/aws-main").status == 204
    assert api.ips("GET", "credentials/aws-main").status == 404
    assert api.ips("DELETE", "credentials/aws-main").status == 404
    assert api.ips("PUT", "credentials/aws-main", BODIES[1]).status == 404

    # Nothing secret reached the recorded requests or the job-free raw state either.
    assert_no_secret(json.dumps(admin.requests()))
    assert all("Authorization" not in r["headers"] for r in admin.requests())


def test_duplicate_id_is_409(api):
    assert api.ips("POST", "credentials", BODIES[0]).status == 201
    again = api.ips("POST", "credentials", BODIES[0])
    assert again.status == 409 and "vc-admin" in again.json["detail"]


@pytest.mark.parametrize("body, field", [
    ({"id": "x", "type": "Simple", "secret": "s"}, "type"),
    ({"id": "x", "type": "UsernamePassword", "username": "u", "password": "p", "colour": "red"}, "colour"),
    ({"id": "x", "type": "UsernamePassword", "username": "u"}, "password"),
    ({"id": "x", "type": "Aws", "accessKeyId": "a"}, "secretAccessKey"),
    ({"id": "x", "type": "Azure", "tenantId": "t", "clientSecret": "s"}, "clientId"),
    ({"id": "x", "type": "Gcp", "serviceAccountKey": "not json"}, "serviceAccountKey"),
    ({"id": "x", "type": "Gcp", "serviceAccountKey": {"type": "service_account", "project_id": "p"}}, "serviceAccountKey"),
    ({"id": "", "type": "UsernamePassword", "username": "u", "password": "p"}, "id"),
    ({"type": "UsernamePassword", "username": "u", "password": "p"}, "id"),
    ({"id": "x", "type": "UsernamePassword", "username": 5, "password": "p"}, "username"),
])
def test_bad_bodies_are_400_naming_the_field(api, body, field):
    resp = api.ips("POST", "credentials", body)
    assert resp.status == 400, resp.raw
    assert field in resp.json["errors"]
    assert "'%s'" % field in resp.json["detail"]
    assert "\n" not in resp.json["detail"]


def test_put_validates_like_post_and_the_id_must_match(api):
    assert api.ips("POST", "credentials", BODIES[0]).status == 201
    assert api.ips("PUT", "credentials/vc-admin", dict(BODIES[0], password=None)).status == 400
    mismatch = api.ips("PUT", "credentials/vc-admin", dict(BODIES[0], id="other"))
    assert mismatch.status == 400 and "id" in mismatch.json["errors"]


def test_unknown_type_filter_is_400(api):
    assert api.ips("GET", "credentials?type=Nope").status == 400

"""Credential wallet bodies: built from the wire table, validated before any request."""

import json

import pytest

from ansible_collections.citrix_community.ips.plugins.module_utils import _credentials
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError

GCP_KEY = {"type": "service_account", "project_id": "p", "private_key": "PRIVATE", "client_email": "a@p.iam.gserviceaccount.com"}


def test_username_password_body_uses_wire_names():
    body = _credentials.build_body("smb", "username_password", {"username": "u", "password": "pw", "domain": "CORP"})
    assert body == {"id": "smb", "type": "UsernamePassword", "username": "u", "password": "pw", "domain": "CORP"}


def test_optional_fields_left_out_when_unset():
    body = _credentials.build_body("aws1", "aws", {"aws_access_key_id": "AKIA", "aws_secret_access_key": "s", "aws_session_token": None})
    assert body == {"id": "aws1", "type": "Aws", "accessKeyId": "AKIA", "secretAccessKey": "s"}


def test_missing_required_fields_are_named():
    with pytest.raises(IPSError) as err:
        _credentials.build_body("az", "azure", {"azure_tenant_id": "t"})
    assert "azure_client_id" in str(err.value) and "azure_client_secret" in str(err.value)
    assert "azure_tenant_id" not in str(err.value)


def test_gcp_key_accepted_as_dict_or_json_string():
    as_dict = _credentials.build_body("g", "gcp", {"gcp_service_account_key": GCP_KEY})
    as_text = _credentials.build_body("g", "gcp", {"gcp_service_account_key": json.dumps(GCP_KEY)})
    assert as_dict == as_text == {"id": "g", "type": "Gcp", "serviceAccountKey": GCP_KEY}


@pytest.mark.parametrize("value, hint", [("{not json", "not valid JSON"), ("[1, 2]", "JSON object"), ({"type": "service_account"}, "private_key")])
def test_bad_gcp_key_names_the_option(value, hint):
    with pytest.raises(IPSError) as err:
        _credentials.parse_gcp_key(value)
    assert "gcp_service_account_key" in str(err.value) and hint in str(err.value)
    assert "PRIVATE" not in str(err.value)


def test_misplaced_options_name_their_type():
    params = {"username": "u", "azure_tenant_id": "t", "aws_access_key_id": None}
    assert _credentials.misplaced_options("username_password", params) == [("azure_tenant_id", "azure")]


def test_public_view_never_holds_secrets():
    params = {"username": "u", "password": "pw", "domain": "D"}
    assert _credentials.public_view("smb", "username_password", params) == {"name": "smb", "type": "username_password", "username": "u", "domain": "D"}
    view = _credentials.public_view("g", "gcp", {"gcp_service_account_key": GCP_KEY})
    assert view == {"name": "g", "type": "gcp"}


def test_shape_maps_wallet_type_back_to_option_value():
    meta = {"id": "a", "type": "Azure", "state": "Ok", "createdAt": "c", "updatedAt": "u"}
    assert _credentials.shape(meta) == {"name": "a", "type": "azure", "state": "Ok", "created_at": "c", "updated_at": "u"}


@pytest.mark.parametrize("existing,ctype,state,update_secret,action", [
    (None, "aws", "present", "on_create", "create"),
    ({"name": "a", "type": "aws"}, "aws", "present", "on_create", None),  # the wallet shows no secret: kept
    ({"name": "a", "type": "aws"}, "aws", "present", "always", "update"),
    ({"name": "a", "type": "aws"}, "azure", "present", "on_create", "update"),  # another type is rewritten
    ({"name": "a", "type": "aws"}, None, "absent", "on_create", "delete"),
    (None, None, "absent", "always", None),
])
def test_action_for_is_the_one_rule_of_ips_credential_and_its_info_module(existing, ctype, state, update_secret, action):
    assert _credentials.action_for(existing, ctype, state, update_secret) == action

"""Service error messages name options, not JSON fields: _wire.option_name reads the wire table backwards."""

import json

from ansible_collections.citrix_community.ips.plugins.module_utils import _wire
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSApiError, to_option_names


def test_json_fields_map_to_the_options_users_set():
    assert _wire.option_name("outputStorageLocation.credentialId") == "smb.credential_id"
    assert _wire.option_name("inputStorageLocation.location") == "smb.location"
    assert _wire.option_name("installMisa") == "vda.install_misa"
    assert _wire.option_name("overwriteTargetFile") == "force"
    assert _wire.option_name("targetResourceGroup") == "azure.resource_group"
    assert _wire.option_name("timeout") == "job_timeout"
    assert _wire.option_name("usePublicIp") == "azure.use_public_ip or aws.use_public_ip or gcp.use_public_ip"  # shared name: all
    assert _wire.option_name("noSuchField") is None


def test_every_wire_name_has_an_option():
    """A field added to the wire table without an option behind it would leave its JSON name in messages."""
    tables = [_wire.JOB_COMMON_FIELDS, _wire.EXPORT_FIELDS, _wire.PREPARE_FIELDS, _wire.PVS_FIELDS, _wire.DIAGNOSTICS_FIELDS,
              _wire.PREPARE_OUTPUT_FIELDS] + list(_wire.PLATFORM_FIELDS.values())
    missing = [n.json for t in tables for n in t.values() if not _wire.option_name(n.json)]
    assert not missing


def test_quoted_fields_in_text_are_renamed_and_the_rest_kept():
    text = "The field 'outputStorageLocation.credentialId' is required; 'bogus' is not known; see 'installMisa'."
    assert to_option_names(text) == "The field 'smb.credential_id' is required; 'bogus' is not known; see 'vda.install_misa'."


def test_an_error_body_with_one_problem_is_not_repeated():
    body = json.dumps({"detail": "The field 'installMisa' needs provisioningType Mcs.",
                       "errors": {"installMisa": ["The field 'installMisa' needs provisioningType Mcs."]}})
    err = IPSApiError(400, json.loads(body)["detail"], body=body, method="POST", path="/jobs")
    assert str(err).count("needs provisioningType") == 1 and "'vda.install_misa'" in str(err)
    assert err.errors == [{"option": "vda.install_misa", "field": "installMisa",
                           "messages": ["The field 'vda.install_misa' needs provisioningType Mcs."]}]

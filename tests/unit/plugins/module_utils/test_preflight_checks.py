"""The preflight's pure rules (module_utils/_preflight): how ARM permission entries allow an action (wildcards,
notActions, case), which Azure scopes a job dict uses, an assumed role's simulator ARN, which wallet ids a workflow's
stages name, the secrets found in free-form dicts, the size limits, and the summary's order. The checks that talk to
outside systems run against the lab (tests/integration/test_preflight*.py)."""

from ansible_collections.citrix_community.ips.plugins.module_utils._preflight import MISSING, OK, item, permissions, summary
from ansible_collections.citrix_community.ips.plugins.module_utils._preflight.aws import principal_of
from ansible_collections.citrix_community.ips.plugins.module_utils._preflight.azure import allowed, scopes
from ansible_collections.citrix_community.ips.plugins.module_utils._preflight.plan import secrets_in, stages, wallet_ids
from ansible_collections.citrix_community.ips.plugins.module_utils._preflight.upload import size_item


def test_arm_entries_allow_by_wildcard_minus_not_actions():
    contributor = [{"actions": ["*"], "notActions": ["Microsoft.Authorization/*/Write", "Microsoft.Authorization/*/Delete"]}]
    assert allowed(contributor, "Microsoft.Compute/disks/write")
    assert not allowed(contributor, "Microsoft.Authorization/roleAssignments/write")
    assert allowed([{"actions": ["microsoft.compute/disks/*"]}], "Microsoft.Compute/disks/beginGetAccess/action")
    assert not allowed([{"actions": ["Microsoft.Compute/disks/read"]}], "Microsoft.Compute/snapshots/read")
    # a notAction removes only from its own entry: another role can still grant it
    assert allowed([{"actions": ["*"], "notActions": ["Microsoft.Compute/*"]}, {"actions": ["Microsoft.Compute/disks/read"]}],
                   "Microsoft.Compute/disks/read")


def test_azure_scopes_follow_the_job_dict():
    sub = "/subscriptions/s"
    without_ce = scopes({"resource_group": "rg"}, "s")
    assert [(s, n.why) for s, n, _o in without_ce] == [
        (sub, permissions.AZURE_SUBSCRIPTION.why), (sub + "/resourceGroups/rg", permissions.AZURE_TARGET_DISKS.why),
        (sub + "/resourceGroups/rg", permissions.AZURE_UPLOAD.why)]
    with_ce = scopes({"resource_group": "rg", "vm_resource_group": "ce", "network_isolation": True, "vnet_resource_group": "net"}, "s")
    assert [(s.rsplit("/", 1)[-1], o) for s, _n, o in with_ce] == [("ce", "vm_resource_group"), ("ce", "network_isolation"),
                                                                   ("rg", "resource_group"), ("rg", "upload"), ("net", "vnet_resource_group")]
    assert [n.flag for s, n, o in with_ce if o == "vnet_resource_group"] == [permissions.INFERRED]


def test_an_assumed_role_is_simulated_as_its_role():
    assert principal_of("arn:aws:sts::123456789012:assumed-role/Migrator/session-1") == "arn:aws:iam::123456789012:role/Migrator"
    assert principal_of("arn:aws:iam::123456789012:user/ips") == "arn:aws:iam::123456789012:user/ips"


def params(workflow, **extra):
    p = dict(workflow=workflow, source={"platform": "vsphere", "connection": {"credential_id": "vc"}},
             smb={"credential_id": "smb"}, pvs_store={"credential_id": "store"},
             target={"platform": "azure", "connection": {"credential_id": "az"}})
    p.update(extra)
    return p


def test_the_stages_decide_which_wallet_ids_are_checked():
    assert [i[:2] for i in wallet_ids(params("mcs_to_mcs"), stages("mcs_to_mcs"))] == [
        ("vc", "username_password"), ("smb", "username_password"), ("az", "azure")]
    assert [i[0] for i in wallet_ids(params("mcs_to_pvs"), stages("mcs_to_pvs", ["prepare", "publish"]))] == ["az", "store"]
    assert [i[0] for i in wallet_ids(params("pvs_to_mcs"), stages("pvs_to_mcs"))] == ["smb", "az"]


def test_secrets_in_free_form_dicts_are_found():
    found = secrets_in([{"upload": {"client_secret": "cs-1", "tenant_id": "t"}},
                        {"upload": {"service_account_key": {"private_key": "-----KEY-----", "client_email": "e"}}}])
    assert "cs-1" in found and "-----KEY-----" in found and "t" not in found and "e" not in found


def test_size_limits_per_disk_type():
    gib = 1024 ** 3
    assert size_item("azure", "Standard_LRS", 40000 * gib, "x")["status"] == MISSING
    assert size_item("azure", "UltraSSD_LRS", 40000 * gib, "x")["status"] == OK
    assert size_item("aws", None, 100 * gib, "x")["status"] == OK
    assert size_item("aws", None, None, "x")["status"] == OK


def test_summary_puts_missing_first_with_the_fix():
    lines = summary([item("a", OK, "fine"), item("b", MISSING, "gone", "make it", "here")])
    assert lines[0] == "preflight: 1 ok, 1 missing, 0 could not be checked"
    assert lines[1].startswith("missing") and "b [here]: gone -> fix: make it" in lines[1]
    assert "fix" not in lines[2]

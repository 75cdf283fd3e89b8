"""The lab's permission rules the preflight reads, each proven on the running planes: Azure's permissions API and role
assignments (inheritance from the subscription, an action taken away by the admin API, api-version required, reads
only), GCP's testIamPermissions (granted subset, 100 at most, names checked, a withdrawn permission), and the IAM
front's SimulatePrincipalPolicy (allowed / implicitDeny / explicitDeny from the policies attached in moto, an unknown
user, a removed action rewriting the policy, other IAM calls forwarded to moto)."""

import json

import pytest
import requests

from ips_lab.common.admin import LabAdmin

pytestmark = pytest.mark.timeout(120)
API = "api-version=2022-04-01"


@pytest.fixture(scope="module")
def arm(cloud_lab):
    from azure.identity import ClientSecretCredential

    env = cloud_lab.env
    cred = ClientSecretCredential(env["IPS_LAB_AZURE_TENANT_ID"], env["IPS_LAB_AZURE_CLIENT_ID"], env["IPS_LAB_AZURE_CLIENT_SECRET"],
                                  authority=env["IPS_LAB_AZURE_AUTHORITY"], disable_instance_discovery=True,
                                  connection_verify=env["IPS_LAB_AZURE_CA_PATH"])
    token = cred.get_token("https://management.azure.com/.default").token
    sub = "/subscriptions/%s" % env["IPS_LAB_AZURE_SUBSCRIPTION_ID"]

    def get(path, query=API):
        return requests.get("%s%s%s" % (env["IPS_LAB_AZURE_URL"], path, "?" + query if query else ""),
                            headers={"Authorization": "Bearer " + token}, verify=env["IPS_LAB_AZURE_CA_PATH"], timeout=30)

    return dict(get=get, sub=sub, rg="%s/resourceGroups/%s" % (sub, env["IPS_LAB_AZURE_RESOURCE_GROUP"]), env=env)


def actions(answer):
    return set(a for entry in answer.json()["value"] for a in entry["actions"])


@pytest.fixture()
def admins(cloud_lab):
    found = dict((part, LabAdmin.from_env(cloud_lab.env, part)) for part in ("azure", "gce", "iam"))
    for admin in found.values():
        admin.reset()
    yield found
    for admin in found.values():
        admin.reset()


def test_azure_a_resource_group_inherits_the_subscription_roles(arm, admins):
    at_sub, at_rg = arm["get"](arm["sub"] + "/providers/Microsoft.Authorization/permissions"), \
        arm["get"](arm["rg"] + "/providers/Microsoft.Authorization/permissions")
    assert at_sub.status_code == 200 and at_rg.status_code == 200
    assert "Microsoft.Authorization/roleAssignments/read" in actions(at_sub)
    assert "Microsoft.Compute/snapshots/read" not in actions(at_sub)  # assigned at the resource groups only
    assert actions(at_sub) <= actions(at_rg) and "Microsoft.Compute/snapshots/read" in actions(at_rg)
    assignments = arm["get"](arm["rg"] + "/providers/Microsoft.Authorization/roleAssignments").json()["value"]
    assert set(a["properties"]["principalId"] for a in assignments) == {arm["env"]["IPS_LAB_AZURE_CLIENT_ID"]}
    assert set(a["properties"]["scope"] for a in assignments) == {arm["sub"], arm["rg"]}
    definitions = arm["get"](arm["sub"] + "/providers/Microsoft.Authorization/roleDefinitions").json()["value"]
    assert set(a["properties"]["roleDefinitionId"] for a in assignments) <= set(d["id"] for d in definitions)


def test_azure_an_action_taken_away_is_gone_at_every_scope(arm, admins):
    admins["azure"].set_config(rbac_removed_actions=["Microsoft.Compute/disks/read"])
    assert "Microsoft.Compute/disks/read" not in actions(arm["get"](arm["rg"] + "/providers/Microsoft.Authorization/permissions"))
    assert "Microsoft.Compute/disks/write" in actions(arm["get"](arm["rg"] + "/providers/Microsoft.Authorization/permissions"))
    admins["azure"].reset()
    assert "Microsoft.Compute/disks/read" in actions(arm["get"](arm["rg"] + "/providers/Microsoft.Authorization/permissions"))


def test_azure_authorization_is_read_only_and_strict(arm, admins):
    assert arm["get"](arm["rg"] + "/providers/Microsoft.Authorization/permissions", query="").json()["error"]["code"] == \
        "MissingApiVersionParameter"
    assert arm["get"](arm["sub"] + "/resourceGroups/no-such-rg/providers/Microsoft.Authorization/permissions").status_code == 404
    env = arm["env"]
    put = requests.put(env["IPS_LAB_AZURE_URL"] + arm["rg"] + "/providers/Microsoft.Authorization/permissions?" + API, json={},
                       headers={"Authorization": "Bearer x"}, verify=env["IPS_LAB_AZURE_CA_PATH"], timeout=30)
    assert put.status_code == 401  # no valid token: refused before anything else
    with pytest.raises(Exception):
        admins["azure"].set_config(rbac_removed_actions=["not an action"])


def gcp_test(env, permissions, token=None, project=None):
    return requests.post("%s/v1/projects/%s:testIamPermissions" % (env["IPS_LAB_GCE_URL"], project or env["IPS_LAB_GCP_PROJECT"]),
                         json={"permissions": permissions}, headers={"Authorization": "Bearer %s" % (token or env["IPS_LAB_GCP_TOKEN"])},
                         timeout=30)


def test_gcp_test_iam_permissions_answers_the_granted_subset(cloud_lab, admins):
    env = cloud_lab.env
    answer = gcp_test(env, ["compute.images.create", "compute.instances.create", "compute.zones.list", "bigquery.tables.create"])
    assert answer.status_code == 200
    assert answer.json() == {"permissions": ["compute.images.create", "compute.instances.create", "compute.zones.list"]}
    admins["gce"].set_config(iam_removed_permissions=["compute.instances.create"])
    assert gcp_test(env, ["compute.instances.create"]).json() == {}
    assert gcp_test(env, ["compute.images.create"] * 101).status_code == 400
    assert gcp_test(env, ["not-a-permission"]).status_code == 400
    assert gcp_test(env, ["compute.images.create"], token="wrong").status_code == 401
    assert gcp_test(env, ["compute.images.create"], project="someone-elses").status_code == 403


@pytest.fixture()
def iam(cloud_lab):
    import boto3

    env = cloud_lab.env  # the lab's key: the IAM front takes no other
    kw = dict(region_name="us-east-1", aws_access_key_id=env["IPS_LAB_AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["IPS_LAB_AWS_SECRET_ACCESS_KEY"])
    return boto3.client("iam", endpoint_url=cloud_lab.env["IPS_LAB_IAM_URL"], **kw)


def decisions(iam, arn, names):
    result = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=names)
    return dict((r["EvalActionName"], r["EvalDecision"]) for r in result["EvaluationResults"])


def test_iam_front_simulates_the_attached_policies(cloud_lab, admins, iam):
    from botocore.exceptions import ClientError

    arn = cloud_lab.env["IPS_LAB_AWS_PRINCIPAL_ARN"]
    assert decisions(iam, arn, ["ec2:RunInstances", "ebs:StartSnapshot", "s3:PutObject"]) == {
        "ec2:RunInstances": "allowed", "ebs:StartSnapshot": "allowed", "s3:PutObject": "implicitDeny"}
    # an inline Deny on the lab's user (set through the front, which forwards it to moto) wins over the Allow
    user = arn.rsplit("/", 1)[1]
    iam.put_user_policy(UserName=user, PolicyName="deny-terminate", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "ec2:Terminate*", "Resource": "*"}]}))
    try:
        assert decisions(iam, arn, ["ec2:TerminateInstances"]) == {"ec2:TerminateInstances": "explicitDeny"}
    finally:
        iam.delete_user_policy(UserName=user, PolicyName="deny-terminate")
    admins["iam"].set_config(removed_actions=["ec2:RunInstances"])
    assert decisions(iam, arn, ["ec2:RunInstances", "ec2:CreateTags"]) == {"ec2:RunInstances": "implicitDeny", "ec2:CreateTags": "allowed"}
    versions = iam.list_policy_versions(PolicyArn=arn.replace(":user/", ":policy/"))["Versions"]
    assert len([v for v in versions if v["IsDefaultVersion"]]) == 1  # a real policy change in moto, not a filter
    with pytest.raises(ClientError) as err:
        iam.simulate_principal_policy(PolicySourceArn=arn.rsplit("/", 1)[0] + "/nobody", ActionNames=["ec2:RunInstances"])
    assert err.value.response["Error"]["Code"] == "NoSuchEntity"
    with pytest.raises(ClientError) as err:
        iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["RunInstances"])
    assert err.value.response["Error"]["Code"] == "InvalidInput"

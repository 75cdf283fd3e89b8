"""The migrate role runs ips_preflight first: with one documented Azure permission taken from the lab's service principal,
playbooks/migrate.yml stops before submitting the export, prints the preflight's items (the missing permission with its
scope and fix) in the role's report, and the Citrix Cloud stand-in sees no job.
"""

import subprocess

# `inventory` is a fixture: importing it makes it this module's too
from test_migrate_role import inventory, job_posts, playbook_cmd, playbook_env  # noqa: F401 pylint: disable=unused-import

REMOVED = "Microsoft.Compute/disks/beginGetAccess/action"  # every Azure list has it: missing at both scopes


def test_migrate_with_a_missing_permission_stops_before_the_export(lab, lab_env, inventory, tmp_path):  # noqa: F811
    from ips_lab.common.admin import LabAdmin

    azure = LabAdmin.from_env(lab_env, "azure")
    azure.reset()
    azure.set_config(rbac_removed_actions=[REMOVED])
    try:
        run = subprocess.run(playbook_cmd(inventory), env=playbook_env(tmp_path), cwd=str(tmp_path), capture_output=True, text=True,
                             timeout=600, check=False)
    finally:
        azure.reset()
    output = run.stdout + run.stderr
    assert run.returncode != 0, output[-4000:]
    assert job_posts(lab, "export") == [] and job_posts(lab, "prepare") == [], "a job was submitted"
    sub = "/subscriptions/%s" % lab_env["IPS_LAB_AZURE_SUBSCRIPTION_ID"]
    rg = "%s/resourceGroups/%s" % (sub, lab_env["IPS_LAB_AZURE_RESOURCE_GROUP"])
    assert "the preflight found 3 missing item(s), so nothing was submitted" in output, output[-4000:]
    for scope in (sub, rg):
        assert "missing at %s: %s" % (scope, REMOVED) in output
    # the role's report: the preflight line, then every stage not reached (none "stopped": nothing ran)
    assert "preflight missing" in output
    for stage in ("export", "upload", "prepare"):
        assert "%-8s %-12s the run stopped before this stage" % (stage, "not_reached") in output
    assert not any(s in output for s in inventory["secrets"])

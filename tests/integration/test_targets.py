"""Run each module's integration target against the lab, at -vvvv, and check what YAML can't."""

import time
import uuid

from lab_api import LabApi

GCP_KEY_TEMPLATE = {
    "type": "service_account",
    "project_id": "lab-project-7",
    "private_key_id": "0123456789abcdef",
    "client_email": "ips-images@lab-project-7.iam.gserviceaccount.com",
}


def all_secrets(lab_env, test_secrets):
    return list(test_secrets.values()) + [lab_env["CITRIX_CLOUD_CLIENT_SECRET"], GCP_KEY_TEMPLATE["private_key_id"]]


def test_ips_credential(lab, lab_env, run_target, test_secrets):
    gcp_key = dict(GCP_KEY_TEMPLATE, private_key=test_secrets["gcp_private_key"])
    run = run_target("ips_credential", dict(ips_test_secrets=test_secrets, ips_test_smb_user=lab_env["IPS_LAB_SMB_USER"], ips_test_gcp_key=gcp_key))
    run.assert_ok()
    run.assert_no_secret(all_secrets(lab_env, test_secrets))
    # The wire: check mode wrote nothing before the first create; no blind retry of any POST.
    writes = [r for r in lab.requests() if r["method"] in ("POST", "PUT", "DELETE") and "/credentials" in r["path"]]
    assert [r["method"] for r in writes][:1] == ["POST"]
    assert all("citrix_community.ips/" in r["headers"].get("User-Agent", "") for r in writes)


def test_ips_credential_info(lab, lab_env, run_target, test_secrets):
    run = run_target("ips_credential_info", dict(ips_test_secrets=test_secrets, ips_test_smb_user=lab_env["IPS_LAB_SMB_USER"]))
    run.assert_ok()
    run.assert_no_secret(all_secrets(lab_env, test_secrets))


def _wait_terminal(api, job_ids, deadline_s=120):
    deadline = time.monotonic() + deadline_s
    pending = set(job_ids)
    while pending and time.monotonic() < deadline:
        pending = set(j for j in pending if api.call("GET", "jobs/%s" % j)["status"] == "inProgress")
        time.sleep(0.2)
    assert not pending, "lab jobs did not finish in time"


def seed_wallet(api, lab_env, test_secrets):
    api.call("POST", "credentials", {"id": "it-smb", "type": "UsernamePassword", "username": lab_env["IPS_LAB_SMB_USER"],
                                     "password": lab_env["IPS_LAB_SMB_PASSWORD"]})
    api.call("POST", "credentials", {"id": "it-vcenter", "type": "UsernamePassword", "username": "administrator@vsphere.local",
                                     "password": test_secrets["vcenter_password"]})


def export_body(lab_env, name, tags):
    """A vSphere export the lab runs for real: it writes a VHDX onto the lab's export share."""
    share = "smb://%s/%s/it/" % (lab_env["IPS_LAB_SMB_HOST"], lab_env["IPS_LAB_SMB_EXPORT_SHARE"])
    return {"platform": "vsphere", "resourceLocationId": lab_env["IPS_LAB_RESOURCE_LOCATION_ID"], "platformCredentialId": "it-vcenter",
            "prefix": "ips", "tags": tags, "sourceDiskName": name, "vsphereHost": "vcenter.lab.local", "vspherePort": 443,
            "outputStorageLocation": {"location": share, "credentialId": "it-smb"}, "outputImageFilename": name, "outputImageFormat": "VhdxDiskFormat",
            # fixed file names: replace the file a previous run left (the lab refuses to overwrite otherwise)
            "overwriteTargetFile": True}


def test_ips_job(lab, lab_env, run_target, test_secrets):
    api = LabApi(lab_env)
    seed_wallet(api, lab_env, test_secrets)
    lab.set_config(job_seconds=1)
    lab.fail_job("export", "exporting", "The compositing engine could not attach the source disk.")
    failed = api.call("POST", "images/$export", export_body(lab_env, "job-fail", {}))["id"]
    lab.set_config(job_seconds=8)
    short = api.call("POST", "images/$export", export_body(lab_env, "job-short", {}))["id"]
    lab.set_config(job_seconds=900)
    long_job = api.call("POST", "images/$export", export_body(lab_env, "job-long", {}))["id"]

    run = run_target("ips_job", dict(ips_test_jobs=dict(long=long_job, short=short, failed=failed)))
    run.assert_ok()
    run.assert_no_secret(all_secrets(lab_env, test_secrets))
    # Cancelled exactly once, by the one real (not check-mode) cancel.
    cancels = [r for r in lab.requests() if r["method"] == "DELETE" and long_job in r["path"]]
    assert len(cancels) == 1


def test_ips_job_info(lab, lab_env, run_target, test_secrets):
    api = LabApi(lab_env)
    rl = lab_env["IPS_LAB_RESOURCE_LOCATION_ID"]
    seed_wallet(api, lab_env, test_secrets)

    # Fast jobs first: one export the lab fails on purpose, and more diagnostics than one page holds.
    lab.set_config(job_seconds=0.5)
    lab.fail_job("export", "exporting", "The compositing engine could not attach the source disk.")
    failed = api.call("POST", "images/$export", export_body(lab_env, "it-fail", {"case": "failed"}))["id"]
    diags = []
    # a folder of this run's own: the lab, like the service, fails a job whose output a job it no longer knows left there
    diag_folder = "diag-%s" % uuid.uuid4().hex[:8]
    for index in range(27):
        body = {"platform": "vsphere", "resourceLocationId": rl, "platformCredentialId": "it-vcenter", "prefix": "ips", "tags": {"n": str(index)},
                "outputStorageLocation": {"location": "smb://%s/%s/%s/" % (lab_env["IPS_LAB_SMB_HOST"], lab_env["IPS_LAB_SMB_EXPORT_SHARE"], diag_folder),
                                          "credentialId": "it-smb"},
                "ceLogs": True, "windowsEventLogs": False, "ipsData": True}
        diags.append(api.call("POST", "images/$diagnostics", body)["id"])
    _wait_terminal(api, diags + [failed])
    finished = [api.call("GET", "jobs/%s" % j) for j in diags]
    # what the target's "completed diagnostics" filter expects; a job that did not complete is shown with its error
    assert [j["status"] for j in finished] == ["complete"] * len(diags), [(j["id"], j["status"], j["error"]) for j in finished
                                                                          if j["status"] != "complete"]
    # Then a long export that stays running while the target looks at it.
    lab.set_config(job_seconds=600)
    export = api.call("POST", "images/$export", export_body(lab_env, "it-win11", {"change": "CHG0042"}))["id"]

    run = run_target("ips_job_info", dict(ips_test_jobs=dict(export=export, failed=failed, diagnostics=diags, tag={"change": "CHG0042"})))
    run.assert_ok()
    run.assert_no_secret(all_secrets(lab_env, test_secrets))
    # Listing every job took more than one page.
    assert any("continuationToken" in (r.get("query") or "") for r in lab.requests() if r["path"].endswith("/jobs"))

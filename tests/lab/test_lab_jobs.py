"""IPS jobs: submit and validation, dryRun, paging, cancel, progress, restart, retention."""

import json
import re

import pytest
from ipslab_helpers import RESOURCE_LOCATION, Api, common_body, diagnostics_body, wait_for

from ips_lab.citrix.lifecycle import evaluate
from ips_lab.citrix.server import start_in_thread
from ips_lab.common.admin import LabAdminError

JOB_KEYS = {"id", "type", "status", "overallProgressPercent", "currentStep", "parameters", "additionalInfo", "error", "warnings",
            "createdAt", "updatedAt", "completedAt"}
PREPARE = dict(provisioningType="Mcs", targetDiskName="win11-uploaded", outputDiskName="win11-prepared",
               xdReconfigure=[{"ParameterName": "controllers", "ParameterValue": "ddc1.lab.local"}])
SMB_IN = {"location": "smb://127.0.0.1/pvs/store/", "credentialId": "smb"}
SMB_OUT = {"location": "smb://127.0.0.1/exports/out/", "credentialId": "smb"}

VALID_BODIES = {
    "prepare": common_body("azure", "az", azureSubscriptionId="sub", domainUnjoin=True, md5Hash="0" * 32, **PREPARE),
    "prepareAndPublish": common_body("gcp", "gcp", gcpZone="us-east4-a", networkTags=["ce"], outputStorageLocation=SMB_OUT,
                                     outputImageFilename="win11", **PREPARE),
    "convertToUefi": common_body(inputStorageLocation=SMB_IN, inputImageFilename="win11", inputImageFormat="VhdxDiskFormat",
                                 outputImageFilename="win11-uefi", overwriteOutput=True),
    "upgradePvs": common_body(inputStorageLocation=SMB_IN, inputImageFilename="win11", outputImageFilename="win11-pvs",
                              outputSizeMb=65536, installPvs="2407"),
    "reverseImage": common_body(inputStorageLocation=SMB_IN, inputImageFilename="win11", vsphereHost="vc.lab", vspherePort=443),
    "diagnostics": diagnostics_body(windowsEventLogs=False, ipsData=True),
    "export": common_body(sourceDiskName="win11", vsphereHost="vc.lab", vspherePort=443, outputStorageLocation=SMB_OUT,
                          outputImageFilename="win11"),
}


def submit(api, job_type, body, query=""):
    return api.ips("POST", "images/$%s%s" % (job_type, query), body)


@pytest.mark.parametrize("job_type", sorted(VALID_BODIES))
def test_every_job_type_is_accepted(api, wallet, admin, job_type):
    resp = submit(api, job_type, VALID_BODIES[job_type])
    assert resp.status == 202, resp.raw
    job = resp.json
    assert set(job) == JOB_KEYS
    assert resp.headers["Location"] == "/ips/jobs/%s" % job["id"]
    assert job["type"] == job_type and job["status"] == "inProgress" and job["error"] is None
    assert job["parameters"]["platformCredentialId"] == VALID_BODIES[job_type]["platformCredentialId"]
    assert api.job(job["id"])["id"] == job["id"]
    # Bare route as the legacy PowerShell module calls it.
    assert api.send("GET", "/jobs/%s" % job["id"], headers=api.auth_headers()).status == 200


@pytest.mark.parametrize("change, field", [
    ({"bogus": 1}, "bogus"),
    ({"platform": "hyperv"}, "platform"),
    ({"resourceLocationId": "00000000-0000-0000-0000-000000000000"}, "resourceLocationId"),
    ({"resourceLocationId": None}, "resourceLocationId"),
    ({"platformCredentialId": "nobody"}, "platformCredentialId"),
    ({"platformCredentialId": "az"}, "platformCredentialId"),  # an Azure credential for vSphere
    ({"prefix": 7}, "prefix"),
    ({"tags": {"a": 1}}, "tags"),
    ({"provisioningType": "Mcsx"}, "provisioningType"),
    ({"provisioningType": None}, "provisioningType"),
    ({"xdReconfigure": [{"name": "controllers", "value": "x"}]}, "xdReconfigure[0]"),
    ({"md5Hash": "xyz"}, "md5Hash"),
    ({"installMisa": True, "provisioningType": "Pvs"}, "installMisa"),
    ({"azureLocation": "eastus"}, "azureLocation"),  # an Azure field on a vSphere job
    ({"targetDiskName": None, "outputDiskName": None}, "targetDiskName"),
])
def test_prepare_validation_is_strict_and_names_the_field(api, wallet, change, field):
    body = common_body(**PREPARE)
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    resp = submit(api, "prepare", body)
    assert resp.status == 400, resp.raw
    assert field in resp.json["errors"], resp.json
    assert "'%s'" % field.split("[")[0] in resp.json["detail"] or field in resp.json["detail"]
    assert api.ips("GET", "jobs").json["items"] == []


def test_export_validates_its_smb_location(api, wallet):
    body = dict(VALID_BODIES["export"], outputStorageLocation={"location": "http://host/share/", "credentialId": "smb"})
    resp = submit(api, "export", body)
    assert resp.status == 400 and "outputStorageLocation.location" in resp.json["errors"]
    body = dict(VALID_BODIES["export"], outputStorageLocation={"Location": "smb://h/s/", "credentialId": "ghost"})
    resp = submit(api, "export", body)
    assert resp.status == 400 and "outputStorageLocation.credentialId" in resp.json["errors"]
    body = dict(VALID_BODIES["export"], outputStorageLocation={"location": "smb://h/s/", "credentialId": "az"})
    assert submit(api, "export", body).status == 400  # SMB needs a UsernamePassword credential
    body = dict(VALID_BODIES["export"], outputImageFormat="Qcow2")
    assert "outputImageFormat" in submit(api, "export", body).json["errors"]
    body = {k: v for k, v in VALID_BODIES["export"].items() if k != "sourceDiskName"}
    assert submit(api, "export", body).status == 400
    assert submit(api, "export", dict(VALID_BODIES["export"], platform="aws", platformCredentialId="aws")).status == 400  # vsphere fields


def test_platform_must_suit_the_job_type(api, wallet):
    body = dict(VALID_BODIES["reverseImage"], platform="azure", platformCredentialId="az")
    body.pop("vsphereHost"), body.pop("vspherePort")
    resp = submit(api, "reverseImage", body)
    assert resp.status == 400 and "platform" in resp.json["errors"]
    assert submit(api, "nonsense", VALID_BODIES["prepare"]).status == 404


def test_dry_run_validates_and_creates_nothing(api, wallet):
    resp = submit(api, "prepare", VALID_BODIES["prepare"], "?dryRun=true")
    assert resp.status == 200
    assert resp.json["dryRun"] is True and resp.json["valid"] is True
    assert resp.json["parameters"]["provisioningType"] == "Mcs"
    assert "Location" not in resp.headers
    assert api.ips("GET", "jobs").json["items"] == []
    # dryRun still checks the credential exists and the SMB location parses.
    bad = dict(VALID_BODIES["export"], outputStorageLocation={"location": "smb://", "credentialId": "smb"})
    assert submit(api, "export", bad, "?dryRun=true").status == 400
    assert submit(api, "prepare", dict(VALID_BODIES["prepare"], platformCredentialId="ghost"), "?dryRun=true").status == 400
    assert api.ips("GET", "jobs").json["items"] == []
    assert submit(api, "prepare", VALID_BODIES["prepare"], "?dryRun=maybe").status == 400


def test_secret_looking_keys_are_masked_in_parameters(api, wallet):
    resp = submit(api, "prepare", dict(VALID_BODIES["prepare"], tags={"adminPassword": "hunter2-secret-value", "owner": "ops"}))
    assert resp.status == 202
    assert resp.json["parameters"]["tags"] == {"adminPassword": "********", "owner": "ops"}
    assert "hunter2-secret-value" not in resp.raw.decode()


def test_list_pages_newest_first_with_a_continuation_token(api, wallet, admin):
    admin.set_config(job_seconds=0)
    ids = [submit(api, "diagnostics", VALID_BODIES["diagnostics"]).json["id"] for count in range(27)]
    first = api.ips("GET", "jobs")
    assert first.status == 200
    assert first.json["pageSize"] == 25 and len(first.json["items"]) == 25
    token = first.json["continuationToken"]
    assert token
    second = api.ips("GET", "jobs?continuationToken=%s" % token)
    assert second.json["continuationToken"] is None and len(second.json["items"]) == 2
    seen = [j["id"] for j in first.json["items"] + second.json["items"]]
    assert seen == list(reversed(ids))
    small = api.ips("GET", "jobs?limit=10")
    assert [j["id"] for j in small.json["items"]] == list(reversed(ids))[:10]
    for bad in ("limit=0", "limit=101", "limit=ten", "continuationToken=garbage"):
        resp = api.ips("GET", "jobs?%s" % bad)
        assert resp.status == 400 and bad.split("=", maxsplit=1)[0] in resp.json["errors"]


def test_cancel_by_delete_and_by_action(api, wallet, admin):
    admin.set_config(job_seconds=600)
    first = submit(api, "prepare", VALID_BODIES["prepare"]).json["id"]
    second = submit(api, "prepare", VALID_BODIES["prepare"]).json["id"]
    cancelled = api.ips("DELETE", "jobs/%s" % first)
    assert cancelled.status == 200 and cancelled.json["status"] == "cancelled" and cancelled.json["completedAt"]
    assert api.ips("POST", "jobs/%s/$cancel" % second).json["status"] == "cancelled"
    assert api.job(first)["status"] == "cancelled"
    again = api.ips("DELETE", "jobs/%s" % first)
    assert again.status == 409 and "cancelled" in again.json["detail"]
    assert api.ips("DELETE", "jobs/00000000-0000-0000-0000-000000000000").status == 404
    assert api.ips("GET", "jobs/00000000-0000-0000-0000-000000000000").status == 404


def test_a_complete_job_cannot_be_cancelled(api, wallet, admin):
    admin.set_config(job_seconds=0)
    job = submit(api, "prepare", VALID_BODIES["prepare"]).json
    assert api.wait_job(job["id"])["status"] == "complete"
    assert api.ips("POST", "jobs/%s/$cancel" % job["id"]).status == 409


def test_progress_rises_through_the_stages_to_complete(api, wallet, admin):
    admin.set_config(job_seconds=1.5)
    job_id = submit(api, "prepare", VALID_BODIES["prepare"]).json["id"]
    seen = []

    def poll():
        job = api.job(job_id)
        seen.append((job["overallProgressPercent"], job["currentStep"], job["status"]))
        return job["status"] != "inProgress"

    wait_for(poll, timeout=30, interval=0.02, what="the prepare job")
    progress = [entry[0] for entry in seen]
    assert progress == sorted(progress), "progress went down: %s" % progress
    assert len(set(progress)) >= 3
    stages = [entry[1] for entry in seen]
    order = ["validating", "startingCompositingEngine", "preparing", "cleaningUp"]
    assert [order.index(s) for s in stages] == sorted(order.index(s) for s in stages)
    assert seen[-1] == (100, "cleaningUp", "complete")
    done = api.job(job_id)
    assert done["additionalInfo"]["artifacts"] == {"outputDiskName": "win11-prepared"}
    assert re.match(r"^\d{4}-.*Z$", done["completedAt"])


def test_a_fine_progress_step_gives_tenths_that_rise_to_100(api, wallet, admin):
    assert admin.config()["progress_step"] == 1
    admin.set_config(job_seconds=1.5, progress_step=0.1)
    job_id = submit(api, "prepare", VALID_BODIES["prepare"]).json["id"]
    seen = []

    def poll():
        job = api.job(job_id)
        seen.append(job["overallProgressPercent"])
        return job["status"] != "inProgress"

    wait_for(poll, timeout=30, interval=0.01, what="the prepare job")
    assert seen == sorted(seen), "progress went down: %s" % seen
    assert seen[-1] == 100
    fractional = [p for p in seen if p != int(p)]
    assert fractional, "no value between whole percents: %s" % seen
    # One decimal, never 37.400000001: the JSON number is written with at most one digit after the point.
    assert all(re.match(r"^\d{1,2}\.\d$", repr(p)) for p in fractional), seen
    assert all(p <= 99 for p in seen[:-1])


def test_progress_step_is_validated_and_reset(admin):
    for bad in (0, -1, 100.5, "0.1", True, None):
        with pytest.raises(LabAdminError) as err:
            admin.set_config(progress_step=bad)
        assert err.value.status == 400 and "progress_step" in json.loads(err.value.body)["errors"], err.value.body
    assert admin.set_config(progress_step=100)["progress_step"] == 100
    assert admin.set_config(progress_step=0.25)["progress_step"] == 0.25
    admin.reset()
    assert admin.config()["progress_step"] == 1


def test_progress_snaps_down_to_the_step_and_keeps_the_rules():
    job = {"status": "inProgress", "stages": ["a", "work", "c"], "duration": 10.0, "created_at": 0.0, "fail_stage": None,
           "work_stage": "work", "work_state": "pending", "work_finished_at": None}
    assert evaluate(job, 3.747).progress == 37 and isinstance(evaluate(job, 3.747).progress, int)
    assert evaluate(job, 3.747, 0.1).progress == 37.4
    assert evaluate(job, 3.74, 0.1).progress == 37.4  # an exact multiple does not fall one step short
    assert evaluate(job, 3.747, 0.25).progress == 37.25
    assert evaluate(job, 3.747, 5).progress == 35
    # Held below the end of the work stage (66.67%) until the work reports back: 65 as before, 66.5 with tenths.
    assert evaluate(job, 9.9).progress == 65 and evaluate(job, 9.9, 0.1).progress == 66.5
    done = dict(job, work_state="done", work_finished_at=5.0)
    assert evaluate(done, 9.999, 0.1).progress == 99  # never above 99 while running
    assert evaluate(done, 10.0, 0.1).progress == 100 and evaluate(done, 10.0, 0.1).status == "complete"
    failing = dict(job, fail_stage="c", fail_code="X", fail_message="m")
    assert evaluate(failing, 9.0, 0.1).progress == 66.6 and evaluate(failing, 9.0).progress == 66


def test_restart_keeps_a_running_job_which_then_completes(tmp_path, config):
    state = str(tmp_path / "state")
    first = start_in_thread(state, dict(config, job_seconds=3))
    api = Api(first, config)
    assert api.ips("POST", "credentials", {"id": "vc", "type": "UsernamePassword", "username": "u", "password": "p"}).status == 201
    job_id = submit(api, "prepare", common_body(**PREPARE)).json["id"]

    def progressed():
        job = api.job(job_id)
        return job if job["overallProgressPercent"] >= 10 else None

    before = wait_for(progressed, what="some progress")
    token = api.token
    first.stop()

    second = start_in_thread(state, dict(config, job_seconds=3))
    try:
        api2 = Api(second, config)
        api2._token = token  # tokens survive the restart too
        after = api2.job(job_id)
        assert after["status"] in ("inProgress", "complete")
        assert after["overallProgressPercent"] >= before["overallProgressPercent"]
        assert after["createdAt"] == before["createdAt"]
        assert api2.wait_job(job_id)["status"] == "complete"
        assert api2.ips("GET", "credentials/vc").status == 200
    finally:
        second.stop()


def test_finished_jobs_vanish_24_hours_after_completion(api, wallet, admin):
    admin.set_config(job_seconds=0, token_ttl=10 ** 7)
    api._token = None  # a token that outlives the clock jumps below
    done = submit(api, "prepare", VALID_BODIES["prepare"]).json["id"]
    api.wait_job(done)
    admin.set_config(job_seconds=30 * 3600)
    running = submit(api, "prepare", VALID_BODIES["prepare"]).json["id"]
    admin.advance_clock(23 * 3600)
    assert api.job(done)["status"] == "complete"
    admin.advance_clock(3600 + 1)
    assert api.ips("GET", "jobs/%s" % done).status == 404
    listed = [j["id"] for j in api.ips("GET", "jobs").json["items"]]
    assert listed == [running]  # the long job is still running, so it stays
    assert api.job(running)["status"] == "inProgress"


def test_resource_location_comes_from_the_config(api, wallet):
    assert VALID_BODIES["prepare"]["resourceLocationId"] == RESOURCE_LOCATION
    assert submit(api, "prepare", VALID_BODIES["prepare"]).status == 202

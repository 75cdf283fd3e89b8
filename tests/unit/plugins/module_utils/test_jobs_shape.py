"""The one job shape: what ips_job_info and every job module return."""

from ansible_collections.citrix_community.ips.plugins.module_utils import _jobs


def service_job(**over):
    job = {
        "id": "j-1", "type": "export", "status": "inProgress", "overallProgressPercent": "42", "currentStep": "exporting",
        "parameters": {"tags": {"ips-ansible-key": "abc", "change": "CHG1"}, "outputImageFilename": "win11"},
        "additionalInfo": {"artifacts": {"outputImagePath": "smb://h/s/win11.vhdx"}}, "error": None, "warnings": [],
        "createdAt": "2026-11-21T10:00:00Z", "updatedAt": "2026-11-21T10:01:00Z",
    }
    job.update(over)
    return job


def test_shape_maps_every_field():
    job = _jobs.shape(service_job())
    assert job == {
        "id": "j-1", "type": "export", "status": "inProgress", "state": "running", "progress": 42, "stage": "exporting",
        "parameters": {"tags": {"ips-ansible-key": "abc", "change": "CHG1"}, "outputImageFilename": "win11"},
        "artifacts": {"outputImagePath": "smb://h/s/win11.vhdx"}, "error": None, "warnings": [],
        "created_at": "2026-11-21T10:00:00Z", "updated_at": "2026-11-21T10:01:00Z", "idempotency_key": "abc", "kind": "export",
    }


def test_a_publish_is_an_export_job_whose_kind_says_publish():
    job = _jobs.shape(service_job(parameters={"tags": {"ips-ansible-key": "abc", "ips-ansible-kind": "publish"}}))
    assert (job["type"], job["kind"]) == ("export", "publish")


def test_shape_tolerates_missing_and_odd_fields():
    job = _jobs.shape({"id": "j-2", "status": "complete", "overallProgressPercent": "n/a", "type": "prepareAndPublish"})
    assert job["state"] == "complete"
    assert job["progress"] == 0
    assert job["type"] == job["kind"] == "prepare_and_publish"
    assert job["artifacts"] == {} and job["parameters"] == {} and job["idempotency_key"] is None


def test_state_of_normalises_status_strings():
    assert _jobs.state_of("inProgress") == "running"
    assert _jobs.state_of("complete") == "complete"
    assert _jobs.state_of("Canceled") == "cancelled"
    assert _jobs.state_of("cancelled") == "cancelled"
    # Anything the service reports that is not running or complete is a terminal failure.
    assert _jobs.state_of("failed") == "failed"
    assert _jobs.state_of("somethingNew") == "failed"


def test_matches_filters_by_type_state_and_tags():
    job = _jobs.shape(service_job())
    assert _jobs.matches(job)
    assert _jobs.matches(job, job_type="export", states=["running"], tags={"change": "CHG1"})
    assert not _jobs.matches(job, job_type="prepare")
    assert not _jobs.matches(job, states=["complete", "failed"])
    assert not _jobs.matches(job, tags={"change": "CHG2"})
    assert not _jobs.matches(job, tags={"missing": "x"})

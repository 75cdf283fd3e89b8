"""Fault injection and inspection through LabAdmin: status, drop, slow, job failures, requests, reset."""

import http.client
import time
import urllib.error

import pytest
from ipslab_helpers import common_body, diagnostics_body

from ips_lab.common.admin import LabAdmin, LabAdminError


def test_status_fault_with_retry_after_then_gone(api, admin):
    admin.add_fault(r"/jobs$", action="status", status=429, retry_after=2, method="GET", times=2)
    for attempt in range(2):
        resp = api.ips("GET", "jobs")
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "2"
        assert resp.json["status"] == 429 and resp.headers["Citrix-TransactionId"]
    assert api.ips("GET", "jobs").status == 200


def test_status_fault_matches_method_and_path(api, admin):
    admin.add_fault(r"/credentials", action="status", status=503, method="POST")
    assert api.ips("GET", "credentials").status == 200
    assert api.ips("GET", "jobs").status == 200
    resp = api.ips("POST", "credentials", {"id": "a", "type": "UsernamePassword", "username": "u", "password": "p"})
    assert resp.status == 503 and "Retry-After" not in resp.headers
    # The faulted POST did nothing.
    assert api.ips("GET", "credentials").json["items"] == []


def test_drop_closes_the_connection_without_an_answer(api, admin):
    admin.add_fault(r"/jobs", action="drop")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, urllib.error.URLError)):
        api.ips("GET", "jobs")
    assert api.ips("GET", "jobs").status == 200
    dropped = [r for r in admin.requests() if r["fault"]]
    assert len(dropped) == 1 and dropped[0]["status"] is None


def test_slow_answers_normally_after_the_delay(api, admin):
    api.ips("GET", "jobs")  # get the token first, so only the faulted call is timed
    admin.add_fault(r"/jobs", action="slow", delay=0.6)
    started = time.monotonic()
    resp = api.ips("GET", "jobs")
    assert resp.status == 200 and time.monotonic() - started >= 0.6


def test_token_endpoint_can_fail_too(api, admin):
    admin.add_fault(r"/tokens/clients$", action="status", status=503, retry_after=1)
    assert api.token_request().status == 503
    assert api.token_request().status == 200


def test_clear_faults(api, admin):
    admin.add_fault(r".*", action="status", status=500, times=100)
    assert len(admin.faults()) == 1
    admin.clear_faults()
    assert admin.faults() == []
    assert api.ips("GET", "jobs").status == 200


def test_fault_rules_are_validated(admin):
    for rule in ({"action": "explode"}, {"action": "status", "status": 42}, {"path": "(", "action": "drop"},
                 {"action": "slow", "delay": -1}, {"action": "drop", "times": 0}, {"action": "drop", "colour": "red"}):
        with pytest.raises(LabAdminError) as err:
            admin._call("POST", "/_lab/faults", rule)
        assert err.value.status == 400


def test_job_failure_injection_fails_the_next_job_at_its_stage(api, wallet, admin):
    admin.set_config(job_seconds=0.6)
    admin.fail_job("prepare", "preparing", "The compositing engine could not reach the disk.", code="CeUnreachable")
    body = common_body(provisioningType="Mcs", targetDiskName="d")  # vSphere: no disk model, so the work needs no stand-in
    failed = api.ips("POST", "images/$prepare", body).json["id"]
    fine = api.ips("POST", "images/$prepare", body).json["id"]
    job = api.wait_job(failed)
    assert job["status"] == "failed"
    assert job["error"] == {"code": "CeUnreachable", "message": "The compositing engine could not reach the disk.", "stage": "preparing"}
    assert job["currentStep"] == "preparing" and 0 < job["overallProgressPercent"] < 100
    assert job["additionalInfo"]["artifacts"] == {}
    assert api.wait_job(fine)["status"] == "complete"
    # A failed job is terminal: no cancel.
    assert api.ips("DELETE", "jobs/%s" % failed).status == 409


def test_job_failure_counts_down_and_is_per_type(api, wallet, admin):
    admin.set_config(job_seconds=0)
    admin.fail_job("diagnostics", "validating", "Share not found.", times=2)
    prepare = api.ips("POST", "images/$prepare", common_body(provisioningType="Mcs", targetDiskName="d")).json["id"]
    jobs = [api.wait_job(api.ips("POST", "images/$diagnostics", diagnostics_body()).json["id"]) for attempt in range(3)]
    assert [j["error"]["message"] for j in jobs[:2]] == ["Share not found."] * 2
    # The third passed validating: the rule was used up. (This lab has no Samba, so its real work fails later.)
    assert jobs[2]["error"]["stage"] == "collecting" and jobs[2]["error"]["code"].startswith("Smb")
    assert api.wait_job(prepare)["status"] == "complete"


def test_job_failure_rules_are_validated(admin):
    with pytest.raises(LabAdminError) as err:
        admin.fail_job("export", "baking", "x")
    assert err.value.status == 400 and "exporting" in err.value.body
    with pytest.raises(LabAdminError):
        admin.fail_job("teleport", "validating", "x")


def test_requests_record_selected_headers_and_never_authorization(api, wallet, admin):
    api.ips("GET", "jobs?limit=5", headers={"User-Agent": "citrix_community.ips/0.1.0", "Citrix-TransactionId": "tx-1"})
    record = [r for r in admin.requests() if r["path"] == "/ips/jobs"][-1]
    assert record["method"] == "GET" and record["query"] == "limit=5" and record["status"] == 200
    assert record["headers"] == {"User-Agent": "citrix_community.ips/0.1.0", "Citrix-CustomerId": api.config["customer_id"],
                                 "Citrix-TransactionId": "tx-1", "Accept": "application/json"}
    everything = repr(admin.requests())
    assert api.token not in everything and api.config["client_secret"] not in everything
    assert all(wallet[k].get("password", "unused-marker") not in everything for k in wallet)
    assert not any(r["path"].startswith("/_lab") for r in admin.requests())


def test_reset_forgets_state_but_keeps_tokens(api, wallet, admin):
    admin.set_config(job_seconds=100)
    api.ips("POST", "images/$diagnostics", diagnostics_body())
    admin.add_fault(r"/nothing", action="drop")
    admin.reset()
    assert admin.config()["job_seconds"] == 4
    assert admin.faults() == [] and admin.requests() == []
    assert api.ips("GET", "jobs").json["items"] == []
    assert api.ips("GET", "credentials").json["items"] == []


def test_config_and_clock_are_validated(admin):
    with pytest.raises(LabAdminError):
        admin.set_config(colour="red")
    with pytest.raises(LabAdminError):
        admin.set_config(job_seconds="fast")
    with pytest.raises(LabAdminError):
        admin.advance_clock(-5)
    assert admin.advance_clock(10)["offset_seconds"] >= 10


def test_admin_api_needs_its_token(server, admin):
    stranger = LabAdmin(server.url, "wrong-token", server.ca_path)
    with pytest.raises(LabAdminError) as err:
        stranger.requests()
    assert err.value.status == 401
    assert LabAdmin.from_env({"CITRIX_CLOUD_API_URL": server.url, "IPS_LAB_ADMIN_TOKEN": server.lab.config["admin_token"],
                              "CITRIX_CLOUD_CA_PATH": server.ca_path}).config()["token_ttl"] == 3600


def test_raw_job_shows_internal_fields(api, wallet, admin):
    job_id = api.ips("POST", "images/$diagnostics", diagnostics_body()).json["id"]
    raw = admin.raw_job(job_id)
    assert raw["id"] == job_id and raw["stages"] == ["validating", "collecting", "cleaningUp"] and "duration" in raw
    with pytest.raises(LabAdminError) as err:
        admin.raw_job("nope")
    assert err.value.status == 404

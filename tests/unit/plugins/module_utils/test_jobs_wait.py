"""Submitting, finding and waiting for jobs, against the lab's Citrix Cloud stand-in run in-process."""

import secrets
import uuid

import pytest

from ansible_collections.citrix_community.ips.plugins.module_utils import _jobs
from ansible_collections.citrix_community.ips.plugins.module_utils._waiter import NoWait, Waiter, WaitTimeout
from ansible_collections.citrix_community.ips.plugins.module_utils._client import IPSClient

ips_lab_server = pytest.importorskip("ips_lab.citrix.server", reason="the lab package (make setup installs it) is needed")

RESOURCE_LOCATION = str(uuid.uuid4())


@pytest.fixture()
def lab(tmp_path):
    config = {"host": "127.0.0.1", "port": 0, "customer_id": "cust" + secrets.token_hex(3), "client_id": str(uuid.uuid4()),
              "client_secret": "cs-" + secrets.token_hex(16), "admin_token": "adm-" + secrets.token_hex(16),
              "resource_location_ids": [RESOURCE_LOCATION], "smb": {"port": 445}, "token_ttl": 3600, "job_seconds": 1}
    server = ips_lab_server.start_in_thread(str(tmp_path / "state"), config)
    server.config = config
    yield server
    server.stop()


@pytest.fixture()
def client(lab):
    c = lab.config
    client = IPSClient(c["customer_id"], c["client_id"], c["client_secret"], api_url=lab.url, ca_path=lab.ca_path, retry_max_delay=1)
    client.call("credential_create", body={"id": "vc", "type": "UsernamePassword", "username": "u", "password": "p"})
    return client


def prepare_body(**tags):
    """A vSphere prepare: the lab has no vSphere disk model, so its work needs no Samba (diagnostics would)."""
    return {"platform": "vsphere", "resourceLocationId": RESOURCE_LOCATION, "platformCredentialId": "vc", "prefix": "ips", "tags": tags,
            "provisioningType": "Mcs", "targetDiskName": "[ds1] win11.vmdk"}


def test_submit_then_wait_until_complete(client):
    job = _jobs.submit(client, "prepare", prepare_body())
    assert job["state"] == "running" and job["type"] == "prepare"
    final = _jobs.wait(client, job, Waiter(30, 0.2))
    assert final["id"] == job["id"]
    assert final["state"] == "complete" and final["progress"] == 100


def test_timeout_reports_the_job_and_leaves_it_running(lab, client):
    lab.admin.set_config(job_seconds=120)
    job = _jobs.submit(client, "prepare", prepare_body())
    with pytest.raises(WaitTimeout) as err:
        _jobs.wait(client, job, Waiter(0.5, 0.2))
    assert err.value.job_id == job["id"] and err.value.job_status == "inProgress"
    assert err.value.job["id"] == job["id"]  # the failed task returns the last job seen
    message = str(err.value)
    assert message.startswith("Job %s is still inProgress at " % job["id"]) and "(stage " in message
    assert "(wait_timeout)" in message and "not cancelled" in message and "resume waiting" in message
    assert _jobs.get(client, job["id"])["state"] == "running"


def test_progress_changes_are_reported_and_check_mode_does_not_wait(lab, client):
    lab.admin.set_config(job_seconds=2)
    job = _jobs.submit(client, "prepare", prepare_body())
    seen = []
    final = _jobs.wait(client, job, Waiter(30, 0.1, on_change=lambda status, _job: seen.append(status)))
    assert final["state"] == "complete"
    assert seen[0].progress == job["progress"] and seen[-1].progress == 100 and len(seen) >= 3
    assert all(a != b for a, b in zip(seen, seen[1:]))  # one report per change, never twice the same
    running = _jobs.submit(client, "prepare", prepare_body())
    looked = []
    assert _jobs.wait(client, running, NoWait(on_change=lambda status, _job: looked.append(status)))["state"] == "running"
    assert len(looked) == 1


def test_failed_job_carries_the_service_error(lab, client):
    lab.admin.fail_job("prepare", "preparing", "The CE VM could not reach the share.")
    job = _jobs.wait(client, _jobs.submit(client, "prepare", prepare_body()), Waiter(30, 0.2))
    assert job["state"] == "failed"
    err = _jobs.JobFailed(job)
    assert "could not reach the share" in str(err) and job["id"] in str(err)


def test_token_expiry_during_a_wait_is_survived(lab, client):
    lab.admin.set_config(token_ttl=1, job_seconds=3)
    job = _jobs.submit(client, "prepare", prepare_body())
    assert _jobs.wait(client, job, Waiter(30, 0.4))["state"] == "complete"


def test_find_by_key_returns_the_newest_job_with_that_key(client):
    body = prepare_body()
    key = _jobs.idempotency_key("prepare", body)
    assert _jobs.find_by_key(client, key) is None
    body["tags"] = {"ips-ansible-key": key}
    first = _jobs.submit(client, "prepare", body)
    second = _jobs.submit(client, "prepare", body)
    _jobs.submit(client, "prepare", prepare_body())
    assert _jobs.find_by_key(client, key)["id"] == second["id"] != first["id"]


def test_idempotency_key_ignores_tags_and_key_order():
    a = {"platform": "gcp", "prefix": "ips", "tags": {"x": "1"}}
    b = {"prefix": "ips", "platform": "gcp", "tags": {"y": "2"}}
    assert _jobs.idempotency_key("export", a) == _jobs.idempotency_key("export", b)
    assert _jobs.idempotency_key("export", a) != _jobs.idempotency_key("prepare", a)
    assert _jobs.idempotency_key("export", a) != _jobs.idempotency_key("export", dict(a, prefix="ce"))


def test_dry_run_validates_and_creates_nothing(client):
    answer = _jobs.submit(client, "prepare", prepare_body(), dry_run=True)
    assert answer["valid"] is True
    assert list(client.iter_pages("jobs")) == []


def test_cancel_returns_the_cancelled_job(lab, client):
    lab.admin.set_config(job_seconds=120)
    job = _jobs.submit(client, "prepare", prepare_body())
    assert _jobs.cancel(client, job["id"])["state"] == "cancelled"


# --- the controller side: the ips_job_wait action plugin (what the job_wait role runs) ----------


def job_wait_action(lab, check_mode=False, **args):
    """The ips_job_wait action plugin as ansible-playbook builds it (a Task, the local connection), pointed at the lab."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.playbook.play_context import PlayContext
    from ansible.playbook.task import Task
    from ansible.plugins.loader import connection_loader
    from ansible.template import Templar

    from ansible_collections.citrix_community.ips.plugins.action.ips_job_wait import ActionModule

    c = lab.config
    task = Task()
    task.action = "citrix_community.ips.ips_job_wait"
    task.check_mode = check_mode
    task.args = dict(dict(customer_id=c["customer_id"], client_id=c["client_id"], client_secret=c["client_secret"], api_url=lab.url,
                          ca_path=lab.ca_path, retry_max_delay=1), **args)
    loader = DataLoader()
    play_context = PlayContext()
    return ActionModule(task=task, connection=connection_loader.get("local", play_context, None), play_context=play_context, loader=loader,
                        templar=Templar(loader=loader), shared_loader_obj=None)


def test_job_wait_action_prints_each_change_and_returns_the_job(lab, client, capsys):
    lab.admin.set_config(job_seconds=6, progress_step=0.1)
    action = job_wait_action(lab, id=None, label="prepare w1", poll_delay=0.05, timeout=60)
    job = _jobs.submit(client, "prepare", prepare_body())
    action._task.args["id"] = job["id"]
    result = action.run(task_vars={})
    assert not result.get("failed"), result
    assert result["job"]["state"] == "complete" and result["job"]["progress"] == 100
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("prepare w1: ")]
    assert len(lines) >= 5 and lines[0].startswith("prepare w1: running, ") and lines[-1].startswith("prepare w1: complete, 100% (")
    assert any(".%d%% (" % d in line for line in lines for d in range(1, 10))  # tenths, as the lab reports them
    assert len(lines) == len(set(lines))  # a line per change, never twice the same
    assert lab.config["client_secret"] not in str(result)


def test_job_wait_action_times_out_naming_the_option_and_never_cancels(lab, client):
    lab.admin.set_config(job_seconds=120)
    job = _jobs.submit(client, "prepare", prepare_body())
    result = job_wait_action(lab, id=job["id"], label="prepare w2", poll_delay=0.2, timeout=1,
                             timeout_option="prepare_timeout").run(task_vars={})
    assert result["failed"] and result["job_id"] == job["id"] and result["job_status"] == "inProgress"
    assert result["msg"].startswith("prepare w2: job %s is still inProgress at " % job["id"])
    assert "after waiting 1 s (prepare_timeout)" in result["msg"] and "not cancelled" in result["msg"]
    assert "run the stage again to attach to it, or raise prepare_timeout" in result["msg"]
    assert _jobs.get(client, job["id"])["state"] == "running"


def test_job_wait_action_reports_a_failed_job_and_check_mode_looks_once(lab, client):
    lab.admin.fail_job("prepare", "preparing", "The CE VM could not reach the share.")
    lab.admin.set_config(job_seconds=1)
    failed = _jobs.submit(client, "prepare", prepare_body())
    result = job_wait_action(lab, id=failed["id"], label="prepare w3", poll_delay=0.1, timeout=60).run(task_vars={})
    assert result["failed"] and "could not reach the share" in result["msg"] and "Fix the cause and run again" in result["msg"]
    lab.admin.set_config(job_seconds=120)
    running = _jobs.submit(client, "prepare", prepare_body())
    looked = job_wait_action(lab, check_mode=True, id=running["id"], poll_delay=30, timeout=3600).run(task_vars={})
    assert not looked.get("failed") and looked["job"]["state"] == "running"
    unknown = job_wait_action(lab, id="no-such-job", poll_delay=0.1, timeout=5).run(task_vars={})
    assert unknown["failed"] and "is no longer known to the service" in unknown["msg"]

"""Tasks on the lab clock and the Windows host's faults: a dropped connection mid-task (the task goes on and
can be found again), a task failed at a stage with a message, a start answering task id 0, stop, pipes, reset."""

import threading
import time
import uuid

import pytest
import requests
from pypsrp.powershell import PowerShell
from winhost_helpers import error_ids, errors, run

from ips_lab.common.admin import LabAdminError

SOURCE = "[LocalDS_0] DC0_H0_VM0/disk1.vmdk"


def export(winhost, pool, name=None):
    vsphere = winhost.connector_id(pool, "IPS_LAB_AL_CONNECTOR_VSPHERE")
    out, ps = run(pool, "Start-AlIpsExport", ConnectorConfigId=vsphere, SourceDisk=SOURCE, OutputDiskName=name or "f-" + uuid.uuid4().hex[:8])
    assert not ps.had_errors, errors(ps)
    return out[0]


def test_a_dropped_connection_mid_task_leaves_the_task_running_to_be_found_again(winhost):
    winhost.admin.set_config(task_seconds=600)  # shorter than the session's idle timeout (1800 s)
    with winhost.pool() as pool:
        task = export(winhost, pool)
        winhost.admin.host_fault("drop", cmdlet="Wait-AlTask")
        with pytest.raises(requests.exceptions.ConnectionError):
            run(pool, "Wait-AlTask", WorkTicketId=task["WorkTicketId"])
    assert [(t["id"], t["state"]) for t in winhost.admin.tasks()] == [(task["WorkTicketId"], "Running")]
    # a new session attaches to the same task; the lab clock finishes it while Wait-AlTask waits
    with winhost.pool(auth="ntlm") as pool:
        timer = threading.Timer(0.3, winhost.admin.advance_clock, args=(600,))
        timer.start()
        try:
            final, ps = run(pool, "Wait-AlTask", WorkTicketId=task["WorkTicketId"])
        finally:
            timer.join()
    assert not ps.had_errors and final[0]["State"] == "Completed" and final[0]["WorkTicketId"] == task["WorkTicketId"]
    assert len(winhost.admin.tasks()) == 1


def test_a_task_fails_at_the_injected_stage_with_its_message(winhost):
    winhost.admin.set_config(task_seconds=100)
    winhost.admin.host_fault("fail_task", type="IpsExport", stage="ExportingDisk", message="Disk read error on the datastore.")
    name = "fail-" + uuid.uuid4().hex[:8]
    with winhost.pool() as pool:
        task = export(winhost, pool, name)
        now, _ps = run(pool, "Get-AlTask", WorkTicketId=task["WorkTicketId"])
        assert now[0]["State"] == "Running" and now[0]["Stage"] == "Queued"
        winhost.admin.advance_clock(20)
        now, _ps = run(pool, "Get-AlTask", task["WorkTicketId"])
        assert now[0]["State"] == "Running" and now[0]["Stage"] == "DeployingCompositingEngine" and now[0]["PercentComplete"] == 20
        winhost.admin.advance_clock(30)
        final, ps = run(pool, "Wait-AlTask", WorkTicketId=task["WorkTicketId"])
    assert final[0]["State"] == "Failed" and final[0]["Stage"] == "ExportingDisk"
    assert final[0]["Message"] == "Disk read error on the datastore." and final[0]["WorkItems"][0]["Status"] == final[0]["Message"]
    assert winhost.admin.tasks()[0]["work_state"] == "pending"  # it never reached its copy: nothing written
    # the next export is not affected (the rule counted down)
    winhost.admin.set_config(task_seconds=0)
    with winhost.pool() as pool:
        final, _ps = run(pool, "Wait-AlTask", WorkTicketId=export(winhost, pool)["WorkTicketId"])
    assert final[0]["State"] == "Completed"


def test_a_start_call_can_answer_task_id_zero(winhost):
    winhost.admin.host_fault("task_id_zero", cmdlet="Start-AlIpsExport")
    with winhost.pool() as pool:
        task = export(winhost, pool)
    assert task["WorkTicketId"] == 0 and task["Id"] == 0 and "Another operation" in task["Message"]
    assert winhost.admin.tasks() == []


def test_stop_cancels_a_running_task_and_wait_returns_it(winhost):
    winhost.admin.set_config(task_seconds=3600)
    with winhost.pool() as pool:
        task = export(winhost, pool)
        stopped, ps = run(pool, "Stop-AlTask", WorkTicketId=task["WorkTicketId"])
        assert not ps.had_errors and stopped[0]["State"] == "Canceled"
        final, _ps = run(pool, "Wait-AlTask", task["WorkTicketId"])
        assert final[0]["State"] == "Canceled"
        _out, ps = run(pool, "Stop-AlTask", WorkTicketId=123)
        assert error_ids(ps) == ["WorkTicketNotFound,Stop-AlTask"]


def test_a_start_piped_into_wait_altask_returns_the_finished_task(winhost):
    with winhost.pool() as pool:
        vsphere = winhost.connector_id(pool, "IPS_LAB_AL_CONNECTOR_VSPHERE")
        ps = PowerShell(pool)
        ps.add_cmdlet("Start-AlIpsExport").add_parameter("ConnectorConfigId", vsphere).add_parameter("SourceDisk", SOURCE) \
          .add_parameter("OutputDiskName", "piped-" + uuid.uuid4().hex[:8])
        ps.add_cmdlet("Wait-AlTask").add_parameter("PollInterval", 1)
        out = ps.invoke()
    assert not ps.had_errors, errors(ps)
    assert len(out) == 1 and out[0].extended_properties["State"] == "Completed"


def test_reset_forgets_tasks_but_ids_keep_growing(winhost):
    winhost.admin.set_config(task_seconds=600)  # the tasks never reach their work: no disk is written
    with winhost.pool() as pool:
        first = export(winhost, pool)["WorkTicketId"]
    winhost.admin.reset()
    winhost.admin.set_config(task_seconds=600)
    with winhost.pool() as pool:
        _out, ps = run(pool, "Get-AlTask", WorkTicketId=first)
        assert error_ids(ps) == ["WorkTicketNotFound,Get-AlTask"]
        assert export(winhost, pool)["WorkTicketId"] > first


def test_admin_rules_and_settings_are_checked(winhost):
    for bad in ({"action": "explode"}, {"action": "fail_task", "type": "IpsExport", "stage": "Nowhere", "message": "m"},
                {"action": "drop", "cmdlet": "Remove-Item"}):
        with pytest.raises(LabAdminError) as caught:
            winhost.admin._call("POST", "/_lab/faults", bad)
        assert caught.value.status == 400
    with pytest.raises(LabAdminError):
        winhost.admin.set_config(task_seconds=-1)
    assert winhost.admin.faults() == []


def test_a_receive_answered_with_an_error_status_or_late_then_the_next_one_answers(winhost):
    """`status` answers the next Receive of a pipeline running the cmdlet with that HTTP status (Retry-After when
    given, an empty body) instead of its output; `slow` answers it `delay` seconds late. Both count down."""
    from pypsrp.exceptions import WinRMTransportError
    winhost.admin.set_config(task_seconds=600)
    with winhost.pool() as pool:
        task = export(winhost, pool)
        winhost.admin.host_fault("status", cmdlet="Get-AlTask", status=503, retry_after=2)
        with pytest.raises(WinRMTransportError) as caught:
            run(pool, "Get-AlTask", WorkTicketId=task["WorkTicketId"])
        assert caught.value.code == 503
        assert winhost.admin.faults() == []
        winhost.admin.host_fault("slow", cmdlet="Get-AlTask", delay=1.5)
        started = time.monotonic()
        now, ps = run(pool, "Get-AlTask", WorkTicketId=task["WorkTicketId"])
        assert time.monotonic() - started >= 1.5 and not ps.had_errors and now[0]["WorkTicketId"] == task["WorkTicketId"]
        now, ps = run(pool, "Get-AlTask", WorkTicketId=task["WorkTicketId"])  # the rules are used up
        assert not ps.had_errors and now[0]["State"] == "Running"
    for bad in ({"action": "status", "status": 200}, {"action": "status", "retry_after": -1}, {"action": "slow", "delay": "x"}):
        with pytest.raises(LabAdminError) as caught:
            winhost.admin._call("POST", "/_lab/faults", bad)
        assert caught.value.status == 400 and next(iter(set(bad) - {"action"})) in str(caught.value.body), caught.value


def test_ctrl_c_stops_a_waiting_pipeline_not_the_task(winhost):
    winhost.admin.set_config(task_seconds=600)
    with winhost.pool() as pool:
        task = export(winhost, pool)
        ps = PowerShell(pool)
        ps.add_cmdlet("Wait-AlTask").add_parameter("WorkTicketId", task["WorkTicketId"])
        ps.begin_invoke()
        ps.stop()
        now, _ps = run(pool, "Get-AlTask", task["WorkTicketId"])
    assert ps.state == 3  # Stopped
    assert now[0]["State"] == "Running"


def test_tasks_survive_a_restart_of_the_windows_host(winhost):
    import json
    import os
    import signal

    from winhost_helpers import ips_lab, read_env

    from ips_lab.common.admin import LabAdmin

    winhost.admin.set_config(task_seconds=600)
    with winhost.pool() as pool:
        task = export(winhost, pool)
    record = json.loads((winhost.run_dir / "pids" / "winhost.json").read_text())
    os.kill(record["pid"], signal.SIGKILL)
    again = ips_lab(winhost.run_dir, "up", "--parts", "winhost")
    assert again.returncode == 0, again.stdout + again.stderr
    winhost.env = read_env(winhost.run_dir / "env")
    winhost.admin = LabAdmin.from_env(winhost.env, "winhost")
    with winhost.pool() as pool:
        now, ps = run(pool, "Get-AlTask", task["WorkTicketId"])
        assert not ps.had_errors and now[0]["State"] == "Running"
        winhost.admin.advance_clock(600)
        final, _ps = run(pool, "Wait-AlTask", task["WorkTicketId"])
    assert final[0]["State"] == "Completed"


def test_drop_shells_forgets_every_open_shell_as_a_winrm_restart_does(winhost):
    """After `drop_shells` the pool's next request names a shell the host no longer has: the WS-Management fault
    ERROR_WSMAN_INVALID_SELECTORS, as from a real WinRM after its service restarted; the tasks are all still there."""
    from pypsrp.exceptions import WSManFaultError

    winhost.admin.set_config(task_seconds=600)
    with pytest.raises(WSManFaultError) as closing:  # closing the pool at the end meets the gone shell too
        with winhost.pool() as pool:
            task = export(winhost, pool)
            assert winhost.admin.host_fault("drop_shells") is None
            with pytest.raises(WSManFaultError) as err:
                run(pool, "Get-AlTask", WorkTicketId=task["WorkTicketId"])
            assert err.value.code == 2150858843
    assert closing.value.code == 2150858843
    assert not winhost.admin.faults()  # done at once, not kept as a rule
    assert [t["id"] for t in winhost.admin.tasks()] == [task["WorkTicketId"]]

"""Task objects as the cmdlets return them (plain dicts) -> the collection's job shape."""

from ansible_collections.citrix_community.ips.plugins.module_utils import _appliance, _jobs


def test_a_completed_task_has_the_job_shapes_keys_and_its_result_as_artifacts():
    job = _appliance.shape({"WorkTicketId": 1001, "State": "Completed", "Stage": "Finalizing", "PercentComplete": 100,
                            "Result": {"OutputPath": "\\\\fs\\share\\a.vhdx"}}, "export", {"cmdlet": "Start-AlIpsExport"}, "k1")
    assert set(_jobs.shape({})) <= set(job)
    assert (job["id"], job["state"], job["progress"], job["kind"], job["backend"]) == (1001, "complete", 100, "export", "appliance")
    assert job["artifacts"] == {"OutputPath": "\\\\fs\\share\\a.vhdx"} and job["idempotency_key"] == "k1"


def test_a_failed_task_carries_the_appliances_message_else_its_work_items_status():
    job = _appliance.shape({"WorkTicketId": 7, "State": "Failed", "Message": "The disk is locked."})
    assert job["state"] == "failed" and _appliance.error_message(job) == "The disk is locked."
    job = _appliance.shape({"TaskId": 8, "State": "Failed", "WorkItems": [{"State": "Failed", "Status": "No space on the share."}]})
    assert job["id"] == 8 and _appliance.error_message(job) == "No space on the share."
    assert "No space on the share." in str(_appliance.TaskFailed(job))


def test_unknown_states_count_as_running_and_cancelled_is_spelled_either_way():
    assert _appliance.state_of("Queued") == "running"
    assert _appliance.state_of("Canceled") == _appliance.state_of("Cancelled") == "cancelled"
    assert _appliance.task_id_of({"WorkTicketId": "12"}) == 12 and _appliance.task_id_of({"Name": "x"}) is None


def test_cmdlet_parameters_leave_out_what_was_not_asked_for():
    values = {"chkdsk": False, "defrag": None, "tags": {}, "enable_rdp": True, "output_disk_name": "d"}
    sent = dict(_appliance.cmdlet_parameters("prepare", values))
    assert sent == {"EnableRdp": True, "OutputDiskName": "d"}
    (name, value), = _appliance.cmdlet_parameters("task", {"task_id": 5})
    assert name == "WorkTicketId" and (value.tag, value.value) == ("I64", 5)

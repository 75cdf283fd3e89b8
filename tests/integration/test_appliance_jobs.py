"""The job modules with backend: appliance, against the lab's Windows-host stand-in (real PSRP over HTTPS + NTLM,
its modelled App Layering appliance doing real work on the lab's Samba and Azure plane).

What reaches the appliance is read back from the host's recorded calls (each parameter with the .NET type it
arrived as); what the tasks made, from the share and the Azure plane. Tasks run on the lab clock
(`task_seconds`), so the tests wait about one `wait_sleep` per task.
"""

import os
import subprocess
import time

import pytest

from ips_lab.common.admin import LabAdmin
from ips_lab.planes.seed import azure_uploaded_disk

from appliance_play import BIN, ApplianceRun, appliance, arm_id, calls, kill_when, run_while, windows_host

VSPHERE_DISK = "[LocalDS_0] DC0_H0_VM0/disk1.vmdk"


@pytest.fixture()
def host(lab_env):
    admin = LabAdmin.from_env(lab_env, "winhost")
    admin.reset()
    admin.set_config(task_seconds=1, appliance_certificate_trusted=False)
    yield admin
    admin.reset()


@pytest.fixture()
def run(lab_env, tmp_path):
    return ApplianceRun(lab_env, tmp_path)


def unique(prefix):
    return "%s-%d-%d" % (prefix, os.getpid(), time.monotonic_ns() % 10 ** 9)


def export_args(env, journal, name, **over):
    args = dict(backend="appliance", appliance=appliance(env, journal, "IPS_LAB_AL_CONNECTOR_VSPHERE"), windows_host=windows_host(env),
                platform="vsphere", source_disk=VSPHERE_DISK, output_name=name, wait_sleep=1, tags={"change": "CHG-1"})
    args.update(over)
    return args


def prepare_args(env, journal, source, output, **over):
    args = dict(backend="appliance", appliance=appliance(env, journal, "IPS_LAB_AL_CONNECTOR_AZURE"), windows_host=windows_host(env),
                platform="azure", target_disk=arm_id(env, source), output_disk_name=output, wait_sleep=1)
    args.update(over)
    return args


def test_export_check_mode_starts_nothing_then_runs_then_a_rerun_changes_nothing(lab_env, host, run, tmp_path):
    env, name = lab_env, unique("appl-exp")
    args = export_args(env, tmp_path / "journal", name)

    predicted, _out = run("ips_export", args, check_mode=True)
    assert predicted["changed"] is True and predicted["task_id"] is None
    assert predicted["validation"]["valid"] is True  # the connector was looked up on the appliance
    assert calls(host, "Start-AlIpsExport") == [] and host.tasks() == []

    (done, again), out = run.many([("ips_export", args, False), ("ips_export", args, False)])
    assert done["changed"] is True and not done.get("failed"), out[-3000:]
    assert done["job"]["state"] == "complete" and done["vhd_filename"] == name + ".vhdx"
    vhdx = os.path.join(env["IPS_LAB_SMB_EXPORT_DIR"], name + ".vhdx")
    with open(vhdx, "rb") as handle:
        assert handle.read(8) == b"vhdxfile"  # a real VHDX on the share
    assert done["size_bytes"] == os.path.getsize(vhdx)
    (start,) = calls(host, "Start-AlIpsExport")
    assert start["parameters"]["SourceDisk"] == {"type": "System.String", "value": VSPHERE_DISK}
    assert start["parameters"]["OutputDiskName"] == {"type": "System.String", "value": name}
    assert start["parameters"]["Tags"] == {"type": "System.Collections.Hashtable", "value": {"change": "CHG-1"}}
    assert start["parameters"]["ConnectorConfigId"]["type"] == "System.String"
    assert {c["cmdlet"] for c in host.calls()} <= {"Connect-AlAppliance", "Get-AlConnectorConfig", "Start-AlIpsExport", "Get-AlTask"}
    assert all(c["parameters"]["WorkTicketId"]["type"] == "System.Int64" for c in calls(host, "Get-AlTask"))

    assert again["changed"] is False and again["task_id"] == done["task_id"] and again["job"]["state"] == "complete"
    assert len(calls(host, "Start-AlIpsExport")) == 1 and len(host.tasks()) == 1


def test_every_mcs_prepare_option_reaches_the_cmdlet_with_its_type(lab_env, host, run, tmp_path):
    env, source, output = lab_env, unique("appl-up"), unique("appl-mcs")
    azure_uploaded_disk(env, source)
    args = prepare_args(env, tmp_path / "journal", source, output, provisioning_type="mcs", domain_unjoin=True, install_upl=True,
                        chkdsk=True, defrag=True, enable_rdp=True, update_layer_repo="\\\\repo01\\layers",
                        debug_settings={"enableBootDiagnostics": True}, job_timeout=5400, tags={"stage": "prepared"},
                        vda={"install_misa": True, "force_mcsio": True,
                             "xd_reconfigure": [{"name": "controllers", "value": "ddc1.lab.test ddc2.lab.test"}]})
    done, out = run("ips_prepare", args)
    assert done["changed"] is True and done["job"]["state"] == "complete", out[-3000:]
    assert done["disk_name"] == output and done["disk_id"].lower() == arm_id(env, output).lower()
    (start,) = calls(host, "Start-AlIpsPrepare")
    got = dict((name, (p["type"], p["value"])) for name, p in start["parameters"].items())
    assert got.pop("ConnectorConfigId")[0] == "System.String"
    assert got.pop("XdReconfigure")[0] == "System.Object[]"
    assert got.pop("Timeout")[0] == "System.TimeSpan"
    assert got == {
        "ProvisioningType": ("System.String", "Mcs"),
        "SourceDisk": ("System.String", arm_id(env, source)),
        "OutputDiskName": ("System.String", output),
        "DomainUnjoin": ("System.Boolean", True), "InstallUpl": ("System.Boolean", True), "Chkdsk": ("System.Boolean", True),
        "Defrag": ("System.Boolean", True), "EnableRdp": ("System.Boolean", True),
        "UpdateLayerRepo": ("System.String", "\\\\repo01\\layers"),
        "Misa": ("System.String", "Install"), "Mcsio": ("System.String", "Force"),
        "Tags": ("System.Collections.Hashtable", {"stage": "prepared"}),
        "DebugSettings": ("System.Collections.Hashtable", {"enableBootDiagnostics": True}),
    }
    (task,) = host.tasks()
    assert task["state"] == "Completed"


def test_a_pvs_prepare_sends_the_pvs_version_and_no_mcs_component(lab_env, host, run, tmp_path):
    env, source, output = lab_env, unique("appl-up"), unique("appl-pvs")
    azure_uploaded_disk(env, source)
    wrong_type = prepare_args(env, tmp_path / "journal", source, output, provisioning_type="pvs")
    wrong_type["appliance"]["connector"] = "lab-azure-layering"  # the lab's "Azure Deployments" connector
    (refused, done), out = run.many([
        ("ips_prepare", wrong_type, False),
        ("ips_prepare", prepare_args(env, tmp_path / "journal", source, output, provisioning_type="pvs", vda={"install_pvs": "2411"}), False),
    ])
    assert refused.get("failed") is True and "appliance.connector lab-azure-layering" in refused["msg"]
    assert 'need a connector of type "Image Portability for Azure"' in refused["msg"]
    assert done["changed"] is True and done["job"]["state"] == "complete", out[-3000:]
    assert len(calls(host, "Start-AlIpsPrepare")) == 1  # the wrong connector started nothing
    params = calls(host, "Start-AlIpsPrepare")[0]["parameters"]
    assert params["ProvisioningType"]["value"] == "Pvs" and params["PvsInstallVersion"] == {"type": "System.String", "value": "2411"}
    assert "Misa" not in params and "Mcsio" not in params and "Tags" not in params


def test_publish_writes_into_the_pvs_share_and_diagnostics_collect(lab_env, host, run, tmp_path):
    env, prepared, name = lab_env, unique("appl-prepared"), unique("appl-pub")
    azure_uploaded_disk(env, prepared)
    journal = tmp_path / "journal"
    args = dict(backend="appliance", windows_host=windows_host(env), platform="azure", source_disk=arm_id(env, prepared),
                output_name=name, wait_sleep=1,
                appliance=appliance(env, journal, "IPS_LAB_AL_CONNECTOR_AZURE", share_connector=env["IPS_LAB_AL_CONNECTOR_SHARE"]))
    diagnostics = dict(backend="appliance", windows_host=windows_host(env), platform="azure", wait_sleep=1,
                       appliance=appliance(env, journal, share_connector=env["IPS_LAB_AL_CONNECTOR_SHARE"]))
    (done, diag), out = run.many([("ips_publish", args, False), ("ips_diagnostics", diagnostics, False)])
    assert done["changed"] is True and done["job"]["state"] == "complete", out[-3000:]
    assert os.path.getsize(os.path.join(env["IPS_LAB_SMB_PVS_DIR"], name + ".vhdx")) == done["size_bytes"] > 0
    params = calls(host, "Start-AlIpsPublish")[0]["parameters"]
    assert params["SourceDisk"]["value"] == arm_id(env, prepared) and params["OutputDiskName"]["value"] == name
    assert params["FileShareConnectorConfigId"]["type"] == "System.String"

    assert diag["changed"] is True and diag["job"]["state"] == "complete", out[-3000:]
    assert diag["diagnostics_path"] and diag["diagnostics_path"].endswith(".zip")
    assert len(calls(host, "Start-AlIpsDiagnostics")) == 1


def test_a_failed_task_is_reported_with_the_appliance_message_then_started_again(lab_env, host, run, tmp_path):
    env, name = lab_env, unique("appl-fail")
    args = export_args(env, tmp_path / "journal", name)
    host.host_fault("fail_task", type="IpsExport", stage="ExportingDisk", message="The compositing engine could not attach the disk.")
    (failed, again), out = run.many([("ips_export", args, False), ("ips_export", args, False)])
    assert failed.get("failed") is True
    assert "could not attach the disk" in failed["msg"] and str(failed["job_id"]) in failed["msg"]
    assert again["changed"] is True and again["job"]["state"] == "complete", out[-3000:]
    assert again["previous_failure"]["task_id"] == failed["job_id"]
    assert "could not attach the disk" in again["previous_failure"]["message"]
    assert again["task_id"] != failed["job_id"] and len(calls(host, "Start-AlIpsExport")) == 2


def test_task_id_zero_is_a_clear_error_and_never_retried(lab_env, host, run, tmp_path):
    env, source = lab_env, unique("appl-up")
    host.host_fault("task_id_zero", cmdlet="Start-AlIpsPrepare")
    busy, _out = run("ips_prepare", prepare_args(env, tmp_path / "journal", source, unique("appl-busy")))
    assert busy.get("failed") is True and "busy with a conflicting operation" in busy["msg"] and "task id 0" in busy["msg"]
    assert len(calls(host, "Start-AlIpsPrepare")) == 1 and host.tasks() == []


def test_a_disk_name_with_powershell_in_it_reaches_the_cmdlet_literally(lab_env, host, run, tmp_path):
    env = lab_env
    disk = "[LocalDS_0] DC0_H0_VM0/x'; Remove-Item C:\\Windows -Recurse; '.vmdk"
    done, out = run("ips_export", export_args(env, tmp_path / "journal", unique("appl-lit"), source_disk=disk), check_mode=False)
    (start,) = calls(host, "Start-AlIpsExport")
    assert start["parameters"]["SourceDisk"] == {"type": "System.String", "value": disk}, out[-2000:]
    assert not [c for c in host.calls() if c["cmdlet"] in ("<script>", "Remove-Item")]


def test_killed_while_waiting_the_rerun_attaches_to_the_same_task(lab_env, host, run, tmp_path):
    env, name = lab_env, unique("appl-kill")
    host.set_config(task_seconds=600)
    args = export_args(env, tmp_path / "journal", name)
    proc = run.start("ips_export", args)
    kill_when(proc, lambda: len(calls(host, "Get-AlTask")) >= 1)  # started, journaled, and waiting
    (task,) = host.tasks()
    assert task["state"] == "Running"
    shells = {c["shell"] for c in host.calls()}

    def rerun_watching():  # the re-run's own runspace pool looks at the task: the task may end now
        return any(c["cmdlet"] == "Get-AlTask" and c["shell"] not in shells for c in host.calls())

    again, out = run_while(lambda: run("ips_export", args), rerun_watching, lambda: host.advance_clock(600))
    assert again["resumed"] is True and again["changed"] is True, out[-2000:]
    assert again["task_id"] == task["id"] and again["job"]["state"] == "complete"
    assert len(calls(host, "Start-AlIpsExport")) == 1 and len(host.tasks()) == 1


def test_wait_false_then_a_rerun_attaches_to_the_running_task(lab_env, host, run, tmp_path):
    env, name = lab_env, unique("appl-attach")
    host.set_config(task_seconds=600)
    args = export_args(env, tmp_path / "journal", name, wait=False)
    (first, again), out = run.many([("ips_export", args, False), ("ips_export", args, False)])
    assert first["changed"] is True and first["job"]["state"] == "running"
    assert again["resumed"] is True and again["task_id"] == first["task_id"] and again["job"]["state"] == "running", out[-2000:]
    assert len(calls(host, "Start-AlIpsExport")) == 1


def test_a_dropped_connection_and_an_expired_session_are_ridden_out(lab_env, host, run, tmp_path):
    env = lab_env
    host.set_config(task_seconds=3)
    host.host_fault("drop", cmdlet="Get-AlTask")
    done, out = run("ips_export", export_args(env, tmp_path / "journal", unique("appl-drop")))
    assert done["changed"] is True and done["job"]["state"] == "complete", out[-3000:]
    host.host_fault("expire_sessions")
    again, out = run("ips_job", dict(backend="appliance", id=str(done["task_id"]), appliance=appliance(env, tmp_path / "journal"),
                                     windows_host=windows_host(env)))
    assert again["changed"] is False and again["job"]["state"] == "complete", out[-3000:]


def test_ips_job_state_absent_stops_a_running_task(lab_env, host, run, tmp_path):
    env = lab_env
    host.set_config(task_seconds=600)
    started, _out = run("ips_export", export_args(env, tmp_path / "journal", unique("appl-stop"), wait=False))
    job = dict(backend="appliance", id=str(started["task_id"]), state="absent", appliance=appliance(env, tmp_path / "journal"),
               windows_host=windows_host(env))
    (predicted, stopped, again), out = run.many([("ips_job", job, True), ("ips_job", job, False), ("ips_job", job, False)])
    assert predicted["changed"] is True
    assert stopped["changed"] is True and stopped["job"]["state"] == "cancelled", out[-2000:]
    (stop,) = calls(host, "Stop-AlTask")  # one: check mode stopped nothing, the third run found it stopped
    assert stop["parameters"]["WorkTicketId"] == {"type": "System.Int64", "value": started["task_id"]}
    assert again["changed"] is False


def test_wrong_credentials_and_certificates_are_clear_errors_without_secrets(lab_env, host, run, tmp_path):
    env = lab_env
    wrong = "Wr0ng-" + os.urandom(6).hex()
    cases = {}
    args = cases["windows_password"] = export_args(env, tmp_path / "journal", unique("appl-cred"))
    args["windows_host"]["password"] = wrong
    args = cases["appliance_password"] = export_args(env, tmp_path / "journal", unique("appl-cred"))
    args["appliance"]["password"] = wrong
    args = cases["untrusted_certificate"] = export_args(env, tmp_path / "journal", unique("appl-cred"))
    del args["windows_host"]["ca_path"]
    args = cases["appliance_certificate"] = export_args(env, tmp_path / "journal", unique("appl-cred"))
    args["appliance"]["ignore_certificate_errors"] = False
    expect = {
        "windows_password": "windows_host.password (or windows_host.username) was refused by 127.0.0.1",
        "appliance_password": "appliance.password (or appliance.username) was refused by the appliance",
        "untrusted_certificate": "is not trusted (",
        "appliance_certificate": "appliance.ignore_certificate_errors: true",
    }
    results, out = run.many([("ips_export", cases[name], False) for name in sorted(cases)], verbose=True)
    for name, result in zip(sorted(cases), results):
        assert result.get("failed") is True and expect[name] in result["msg"], (name, result.get("msg"))
        assert "Traceback" not in result["msg"]
    assert "windows_host.ca_path" in dict(zip(sorted(cases), results))["untrusted_certificate"]["msg"]
    for secret in (wrong, env["IPS_LAB_WINHOST_PASSWORD"], env["IPS_LAB_APPLIANCE_PASSWORD"]):
        assert secret not in out, "a secret appears in the -vvvv output"
    assert calls(host, "Start-AlIpsExport") == []


def test_migrate_refuses_an_aws_target_on_the_appliance_before_anything_runs(lab_env, host, tmp_path):
    play = tmp_path / "migrate.yml"
    play.write_text("""
- name: migrate with the appliance to AWS
  hosts: localhost
  gather_facts: false
  vars:
    migrate_backend: appliance
    migrate_workflow: mcs_to_mcs
    migrate_image_name: appl-aws
    migrate_smb: {location: "smb://fs.lab.test/exports/", username: u, password: p}
    migrate_source: {platform: vsphere, disk: "[LocalDS_0] DC0_H0_VM0/disk1.vmdk"}
    migrate_target: {platform: aws, connection: {region: us-east-1}, upload: {}}
  roles:
    - role: citrix_community.ips.migrate
""")
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
               XDG_STATE_HOME=str(tmp_path / "state"))
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(play)], env=env, cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=300, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "prepares and publishes in Azure only" in out and "migrate_target.platform is aws" in out, out[-3000:]
    assert host.calls() == []  # nothing reached the Windows host


def test_ips_job_wait_follows_an_appliance_task_on_the_controller(lab_env, host, run, tmp_path):
    env = lab_env
    host.set_config(task_seconds=600)  # ended by the lab clock once the follower watches it, however slow the machine
    journal = tmp_path / "journal"
    follow = dict(id="{{ r.task_id }}", kind="appliance", label="export appl-follow", poll_delay=0.2, timeout=120,
                  appliance=appliance(env, journal), windows_host=windows_host(env))
    steps = [("ips_export", export_args(env, journal, unique("appl-follow"), wait=False), False), ("ips_job_wait", follow, False)]

    def following():  # two pools looked at the task: the export's, then the follower's
        return len({c["shell"] for c in calls(host, "Get-AlTask")}) >= 2

    (started, followed), out = run_while(lambda: run.many(steps, verbose=True), following, lambda: host.advance_clock(600))
    assert started["job"]["state"] == "running" and followed["job"]["state"] == "complete", out[-3000:]
    assert followed["job"]["id"] == started["task_id"]
    assert "export appl-follow: running, " in out  # a line per change: the running task, then its end
    assert "export appl-follow: complete, 100%% (Finalizing), job %d" % started["task_id"] in out
    for secret in (env["IPS_LAB_WINHOST_PASSWORD"], env["IPS_LAB_APPLIANCE_PASSWORD"]):
        assert secret not in out, "a secret appears in the -vvvv output"


def test_without_a_journal_an_existing_output_disk_found_in_azure_changes_nothing(lab_env, host, run, tmp_path):
    env, source, output = lab_env, unique("appl-up"), unique("appl-exists")
    azure_uploaded_disk(env, source)
    azure_uploaded_disk(env, output)  # the output of an earlier run whose journal is gone
    login = {"tenant_id": env["IPS_LAB_AZURE_TENANT_ID"], "client_id": env["IPS_LAB_AZURE_CLIENT_ID"],
             "client_secret": env["IPS_LAB_AZURE_CLIENT_SECRET"], "authority": env["IPS_LAB_AZURE_AUTHORITY"],
             "arm_endpoint": env["IPS_LAB_AZURE_URL"], "ca_path": env["IPS_LAB_AZURE_CA_PATH"]}
    found, out = run("ips_prepare", prepare_args(env, tmp_path / "fresh-journal", source, output, azure_output_check=login), verbose=True)
    assert found["changed"] is False and found["output"]["exists"] is True, out[-3000:]
    assert found["disk_id"].lower() == arm_id(env, output).lower() and found["task_id"] is None
    assert calls(host, "Start-AlIpsPrepare") == []
    assert env["IPS_LAB_AZURE_CLIENT_SECRET"] not in out

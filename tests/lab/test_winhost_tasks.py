"""The appliance's tasks do real work on the lab: an export writes a readable VHDX over SMB from the seeded
vSphere disk, a prepare needs the uploaded managed disk in the Azure plane and makes the output disk there,
a publish writes into the PVS share, diagnostics write a bundle; tasks can be waited for, looked up, stopped."""

import json
import os
import subprocess
import uuid
import zipfile

import pytest
from winhost_helpers import SWITCH, error_ids, errors, run

from ips_lab.jobwork.prepare import _Arm
from ips_lab.jobwork.source_disk import build_source_disk, sha256_of_file
from ips_lab.planes.seed import azure_uploaded_disk


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def start_and_wait(pool, cmdlet, **params):
    """Start a task, pipe nothing: wait for it by id; (started object, final object)."""
    out, ps = run(pool, cmdlet, **params)
    assert not ps.had_errors, errors(ps)
    assert out[0]["WorkTicketId"] >= 1000 and out[0]["State"] in ("Running", "Failed")
    final, ps = run(pool, "Wait-AlTask", WorkTicketId=out[0]["WorkTicketId"])
    assert not ps.had_errors, errors(ps)
    return out[0], final[0]


def arm_disk(env, name, group=None):
    arm = _Arm({"url": env["IPS_LAB_AZURE_URL"], "ca_path": env["IPS_LAB_AZURE_CA_PATH"], "tenant_id": env["IPS_LAB_AZURE_TENANT_ID"],
                "client_id": env["IPS_LAB_AZURE_CLIENT_ID"], "client_secret": env["IPS_LAB_AZURE_CLIENT_SECRET"]})
    path = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/disks/%s" % (
        env["IPS_LAB_AZURE_SUBSCRIPTION_ID"], group or env["IPS_LAB_AZURE_RESOURCE_GROUP"], name)
    status, disk, _code, _message = arm.call("GET", path)
    return disk if status == 200 else None


def arm_id(env, name):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/disks/%s" % (
        env["IPS_LAB_AZURE_SUBSCRIPTION_ID"], env["IPS_LAB_AZURE_RESOURCE_GROUP"], name)


def test_export_writes_the_seeded_vsphere_disk_as_a_readable_vhdx_on_the_share(winhost, tmp_path):
    env = winhost.env
    name = unique("exp")
    with winhost.pool() as pool:
        vsphere = winhost.connector_id(pool, "IPS_LAB_AL_CONNECTOR_VSPHERE")
        started, final = start_and_wait(pool, "Start-AlIpsExport", ConnectorConfigId=vsphere,
                                        SourceDisk="[LocalDS_0] DC0_H0_VM0/disk1.vmdk", OutputDiskName=name)
    assert final["WorkTicketId"] == started["WorkTicketId"] and final["State"] == "Completed"
    assert final["PercentComplete"] == 100 and final["Message"] == ""
    assert final["Result"]["OutputPath"] == "\\\\%s\\%s\\%s.vhdx" % (env["IPS_LAB_SMB_HOST"], env["IPS_LAB_SMB_EXPORT_SHARE"], name)
    written = os.path.join(env["IPS_LAB_SMB_EXPORT_DIR"], name + ".vhdx")
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", written], capture_output=True, check=True, text=True).stdout)
    assert info["format"] == "vhdx"
    raw = tmp_path / "back.raw"
    subprocess.run(["qemu-img", "convert", "-f", "vhdx", "-O", "raw", written, str(raw)], check=True)
    build_source_disk(str(tmp_path / "source.raw"), "DC0_H0_VM0/disk1.vmdk")
    assert sha256_of_file(str(raw)) == sha256_of_file(str(tmp_path / "source.raw"))


def test_export_checks_its_connectors_and_disk_path_before_starting(winhost):
    with winhost.pool() as pool:
        azure_layering = next(c for c in run(pool, "Get-AlConnectorConfig")[0] if c["Type"] == "Azure Deployments")["Id"]
        vsphere = winhost.connector_id(pool, "IPS_LAB_AL_CONNECTOR_VSPHERE")
        _out, ps = run(pool, "Start-AlIpsExport", ConnectorConfigId=azure_layering, SourceDisk="[ds] a/b.vmdk", OutputDiskName="x")
        assert error_ids(ps) == ["InvalidConnectorType,Start-AlIpsExport"]
        _out, ps = run(pool, "Start-AlIpsExport", ConnectorConfigId=str(uuid.uuid4()), SourceDisk="[ds] a/b.vmdk", OutputDiskName="x")
        assert error_ids(ps) == ["ConnectorConfigNotFound,Start-AlIpsExport"] and "Get-AlConnectorConfig" in errors(ps)[0]
        _out, ps = run(pool, "Start-AlIpsExport", ConnectorConfigId=vsphere, SourceDisk="DC0_H0_VM0/disk1.vmdk", OutputDiskName="x")
        assert error_ids(ps) == ["InvalidSourceDisk,Start-AlIpsExport"] and "[datastore] folder/disk.vmdk" in errors(ps)[0]
    assert winhost.admin.tasks() == []


def test_an_existing_export_file_fails_the_task_with_the_appliance_message(winhost):
    name = unique("twice")
    with winhost.pool() as pool:
        vsphere = winhost.connector_id(pool, "IPS_LAB_AL_CONNECTOR_VSPHERE")
        start_and_wait(pool, "Start-AlIpsExport", ConnectorConfigId=vsphere, SourceDisk="[LocalDS_0] DC0_H0_VM1/disk1.vmdk",
                       OutputDiskName=name)
        _started, final = start_and_wait(pool, "Start-AlIpsExport", ConnectorConfigId=vsphere,
                                         SourceDisk="[LocalDS_0] DC0_H0_VM1/disk1.vmdk", OutputDiskName=name)
    assert final["State"] == "Failed" and "already exists" in final["Message"] and final["Status"] == final["Message"]


@pytest.mark.parametrize("provisioning", ["Mcs", "Pvs"])
def test_prepare_needs_the_uploaded_disk_and_makes_the_output_disk_in_azure(winhost, provisioning):
    env = winhost.env
    source, output = unique("up"), unique("prepared")
    options = {"Mcs": {"Misa": "Force", "Mcsio": "Install"}, "Pvs": {"PvsInstallVersion": "2411"}}[provisioning]
    with winhost.pool() as pool:
        azure = winhost.connector_id(pool, "IPS_LAB_AL_CONNECTOR_AZURE")
        # not uploaded yet: the task fails with the appliance's message, nothing is made
        _s, final = start_and_wait(pool, "Start-AlIpsPrepare", ConnectorConfigId=azure, ProvisioningType=provisioning,
                                   SourceDisk=arm_id(env, source), OutputDiskName=output)
        assert final["State"] == "Failed" and source in final["Message"] and "not found" in final["Message"]
        assert arm_disk(env, output) is None
        azure_uploaded_disk(env, source)
        _s, final = start_and_wait(pool, "Start-AlIpsPrepare", ConnectorConfigId=azure, ProvisioningType=provisioning,
                                   SourceDisk=arm_id(env, source), OutputDiskName=output, DomainUnjoin=SWITCH, Chkdsk=True,
                                   Defrag=False, EnableRdp=SWITCH, InstallUpl=SWITCH, UpdateLayerRepo="\\\\repo\\layers",
                                   XdReconfigure=["/controllers:ddc1.lab.test"], Tags={"stage": "prepared"}, Timeout="02:00:00",
                                   DebugSettings={"enableBootDiagnostics": True}, **options)
    assert final["State"] == "Completed", final
    made = arm_disk(env, output)
    assert made is not None and made["properties"]["creationData"]["sourceResourceId"].lower() == arm_id(env, source).lower()
    assert made["tags"] == {"stage": "prepared"}
    assert final["Result"]["OutputDiskId"].lower() == made["id"].lower() and final["Result"]["ProvisioningType"] == provisioning
    prepare = [c for c in winhost.admin.calls() if c["cmdlet"] == "Start-AlIpsPrepare"][-1]["parameters"]
    assert prepare["DebugSettings"] == {"type": "System.Collections.Hashtable", "value": {"enableBootDiagnostics": True}}
    assert prepare["XdReconfigure"]["type"] == "System.Object[]"
    assert prepare["Chkdsk"] == {"type": "System.Boolean", "value": True}


def test_prepare_refuses_options_of_the_other_provisioning_type_and_a_non_arm_disk(winhost):
    env = winhost.env
    with winhost.pool() as pool:
        azure = winhost.connector_id(pool, "IPS_LAB_AL_CONNECTOR_AZURE")
        _o, ps = run(pool, "Start-AlIpsPrepare", ConnectorConfigId=azure, ProvisioningType="Pvs", SourceDisk=arm_id(env, "d"),
                     OutputDiskName="o", Misa="Install")
        assert error_ids(ps) == ["InvalidParameterCombination,Start-AlIpsPrepare"] and "-Misa" in errors(ps)[0]
        _o, ps = run(pool, "Start-AlIpsPrepare", ConnectorConfigId=azure, ProvisioningType="Mcs", SourceDisk="my-disk", OutputDiskName="o")
        assert error_ids(ps) == ["InvalidSourceDisk,Start-AlIpsPrepare"]
        vsphere = winhost.connector_id(pool, "IPS_LAB_AL_CONNECTOR_VSPHERE")
        _o, ps = run(pool, "Start-AlIpsPrepare", ConnectorConfigId=vsphere, ProvisioningType="Mcs", SourceDisk=arm_id(env, "d"),
                     OutputDiskName="o")
        assert error_ids(ps) == ["InvalidConnectorType,Start-AlIpsPrepare"] and "Image Portability for Azure" in errors(ps)[0]
    assert winhost.admin.tasks() == []


def test_publish_writes_the_prepared_disk_into_the_pvs_share(winhost, tmp_path):
    env = winhost.env
    prepared, vdisk = unique("prepared"), unique("vdisk")
    azure_uploaded_disk(env, prepared)
    with winhost.pool() as pool:
        azure = winhost.connector_id(pool, "IPS_LAB_AL_CONNECTOR_AZURE")
        share = winhost.connector_id(pool, "IPS_LAB_AL_CONNECTOR_SHARE")
        _s, final = start_and_wait(pool, "Start-AlIpsPublish", ConnectorConfigId=azure, FileShareConnectorConfigId=share,
                                   SourceDisk=arm_id(env, prepared), OutputDiskName=vdisk)
        assert final["State"] == "Completed", final
        _s, missing = start_and_wait(pool, "Start-AlIpsPublish", ConnectorConfigId=azure, FileShareConnectorConfigId=share,
                                     SourceDisk=arm_id(env, "never-made"), OutputDiskName=unique("vdisk"))
    assert missing["State"] == "Failed" and "never-made" in missing["Message"]
    written = os.path.join(env["IPS_LAB_SMB_PVS_DIR"], vdisk + ".vhdx")
    assert final["Result"]["OutputPath"].endswith("\\%s\\%s.vhdx" % (env["IPS_LAB_SMB_PVS_SHARE"], vdisk))
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", written], capture_output=True, check=True, text=True).stdout)
    assert info["format"] == "vhdx"


def test_diagnostics_write_a_bundle_naming_the_task(winhost):
    env = winhost.env
    with winhost.pool() as pool:
        share = winhost.connector_id(pool, "IPS_LAB_AL_CONNECTOR_EXPORT_SHARE")
        vsphere = winhost.connector_id(pool, "IPS_LAB_AL_CONNECTOR_VSPHERE")
        winhost.admin.host_fault("fail_task", type="IpsExport", stage="ExportingDisk", message="The compositing engine lost its disk.")
        _s, failed = start_and_wait(pool, "Start-AlIpsExport", ConnectorConfigId=vsphere, SourceDisk="[ds] a/b.vmdk",
                                    OutputDiskName=unique("exp"))
        _s, final = start_and_wait(pool, "Start-AlIpsDiagnostics", FileShareConnectorConfigId=share, WorkTicketId=failed["WorkTicketId"])
    assert final["State"] == "Completed", final
    path = os.path.join(env["IPS_LAB_SMB_EXPORT_DIR"], final["Result"]["OutputFileName"])
    with zipfile.ZipFile(path) as bundle:
        tasks = json.loads(bundle.read("appliance/tasks.json"))
    assert tasks == [{"WorkTicketId": failed["WorkTicketId"], "Type": "IpsExport", "State": "Failed",
                      "Message": "The compositing engine lost its disk."}]

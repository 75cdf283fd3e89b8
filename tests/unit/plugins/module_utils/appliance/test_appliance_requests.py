"""Options -> the appliance's cmdlet parameters, and the options each backend refuses."""

import pytest

from ansible_collections.citrix_community.ips.plugins.module_utils import _appliance, _appliance_jobs
from ansible_collections.citrix_community.ips.plugins.module_utils import _appliance_requests as req
from ansible_collections.citrix_community.ips.plugins.module_utils._bodies.common import OptionError

ARM = "/subscriptions/0000/resourceGroups/rg-images/providers/Microsoft.Compute/disks/win11-up"
APPLIANCE = {"address": "elm.lab", "username": "admin", "password": "El-m-Pa55", "connector": "azure-ips",
             "share_connector": "pvs-store", "ignore_certificate_errors": False, "journal_dir": None}


def params(**over):
    p = dict(backend="appliance", platform="azure", appliance=dict(APPLIANCE), windows_host={"host": "w"}, tags={}, job_timeout=None,
             provisioning_type="mcs", vda={}, domain_unjoin=None, md5_hash=None, target_disk=ARM, target_snapshot=None,
             output_disk_name="win11-prep", output_snapshot_name=None, output_image_name=None, extra_body={}, force=False,
             install_upl=None, chkdsk=None, defrag=None, enable_rdp=None, update_layer_repo=None, debug_settings=None,
             pending_credentials=[], resource_location_id=None, source_disk=None, source_snapshot=None, output_name=None,
             output_format="vhdx", hash_disk=False, prepare=False, preflight=None)
    p.update(over)
    return p


def sent(kind, p):
    request = req.BUILDERS[kind](p)
    return dict(_appliance.cmdlet_parameters(kind, request["values"]))


def test_every_prepare_option_reaches_its_parameter_with_its_type():
    p = params(provisioning_type="mcs", domain_unjoin=True, install_upl=True, chkdsk=True, defrag=True, enable_rdp=True,
               update_layer_repo="\\\\repo\\layers", debug_settings={"enableBootDiagnostics": True}, job_timeout=7200,
               tags={"change": "CHG1"},
               vda={"install_misa": True, "force_mcsio": True,
                    "xd_reconfigure": [{"name": "controllers", "value": "ddc1 ddc2"}, {"name": "portnumber", "value": "80"}]})
    got = sent("prepare", p)
    assert got["ProvisioningType"] == "Mcs" and got["SourceDisk"] == ARM and got["OutputDiskName"] == "win11-prep"
    for switch in ("DomainUnjoin", "InstallUpl", "Chkdsk", "Defrag", "EnableRdp"):
        assert got[switch] is True, switch
    assert got["Misa"] == "Install" and got["Mcsio"] == "Force"
    assert got["UpdateLayerRepo"] == "\\\\repo\\layers"
    assert got["DebugSettings"] == {"enableBootDiagnostics": True} and got["Tags"] == {"change": "CHG1"}
    assert got["XdReconfigure"] == [{"Name": "controllers", "Value": "ddc1 ddc2"}, {"Name": "portnumber", "Value": "80"}]
    assert (got["Timeout"].tag, got["Timeout"].value) == ("TS", "PT7200S")  # a TimeSpan, not a number
    assert "ConnectorConfigId" not in got  # looked up by name when the task starts


def test_pvs_prepare_sends_the_pvs_version_and_no_false_switches():
    got = sent("prepare", params(provisioning_type="pvs", vda={"install_pvs": "2407"}, chkdsk=False))
    assert got["ProvisioningType"] == "Pvs" and got["PvsInstallVersion"] == "2407"
    assert "Chkdsk" not in got and "Misa" not in got and "Tags" not in got


def test_a_disk_name_with_powershell_in_it_stays_one_literal_value():
    name = "win11'; Remove-Item C:\\ -Recurse; '"
    got = sent("prepare", params(output_disk_name=name))
    assert got["OutputDiskName"] == name


@pytest.mark.parametrize("option,value,needle", [
    ("md5_hash", "9e107d9d372bb6826bd81d3542a419d6", "md5_hash is an option of backend: cloud"),
    ("target_snapshot", "snap", "target_snapshot is an option of backend: cloud"),
    ("extra_body", {"x": 1}, "extra_body is an option of backend: cloud"),
    ("azure", {"credential_id": "c"}, "azure: the appliance reaches the platform through its connector"),
])
def test_cloud_only_options_fail_on_the_appliance_naming_the_option(option, value, needle):
    with pytest.raises(OptionError) as err:
        req.check_backend(params(**{option: value}))
    assert needle in str(err.value) and "remove %s" % option in str(err.value)


@pytest.mark.parametrize("option,value", [("chkdsk", True), ("appliance", APPLIANCE), ("debug_settings", {"a": 1}),
                                          ("azure_output_check", {"tenant_id": "t"})])
def test_appliance_only_options_fail_on_the_cloud_naming_the_option(option, value):
    with pytest.raises(OptionError) as err:
        req.check_backend(params(**dict({"backend": "cloud", "appliance": None, "windows_host": None}, **{option: value})))
    assert str(err.value).startswith(option) and "only backend: appliance" in str(err.value) and "backend is cloud" in str(err.value)


def test_force_mcsio_fails_on_the_cloud():
    with pytest.raises(OptionError, match="vda.force_mcsio"):
        req.check_backend(params(backend="cloud", appliance=None, windows_host=None, vda={"force_mcsio": True}))


@pytest.mark.parametrize("platform", ["aws", "gcp", "vsphere"])
def test_prepare_outside_azure_says_the_appliance_targets_azure_only(platform):
    with pytest.raises(OptionError) as err:
        req.prepare_request(params(platform=platform))
    assert "platform %s" % platform in str(err.value) and "azure only" in str(err.value) and "backend: cloud" in str(err.value)


def test_an_azure_disk_must_be_its_full_resource_id():
    with pytest.raises(OptionError, match="target_disk: on the appliance an Azure disk is named by its full resource id"):
        req.prepare_request(params(target_disk="win11-up"))


def test_a_vsphere_export_source_is_a_datastore_path():
    got = sent("export", params(platform="vsphere", source_disk="[ds1] win11/win11.vmdk", output_name="win11"))
    assert got == {"SourceDisk": "[ds1] win11/win11.vmdk", "OutputDiskName": "win11"}
    with pytest.raises(OptionError, match=r"'\[datastore\] folder/file.vmdk'"):
        req.export_request(params(platform="vsphere", source_disk="win11.vmdk", output_name="win11"))


def test_mcs_components_need_provisioning_type_mcs():
    with pytest.raises(OptionError, match="vda.force_mcsio installs an MCS component"):
        req.prepare_request(params(provisioning_type="pvs", vda={"force_mcsio": True}))


def test_connectors_are_required_by_name_for_each_task():
    p = params(appliance=dict(APPLIANCE, share_connector=None))
    with pytest.raises(OptionError, match="appliance.share_connector is required"):
        req.connector_names(p, req.publish_request(dict(p, source_disk=ARM, output_name="win11")))
    names = req.connector_names(params(), req.prepare_request(params()))
    assert names == {"connector_id": ("appliance.connector", "azure-ips", True)}


def test_the_key_is_stable_ignores_tags_and_changes_with_force_and_appliance():
    def key(p, force=False, address="elm.lab"):
        r = req.prepare_request(p)
        r["connector_names"] = {"connector_id": "azure-ips"}
        return _appliance_jobs.idempotency_key(address, r, force)
    base = key(params())
    assert base == key(params()) == key(params(tags={"owner": "x"})) == key(params(), address="ELM.lab ")
    assert base != key(params(), force=True)
    assert base != key(params(), address="elm2.lab")
    assert base != key(params(output_disk_name="other"))

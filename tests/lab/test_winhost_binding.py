"""The Windows host binds parameters the way PowerShell does and refuses what PowerShell refuses: unknown
parameter, wrong type, missing mandatory, scripts, unknown commands; every call is recorded with the type
its values arrived as, and values arrive verbatim."""

import pytest
from pypsrp.serializer import TaggedValue
from winhost_helpers import SWITCH, error_ids, errors, run


@pytest.fixture(scope="module")
def connected(winhost_lab):
    winhost_lab.admin.reset()
    winhost_lab.admin.set_config(task_seconds=0.5)
    with winhost_lab.pool() as pool:
        yield winhost_lab, pool


def last_error(ps):
    assert ps.had_errors, "the pipeline did not fail"
    assert len(ps.streams.error) == 1
    return ps.streams.error[0]


def test_an_unknown_parameter_is_the_binding_error_of_powershell(connected):
    _lab, pool = connected
    out, ps = run(pool, "Get-AlConnectorConfig", ConnectorName="x")
    error = last_error(ps)
    assert out == []
    assert error.fq_error == "NamedParameterNotFound,Get-AlConnectorConfig"
    assert error.reason == "ParameterBindingException"
    assert error.category == 5  # InvalidArgument
    assert str(error) == "A parameter cannot be found that matches parameter name 'ConnectorName'."


def test_parameter_names_are_case_insensitive_and_aliases_and_positions_bind(connected):
    lab, pool = connected
    out, ps = run(pool, "get-alconnectorconfig", name=lab.env["IPS_LAB_AL_CONNECTOR_SHARE"])
    assert not ps.had_errors and out[0]["Name"] == lab.env["IPS_LAB_AL_CONNECTOR_SHARE"]
    out, ps = run(pool, "Get-AlConnectorConfig", lab.env["IPS_LAB_AL_CONNECTOR_SHARE"])  # -Name is position 0
    assert not ps.had_errors and out[0]["Type"] == "Windows File Share"
    _out, ps = run(pool, "Get-AlTask", TaskId=4242)
    assert error_ids(ps) == ["WorkTicketNotFound,Get-AlTask"]  # bound through the alias, then not found


@pytest.mark.parametrize("cmdlet, params, parameter, shown", [
    ("Wait-AlTask", {"WorkTicketId": "abc"}, "WorkTicketId", '"abc" to type "System.Int64"'),
    ("Wait-AlTask", {"PollInterval": "often"}, "PollInterval", '"often" to type "System.Int32"'),
    ("Start-AlIpsPrepare", {"ConnectorConfigId": "c", "ProvisioningType": "Citrix", "SourceDisk": "d", "OutputDiskName": "o"},
     "ProvisioningType", "Mcs, Pvs"),
    ("Start-AlIpsPrepare", {"ConnectorConfigId": "c", "ProvisioningType": "Mcs", "SourceDisk": "d", "OutputDiskName": "o",
                            "Misa": "Always"}, "Misa", "None, Install, Force"),
    ("Start-AlIpsPrepare", {"ConnectorConfigId": "c", "ProvisioningType": "Mcs", "SourceDisk": "d", "OutputDiskName": "o",
                            "Tags": "owner=me"}, "Tags", "System.Collections.Hashtable"),
    ("Start-AlIpsPrepare", {"ConnectorConfigId": "c", "ProvisioningType": "Mcs", "SourceDisk": "d", "OutputDiskName": "o",
                            "Timeout": "soon"}, "Timeout", "System.TimeSpan"),
    ("Start-AlIpsPrepare", {"ConnectorConfigId": "c", "ProvisioningType": "Mcs", "SourceDisk": "d", "OutputDiskName": "o",
                            "EnableRdp": "yes"}, "EnableRdp", "SwitchParameter"),
])
def test_a_value_of_the_wrong_type_is_a_conversion_error(connected, cmdlet, params, parameter, shown):
    _lab, pool = connected
    _out, ps = run(pool, cmdlet, **params)
    error = last_error(ps)
    assert error.fq_error == "CannotConvertArgumentNoMessage,%s" % cmdlet
    assert error.category == 5
    assert str(error).startswith("Cannot bind parameter '%s'." % parameter) and shown in str(error)


def test_a_credential_that_is_not_one_is_a_transformation_error(connected):
    lab, pool = connected
    _out, ps = run(pool, "Connect-AlAppliance", Address=lab.env["IPS_LAB_APPLIANCE_ADDRESS"], Credential="administrator")
    assert last_error(ps).fq_error == "ParameterArgumentTransformationError,Connect-AlAppliance"


def test_missing_mandatory_parameters_are_named(connected):
    _lab, pool = connected
    _out, ps = run(pool, "Start-AlIpsExport", SourceDisk="[ds] vm/disk.vmdk")
    error = last_error(ps)
    assert error.fq_error == "MissingMandatoryParameter,Start-AlIpsExport"
    assert "ConnectorConfigId OutputDiskName" in str(error)


def test_scripts_are_refused_outright(connected):
    lab, pool = connected
    from pypsrp.powershell import PowerShell

    ps = PowerShell(pool)
    ps.add_script("Get-AlConnectorConfig | Remove-Item")
    assert ps.invoke() == []
    assert error_ids(ps) == ["ScriptsNotAllowed"] and ps.had_errors
    assert lab.admin.calls()[-1]["cmdlet"] == "<script>"


def test_an_unknown_command_is_command_not_found(connected):
    _lab, pool = connected
    _out, ps = run(pool, "Remove-Item", Path="C:\\")
    error = last_error(ps)
    assert error.fq_error == "CommandNotFoundException" and error.reason == "CommandNotFoundException"
    assert "'Remove-Item' is not recognized" in str(error)


def test_values_arrive_verbatim_and_each_call_is_recorded_with_its_types(connected):
    lab, pool = connected
    lab.admin.clear_calls()
    vsphere = lab.connector_id(pool, "IPS_LAB_AL_CONNECTOR_VSPHERE")
    injected = "x'; Remove-Item C:\\ -Recurse; '"
    out, ps = run(pool, "Start-AlIpsExport", ConnectorConfigId=vsphere, SourceDisk="[LocalDS_0] DC0_H0_VM0/disk1.vmdk",
                  OutputDiskName=injected, Tags={"owner": "lab"}, Timeout="01:30:00")
    assert not ps.had_errors, errors(ps)
    ps_wait = run(pool, "Wait-AlTask", WorkTicketId=out[0]["WorkTicketId"], PollInterval=1)[1]
    assert not ps_wait.had_errors
    task = [t for t in lab.admin.tasks() if t["id"] == out[0]["WorkTicketId"]][0]
    assert task["parameters"]["output"] == injected
    export = [c for c in lab.admin.calls() if c["cmdlet"] == "Start-AlIpsExport"][0]
    assert export["parameters"]["OutputDiskName"] == {"type": "System.String", "value": injected}
    assert export["parameters"]["Tags"] == {"type": "System.Collections.Hashtable", "value": {"owner": "lab"}}
    assert export["parameters"]["Timeout"]["type"] == "System.String"  # a TimeSpan sent as text binds, as in PowerShell
    wait = [c for c in lab.admin.calls() if c["cmdlet"] == "Wait-AlTask"][0]
    assert wait["parameters"]["PollInterval"] == {"type": "System.Int32", "value": 1}


def test_an_int64_and_a_switch_arrive_with_their_types(connected):
    lab, pool = connected
    lab.admin.clear_calls()
    from pypsrp.powershell import PowerShell

    ps = PowerShell(pool)
    ps.add_cmdlet("Get-AlTask").add_parameter("WorkTicketId", TaggedValue("I64", 99))
    ps.invoke()
    _out, ps2 = run(pool, "Connect-AlAppliance", Address=lab.env["IPS_LAB_APPLIANCE_ADDRESS"], Credential=lab.credential(),
                    IgnoreCertificateErrors=SWITCH)
    assert not ps2.had_errors
    calls = lab.admin.calls()
    assert calls[0]["parameters"]["WorkTicketId"] == {"type": "System.Int64", "value": 99}
    assert calls[1]["parameters"]["IgnoreCertificateErrors"] == {"type": "$null", "value": None}

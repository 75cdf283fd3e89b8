"""The DaaS helpers that need no service: the job shape and its message, the artifact -> hosting-unit path rules,
the catalog shape and the idempotency check. The client's calls run against the lab in tests/integration/test_mcs_catalog_*.py."""

import pytest

from ansible_collections.citrix_community.ips.plugins.module_utils import _daas_wire as W
from ansible_collections.citrix_community.ips.plugins.module_utils import _mcs
from ansible_collections.citrix_community.ips.plugins.module_utils._daas_client import is_stale_image_error, shape_job
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSApiError, IPSError


@pytest.mark.parametrize("status, state", [("NotStarted", "running"), ("InProgress", "running"), ("Unknown", "running"),
                                           ("Complete", "complete"), ("CompleteWithWarning", "warning"), ("Failed", "failed"),
                                           ("Canceled", "failed"), ("NonTerminatingError", "failed"), ("SomethingNew", "failed")])
def test_job_states(status, state):
    assert shape_job({"Id": "j", "Status": status})["state"] == state


def test_job_message_prefers_the_error_details_line():
    raw = {"Id": "j", "Type": "UpdateMachineCatalogProvisioningScheme", "Status": "Failed", "ErrorString": "generic",
           "ErrorParameters": [{"Name": "ErrorDetails", "Value": "ErrorId : 42\nErrorMessage : The disk is not generalized."}],
           "Parameters": [{"Name": "Id", "Value": "c1"}]}
    job = shape_job(raw)
    assert job["error"] == "The disk is not generalized." and job["warning"] is None and job["parameters"] == {"Id": "c1"}
    assert shape_job(dict(raw, ErrorParameters=[]))["error"] == "generic"
    warned = shape_job(dict(raw, Status="CompleteWithWarning"))
    assert warned["warning"] == "The disk is not generalized." and warned["error"] is None


def test_artifact_paths_per_cloud():
    option, folder, match, _what = _mcs.locate({"azure_disk": {"resource_group": "RG1", "name": "win11"}})
    assert (option, folder) == ("azure_disk", "image.folder\\RG1.resourcegroup")
    assert match("WIN11.manageddisk") and not match("win11.snapshot") and not match("win111.manageddisk")
    option, folder, match, _what = _mcs.locate({"aws_ami": "ami-0abc"})
    assert (option, folder) == ("aws_ami", "") and match("golden (ami-0abc).template") and not match("golden (ami-0abcd).template")
    assert _mcs.locate({"gcp_image": "img"})[1] == W.GCP_IMAGES_FOLDER and _mcs.locate({"gcp_image": "img"})[2]("img.image")
    option, folder, match, _what = _mcs.locate({"master_image_path": "XDHyp:\\HostingUnits\\unit\\a.folder\\b.vm\\c.snapshot"})
    assert folder == "a.folder\\b.vm" and match("c.snapshot")
    with pytest.raises(IPSError, match="master_image_path must be an XDPath"):
        _mcs.locate({"master_image_path": "c.snapshot"})
    assert _mcs.locate({}) is None


def test_a_gcp_template_is_a_machine_profile():
    with pytest.raises(IPSError, match="machine profile.*gcp_image.*gcp_machine_profile"):
        _mcs.locate({"gcp_instance_template": "tpl"})
    option, folder, match, _what = _mcs.locate_profile({"gcp_machine_profile": "tpl"})
    assert (option, folder) == ("gcp_machine_profile", W.GCP_TEMPLATES_FOLDER) and match("TPL.template") and not match("tpl.image")
    option, folder, match, _what = _mcs.locate_profile({"machine_profile_path": "XDHyp:\\HostingUnits\\unit\\t.folder\\p.template"})
    assert (option, folder) == ("machine_profile_path", "t.folder") and match("p.template")
    with pytest.raises(IPSError, match="machine_profile_path must be an XDPath"):
        _mcs.locate_profile({"machine_profile_path": "p.template"})
    assert _mcs.locate_profile({}) is None


def test_catalog_shape_and_target():
    raw = {"Id": "c1", "Name": "Pooled", "ProvisioningType": "MCS", "SessionSupport": "SingleSession",
           "HypervisorConnection": {"Id": "h1", "Name": "azure"},
           "ProvisioningScheme": {"ResourcePool": {"Id": "p1", "Name": "unit"}, "MasterImageNote": "n",
                                  "MasterImage": {"Name": "d.manageddisk", "XDPath": "XDHyp:\\HostingUnits\\unit\\d.manageddisk"}}}
    summary = _mcs.catalog_summary(raw)
    assert summary["master_image_name"] == "d.manageddisk" and summary["resource_pool"] == "unit" and summary["image_version"] is None
    assert _mcs.pool_and_connection(raw) == ("h1", "p1", "unit")
    assert _mcs.on_target(summary, "xdhyp:\\hostingunits\\unit\\D.manageddisk")
    assert not _mcs.on_target(summary, "XDHyp:\\HostingUnits\\unit\\e.manageddisk")
    assert not _mcs.on_target(summary, definition="def", version="1")
    # with a machine profile asked for, the catalog is on target only on that profile too
    assert summary["machine_profile_path"] is None
    profiled = _mcs.catalog_summary(dict(raw, ProvisioningScheme=dict(raw["ProvisioningScheme"], MachineProfile={"XDPath": "XDHyp:\\x\\p.template"})))
    assert profiled["machine_profile_path"] == "XDHyp:\\x\\p.template"
    assert _mcs.on_target(profiled, "XDHyp:\\HostingUnits\\unit\\d.manageddisk", profile="xdhyp:\\X\\p.template")
    assert not _mcs.on_target(profiled, "XDHyp:\\HostingUnits\\unit\\d.manageddisk", profile="XDHyp:\\x\\q.template")
    assert not _mcs.on_target(summary, "XDHyp:\\HostingUnits\\unit\\d.manageddisk", profile="XDHyp:\\x\\p.template")
    with pytest.raises(IPSError, match="PVS-streamed"):
        _mcs.refuse_unless_mcs(dict(raw, ProvisioningType="PVSStreaming"))


def test_stale_image_errors_are_recognised():
    stale = IPSApiError(400, "Failed to locate the master image 'x': could not find the resource.")
    assert is_stale_image_error(stale)
    assert not is_stale_image_error(IPSApiError(400, "The field 'StoreOldImages' is not a member."))
    assert not is_stale_image_error(IPSApiError(404, "could not find"))

"""Job bodies built from module params, and every cross-field rule (pure functions, no service)."""

import pytest

from ansible_collections.citrix_community.ips.plugins.module_utils._bodies import common, diagnostics, export, prepare, publish, pvs
from ansible_collections.citrix_community.ips.plugins.module_utils._bodies.common import OptionError

SMB = {"location": "smb://fs01/exports/win11", "credential_id": "smb"}
DICTS = {
    "vsphere": {"host": "vc", "port": 443, "credential_id": "vc", "ssl_fingerprint": "3F:8A:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22",
                "ssl_ca_certificate": None, "ssl_no_check_hostname": None, "datastore": "ds1"},
    "xenserver": {"host": "xen", "port": 443, "credential_id": "xen", "ssl_no_check_hostname": True, "ssl_ca_certificate": "PEM"},
    "nutanix": {"host": "prism", "port": 9440, "credential_id": "prism"},
    "azure": {"credential_id": "az", "subscription_id": "sub", "ce_vm_sku": "Standard_D2S_v3", "network_isolation": True, "use_public_ip": None},
    "aws": {"credential_id": "aws", "region": "us-east-2", "security_group_ids": ["sg-1"]},
    "gcp": {"credential_id": "gcp", "zone": "us-east4-a", "network_tags": ["ce"]},
}


def params(platform, **extra):
    p = dict((name, None) for name in common.PLATFORMS)
    p.update(platform=platform, resource_location_id="rl", prefix="ips", job_timeout=None, force=False, tags={}, extra_body={})
    p[platform] = dict(DICTS[platform])
    p.update(extra)
    return p


def export_params(platform, **extra):
    base = dict(smb=SMB, output_name="win11", output_format="vhdx", hash_disk=False, source_disk="d", source_snapshot=None)
    base.update(extra)
    return params(platform, **base)


def prepare_params(platform, **extra):
    base = dict(provisioning_type="mcs", vda={"install_misa": None, "force_misa": None, "install_mcsio": None, "install_pvs": None, "xd_reconfigure": []},
                domain_unjoin=None, md5_hash=None, target_disk="d", target_snapshot=None, output_disk_name=None, output_snapshot_name=None,
                output_image_name=None)
    base.update(extra)
    return params(platform, **base)


@pytest.mark.parametrize("platform, field", [("vsphere", "sourceDiskName"), ("xenserver", "sourceDiskUuid"), ("nutanix", "sourceDiskName"),
                                             ("azure", "targetDiskName"), ("aws", "targetVolumeId"), ("gcp", "targetDiskName")])
def test_export_body_per_platform(platform, field):
    body = export.build(export_params(platform))
    assert body[field] == "d"
    assert body["platformCredentialId"] == DICTS[platform]["credential_id"]
    assert body["outputStorageLocation"] == {"location": "smb://fs01/exports/win11/", "credentialId": "smb"}
    assert body["outputImageFilename"] == "win11" and body["outputImageFormat"] == "VhdxDiskFormat"
    assert "hashDisk" not in body and "overwriteTargetFile" not in body and "timeout" not in body


def test_export_body_options():
    body = export.build(export_params("vsphere", hash_disk=True, force=True, output_format="vhd", job_timeout=3600))
    assert body["vsphereSslFingerprint"].startswith("3F:8A") and body["vsphereDatastore"] == "ds1"
    assert body["hashDisk"] and body["overwriteTargetFile"] and body["timeout"] == 3600
    assert body["outputImageFormat"] == "VhdDiskFormat"
    assert export.build(export_params("azure", source_disk=None, source_snapshot="s"))["targetSnapshotName"] == "s"
    assert export.build(export_params("aws", source_disk=None, source_snapshot="snap-1"))["targetSnapshotId"] == "snap-1"
    assert export.build(export_params("azure"))["ceVmSku"] == "Standard_D2S_v3"
    assert "usePublicIp" not in export.build(export_params("azure"))
    assert export.build(export_params("xenserver"))["xenSslNoCheckHostname"] is True


@pytest.mark.parametrize("change, words", [
    ({"azure": DICTS["azure"]}, ["azure", "platform is vsphere"]),
    ({"vsphere": None}, ["platform is vsphere, so the vsphere option"]),
    ({"source_disk": None}, ["source_disk is required"]),
    ({"source_snapshot": "s"}, ["source_disk and source_snapshot"]),
    ({"source_disk": None, "source_snapshot": "s"}, ["source_snapshot", "platform is vsphere"]),
    ({"smb": {"location": "smb://host", "credential_id": "x"}}, ["smb.location"]),
    ({"smb": {"location": "smb://h/s/../x/", "credential_id": "x"}}, ["smb.location"]),
    ({"smb": None}, ["smb is required"]),
    ({"output_name": "a/b"}, ["output_name"]),
    ({"output_name": "win.VHDX"}, ["output_name", "output_format"]),
    ({"job_timeout": 10}, ["job_timeout"]),
    ({"vsphere": dict(DICTS["vsphere"], ssl_fingerprint="zz")}, ["vsphere.ssl_fingerprint"]),
    ({"vsphere": dict(DICTS["vsphere"], ssl_fingerprint=None, ssl_no_check_hostname=True)}, ["vsphere.ssl_no_check_hostname", "vsphere.ssl_ca_certificate"]),
])
def test_export_rules(change, words):
    with pytest.raises(OptionError) as err:
        export.build(export_params("vsphere", **change))
    assert all(w in str(err.value) for w in words), str(err.value)


def test_prepare_body():
    vda = {"install_misa": True, "force_misa": None, "install_mcsio": True, "install_pvs": None,
           "xd_reconfigure": [{"name": "controllers", "value": "a b"}, {"name": "portnumber", "value": "80"}, {"name": "enable_hdx_ports", "value": "True"},
                              {"name": "custom_flag", "value": "x"}]}
    body = prepare.build(prepare_params("azure", vda=vda, domain_unjoin=True, md5_hash="A" * 32, output_snapshot_name="snap", force=True))
    assert body["provisioningType"] == "Mcs" and body["installMisa"] and body["installMcsio"]
    assert body["xdReconfigure"][0] == {"ParameterName": "controllers", "ParameterValue": "a b"}
    assert len(body["xdReconfigure"]) == 4
    assert body["domainUnjoin"] and body["md5Hash"] == "a" * 32 and body["outputSnapshotName"] == "snap"
    assert body["overwriteTargetFile"] and body["networkIsolation"] and body["targetDiskName"] == "d"
    assert prepare.build(prepare_params("gcp"))["targetImageName"] == "d"
    assert prepare.build(prepare_params("xenserver"))["targetDiskUuid"] == "d"
    aws = prepare.build(prepare_params("aws", target_disk=None, target_snapshot="snap-1", provisioning_type="pvs",
                                       vda=dict(vda, install_misa=None, install_mcsio=None, install_pvs="2407", xd_reconfigure=[])))
    assert aws["targetSnapshotId"] == "snap-1" and aws["installPvs"] == "2407" and aws["provisioningType"] == "Pvs"
    assert aws["securityGroupIds"] == ["sg-1"]
    assert prepare.build(prepare_params("nutanix", output_image_name="img"))["outputImageName"] == "img"


def vda(**values):
    base = {"install_misa": None, "force_misa": None, "install_mcsio": None, "install_pvs": None, "xd_reconfigure": []}
    base.update(values)
    return base


@pytest.mark.parametrize("platform, change, words", [
    ("azure", {"provisioning_type": "pvs", "vda": vda(install_misa=True)}, ["vda.install_misa", "provisioning_type: mcs"]),
    ("azure", {"provisioning_type": "pvs", "vda": vda(force_misa=True)}, ["vda.force_misa", "provisioning_type: mcs"]),
    ("azure", {"provisioning_type": "pvs", "vda": vda(install_mcsio=True)}, ["vda.install_mcsio", "provisioning_type: mcs"]),
    ("azure", {"vda": vda(force_misa=True, install_misa=False)}, ["vda.force_misa", "vda.install_misa"]),
    ("azure", {"vda": vda(install_pvs="2407")}, ["vda.install_pvs", "provisioning_type: pvs"]),
    ("azure", {"provisioning_type": "pvs", "vda": vda(install_pvs="new!")}, ["vda.install_pvs"]),
    ("azure", {"vda": vda(xd_reconfigure=[{"name": "a b", "value": "x"}])}, ["vda.xd_reconfigure"]),
    ("azure", {"vda": vda(xd_reconfigure=[{"name": "x", "value": "1"}, {"name": "X", "value": "2"}])}, ["twice"]),
    ("azure", {"vda": vda(xd_reconfigure=[{"name": "portnumber", "value": "0"}])}, ["portnumber", "1-65535"]),
    ("azure", {"vda": vda(xd_reconfigure=[{"name": "enable_hdx_ports", "value": "maybe"}])}, ["enable_hdx_ports"]),
    ("azure", {"vda": vda(xd_reconfigure=[{"name": "controllers", "value": ""}])}, ["controllers"]),
    ("gcp", {"output_snapshot_name": "s"}, ["output_snapshot_name", "platform: azure"]),
    ("azure", {"output_image_name": "i"}, ["output_image_name", "platform: nutanix"]),
    ("nutanix", {"output_disk_name": "d"}, ["output_disk_name", "output_image_name"]),
    ("azure", {"output_disk_name": "d", "output_snapshot_name": "s"}, ["output_disk_name and output_snapshot_name"]),
    ("azure", {"md5_hash": "nope"}, ["md5_hash"]),
    ("gcp", {"target_disk": None, "target_snapshot": "s"}, ["target_snapshot", "target_disk"]),
    ("azure", {"target_disk": None}, ["target_disk is required"]),
])
def test_prepare_rules(platform, change, words):
    with pytest.raises(OptionError) as err:
        prepare.build(prepare_params(platform, **change))
    assert all(w in str(err.value) for w in words), str(err.value)


def publish_params(platform, **extra):
    base = dict(prepare=False, provisioning_type="mcs", vda=vda(), domain_unjoin=None, md5_hash=None)
    base.update(extra)
    return export_params(platform, **base)


def test_publish_routes_and_rules():
    route, body = publish.build(publish_params("azure"))
    assert route == "export" and body["targetDiskName"] == "d"
    route, body = publish.build(publish_params("gcp", prepare=True, provisioning_type="pvs", vda=vda(install_pvs="2407")))
    assert route == "prepare_and_publish" and body["targetImageName"] == "d" and body["installPvs"] == "2407"
    assert body["outputStorageLocation"]["location"] == "smb://fs01/exports/win11/"
    for change, words in (({"prepare": True}, ["platform is vsphere", "ips_prepare"]), ({"vda": vda(install_misa=True)}, ["vda.install_misa", "prepare: true"]),
                          ({"md5_hash": "a" * 32}, ["md5_hash", "prepare is false"])):
        with pytest.raises(OptionError) as err:
            publish.build(publish_params("vsphere", **change))
        assert all(w in str(err.value) for w in words), str(err.value)
    with pytest.raises(OptionError, match="source_snapshot"):
        publish.build(publish_params("azure", prepare=True, source_disk=None, source_snapshot="s"))


def pvs_params(operation, platform="vsphere", **extra):
    base = dict(smb=SMB, operation=operation, input_name="in", input_format="vhdx", output_name=None, output_size_mb=None, pvs_version=None,
                pvs_ssl_ca_certificate=None, output_disk_name=None)
    base.update(extra)
    return params(platform, **base)


def test_pvs_bodies_and_rules():
    route, body = pvs.build(pvs_params("convert_to_uefi", "azure", output_name="out", force=True))
    assert route == "convert_to_uefi" and body["inputStorageLocation"]["credentialId"] == "smb" and body["overwriteOutput"]
    route, body = pvs.build(pvs_params("upgrade_pvs", pvs_version="2411", output_size_mb=4096))
    assert body["installPvs"] == "2411" and body["outputSizeMb"] == 4096
    route, body = pvs.build(pvs_params("reverse_image", output_disk_name="native", force=True))
    assert body["outputDiskName"] == "native" and "overwriteOutput" not in body
    for args, kwargs, words in ((("upgrade_pvs", "gcp"), {"pvs_version": "1"}, ["upgrade_pvs", "platform is gcp"]),
                                (("upgrade_pvs",), {}, ["pvs_version"]),
                                (("convert_to_uefi",), {"output_size_mb": 2048}, ["output_size_mb", "upgrade_pvs"]),
                                (("reverse_image",), {"pvs_ssl_ca_certificate": "x"}, ["pvs_ssl_ca_certificate", "convert_to_uefi"]),
                                (("upgrade_pvs",), {"pvs_version": "1", "output_size_mb": 1}, ["output_size_mb", "1024"]),
                                (("convert_to_uefi",), {"output_name": "in"}, ["output_name", "input_name"])):
        with pytest.raises(OptionError) as err:
            pvs.build(pvs_params(*args, **kwargs))
        assert all(w in str(err.value) for w in words), str(err.value)


def test_diagnostics_body_and_rule():
    p = params("aws", smb=SMB, ce_logs=True, windows_event_logs=False, ips_data=True)
    body = diagnostics.build(p)
    assert body["ceLogs"] and body["windowsEventLogs"] is False and body["awsRegion"] == "us-east-2"
    with pytest.raises(OptionError, match="collect nothing"):
        diagnostics.build(dict(p, ce_logs=False, ips_data=False))


def test_preflight_disk_names():
    from ansible_collections.citrix_community.ips.plugins.module_utils._preflight.vsphere import disk_matches

    path = "[LocalDS_0] DC0_H0_VM0/disk1.vmdk"
    for wanted in (path, "DC0_H0_VM0/disk1.vmdk", "disk1.vmdk", "disk1", "Hard disk 1"):
        assert disk_matches(wanted, path, "Hard disk 1"), wanted
    assert not disk_matches("disk2", path, "Hard disk 1")

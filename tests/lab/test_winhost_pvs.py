"""The Windows host answers the Citrix.PVS.SnapIn cmdlets with its own rules: snap-in and connection first,
a locator only for a file in the PVS share, seeded site/store/collections/devices, binding errors for unknown
parameters, assignments, and a seeded version chain that Merge-PvsDisk -NewBase really merges into the share
(checked byte for byte against the known content). pypsrp is the client."""

import contextlib
import hashlib
import os
import shutil
import subprocess
import uuid

from pypsrp.powershell import RunspacePool
from winhost_helpers import SWITCH, error_ids, errors, run

from ips_lab.winhost import vhdx_chain


@contextlib.contextmanager
def pvs_pool(lab, connect=True):
    with RunspacePool(lab.wsman()) as pool:
        out, ps = run(pool, "Add-PSSnapin", Name="Citrix.PVS.SnapIn")
        assert not ps.had_errors, errors(ps)
        if connect:
            out, ps = run(pool, "Set-PvsConnection", Server=lab.env["IPS_LAB_PVS_SERVER"], Port=54321)
            assert not ps.had_errors and out[0]["Port"] == 54321, errors(ps)
        yield pool


def where(lab):
    return dict(SiteName=lab.env["IPS_LAB_PVS_SITE"], StoreName=lab.env["IPS_LAB_PVS_STORE"])


def published(lab, name, tmp_path):
    """A VHDX named like a published vDisk, put in the PVS share's folder (Samba serves it)."""
    raw = tmp_path / (name + ".raw")
    raw.write_bytes(b"\x5a" * (1024 * 1024))
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "vhdx", str(raw), os.path.join(lab.env["IPS_LAB_SMB_PVS_DIR"], name + ".vhdx")],
                   check=True, capture_output=True)
    return name


def test_pvs_cmdlets_need_the_snap_in_and_a_connection(winhost):
    with RunspacePool(winhost.wsman()) as pool:
        out, ps = run(pool, "Get-PvsSite")
        assert ps.had_errors and error_ids(ps) == ["CommandNotFoundException"]
        out, ps = run(pool, "Add-PSSnapin", Name="Citrix.PVS.Snapin.Nope")
        assert ps.had_errors and "is not installed" in errors(ps)[0]
        out, ps = run(pool, "Add-PSSnapin", "Citrix.PVS.SnapIn")  # positional, as scripts write it
        assert not ps.had_errors, errors(ps)
        out, ps = run(pool, "Get-PvsSite")
        assert ps.had_errors and error_ids(ps) == ["ConnectionFailed,Get-PvsSite"] and "Set-PvsConnection" in errors(ps)[0]
        out, ps = run(pool, "Set-PvsConnection", Server=winhost.env["IPS_LAB_PVS_SERVER"], Port=5432)
        assert ps.had_errors and "no SOAP service" in errors(ps)[0]
        out, ps = run(pool, "Set-PvsConnection", Server=winhost.env["IPS_LAB_PVS_SERVER"])  # 54321 by default
        assert not ps.had_errors, errors(ps)
        sites, ps = run(pool, "Get-PvsSite")
        stores, ps = run(pool, "Get-PvsStore", StoreName=winhost.env["IPS_LAB_PVS_STORE"])
        colls, ps = run(pool, "Get-PvsCollection", SiteName=winhost.env["IPS_LAB_PVS_SITE"])
        devices, ps = run(pool, "Get-PvsDevice", CollectionName=winhost.env["IPS_LAB_PVS_COLLECTION"])
    assert [s["SiteName"] for s in sites] == [winhost.env["IPS_LAB_PVS_SITE"]]
    assert stores[0]["Path"] == "\\\\%s\\%s" % (winhost.env["IPS_LAB_SMB_HOST"], winhost.env["IPS_LAB_SMB_PVS_SHARE"])
    assert {c["CollectionName"] for c in colls} == {winhost.env["IPS_LAB_PVS_COLLECTION"], winhost.env["IPS_LAB_PVS_COLLECTION_2"]}
    assert [d["DeviceName"] for d in devices] == ["lab-target-1", "lab-target-2"]


def test_binding_errors_for_unknown_parameters_and_bad_types(winhost):
    with pvs_pool(winhost) as pool:
        out, ps = run(pool, "New-PvsDiskLocator", Name="x", SiteName="lab-site", StoreName="lab-store", VhdxFormat=SWITCH)
        assert error_ids(ps) == ["NamedParameterNotFound,New-PvsDiskLocator"] and "'VhdxFormat'" in errors(ps)[0]
        out, ps = run(pool, "Set-PvsDisk", Name="x", WriteCacheSize="big")
        assert error_ids(ps) == ["CannotConvertArgumentNoMessage,Set-PvsDisk"] and "System.Int32" in errors(ps)[0]
        out, ps = run(pool, "New-PvsDiskLocator", SiteName="lab-site")
        assert error_ids(ps) == ["MissingMandatoryParameter,New-PvsDiskLocator"]


def test_a_locator_only_for_a_file_in_the_store_then_properties_and_assignment(winhost, tmp_path):
    name = published(winhost, "pub-%s" % uuid.uuid4().hex[:8], tmp_path)
    with pvs_pool(winhost) as pool:
        out, ps = run(pool, "New-PvsDiskLocator", Name="missing-disk", VHDX=SWITCH, **where(winhost))
        assert error_ids(ps) == ["DiskFileNotFound,New-PvsDiskLocator"]
        assert "\\\\%s\\%s\\missing-disk.vhdx" % (winhost.env["IPS_LAB_SMB_HOST"], winhost.env["IPS_LAB_SMB_PVS_SHARE"]) in errors(ps)[0]
        out, ps = run(pool, "New-PvsDiskLocator", Name=name, SiteName="lab-site", StoreName="no-store", VHDX=SWITCH)
        assert error_ids(ps) == ["RecordNotFound,New-PvsDiskLocator"] and "Store 'no-store'" in errors(ps)[0]
        undefined, ps = run(pool, "Get-PvsUndefinedDisk", StoreName="lab-store")
        assert {u["Name"]: u["Status"] for u in undefined}[name] == 0
        out, ps = run(pool, "New-PvsDiskLocator", Name=name, ServerName="PVS-01", VHDX=SWITCH, **where(winhost))
        assert not ps.had_errors and out[0]["DiskLocatorName"] == name, errors(ps)
        out, ps = run(pool, "New-PvsDiskLocator", Name=name, VHDX=SWITCH, **where(winhost))
        assert error_ids(ps) == ["DuplicateName,New-PvsDiskLocator"]
        out, ps = run(pool, "Set-PvsDisk", Name=name, WriteCacheType=9, WriteCacheSize=1024, LicenseMode=2, **where(winhost))
        assert not ps.had_errors, errors(ps)
        out, ps = run(pool, "Set-PvsDisk", Name=name, WriteCacheType=5, **where(winhost))
        assert error_ids(ps) == ["InvalidValue,Set-PvsDisk"]
        info, ps = run(pool, "Get-PvsDiskInfo", Name=name, **where(winhost))
        assert (info[0]["WriteCacheType"], info[0]["WriteCacheSize"], info[0]["LicenseMode"]) == (9, 1024, 2)
        out, ps = run(pool, "Add-PvsDiskLocatorToDevice", Name=name, CollectionName="lab-collection", RemoveExisting=SWITCH, **where(winhost))
        assert not ps.had_errors, errors(ps)
        assigned, ps = run(pool, "Get-PvsDiskLocator", DeviceName="lab-target-2")
        assert [a["Name"] for a in assigned] == [name]
        out, ps = run(pool, "Remove-PvsDiskLocatorFromDevice", Name=name, DeviceName="lab-target-2", **where(winhost))
        assigned, ps = run(pool, "Get-PvsDiskLocator", DeviceName="lab-target-2")
        assert assigned == []
    farm = winhost.admin.pvs()
    assert [loc for loc in farm["locators"].values() if loc["Name"] == name][0]["WriteCacheSize"] == 1024


def test_a_versioned_file_is_refused_and_listed_as_manifest_missing(winhost, tmp_path):
    name = published(winhost, "ver-%s" % uuid.uuid4().hex[:8], tmp_path)
    shutil.copy(os.path.join(winhost.env["IPS_LAB_SMB_PVS_DIR"], "lab-versioned.1.avhdx"),
                os.path.join(winhost.env["IPS_LAB_SMB_PVS_DIR"], name + ".1.avhdx"))
    with pvs_pool(winhost) as pool:
        undefined, ps = run(pool, "Get-PvsUndefinedDisk", StoreName="lab-store")
        assert {u["Name"]: u["Status"] for u in undefined}[name] == 5
        out, ps = run(pool, "New-PvsDiskLocator", Name=name, VHDX=SWITCH, **where(winhost))
        assert error_ids(ps) == ["ManifestMissing,New-PvsDiskLocator"] and name + ".1.avhdx" in errors(ps)[0]


def test_merge_new_base_writes_the_known_content_into_the_share(winhost, tmp_path):
    winhost.admin.set_config(task_seconds=60)
    disk = dict(Name=winhost.env["IPS_LAB_PVS_VERSIONED_DISK"], **where(winhost))
    with pvs_pool(winhost) as pool:
        versions, ps = run(pool, "Get-PvsDiskVersion", **disk)
        assert [(v["Version"], v["Type"], v["DiskFileName"]) for v in versions] == [
            (2, 1, "lab-versioned.2.avhdx"), (1, 1, "lab-versioned.1.avhdx"), (0, 0, "lab-versioned.vhdx")]
        out, ps = run(pool, "Merge-PvsDisk", NewBase=SWITCH, **disk)
        assert not ps.had_errors, errors(ps)
        out, ps = run(pool, "Merge-PvsDisk", NewBase=SWITCH, **disk)
        assert error_ids(ps) == ["MergeInProgress,Merge-PvsDisk"]
        newest, ps = run(pool, "Get-PvsDiskVersion", Version=3, **disk)
        assert newest[0]["Access"] == 4 and newest[0]["Type"] == 4  # merging, a merge base
        winhost.admin.advance_clock(60)
        for _attempt in range(200):  # the merge's real work (qemu-img, SMB) ends on its own thread
            newest, ps = run(pool, "Get-PvsDiskVersion", Version=3, **disk)
            if newest[0]["Access"] != 4:
                break
    assert newest[0]["Access"] == 0 and newest[0]["DiskFileName"] == "lab-versioned.3.vhdx"
    written = os.path.join(winhost.env["IPS_LAB_SMB_PVS_DIR"], "lab-versioned.3.vhdx")
    raw = tmp_path / "merged.raw"
    subprocess.run(["qemu-img", "convert", "-f", "vhdx", "-O", "raw", written, str(raw)], check=True, capture_output=True)
    assert hashlib.sha256(raw.read_bytes()).hexdigest() == vhdx_chain.expected_sha256()
    assert raw.read_bytes() != vhdx_chain.seed_raws()[0][1]  # the versions' changes are in it
    winhost.admin.reset()
    assert not os.path.exists(written)  # a reset puts the seeded chain back as it was


def test_an_injected_merge_failure_drops_the_version_and_writes_nothing(winhost):
    winhost.admin.host_fault("fail_merge", message="The merge failed: disk in use.")
    disk = dict(Name=winhost.env["IPS_LAB_PVS_VERSIONED_DISK"], **where(winhost))
    with pvs_pool(winhost) as pool:
        out, ps = run(pool, "Merge-PvsDisk", NewBase=SWITCH, **disk)
        assert not ps.had_errors, errors(ps)
        for _attempt in range(200):  # the merge's work ends on its own thread
            versions, ps = run(pool, "Get-PvsDiskVersion", **disk)
            if versions[0]["Access"] != 4:
                break
    assert [v["Version"] for v in versions] == [2, 1, 0]
    assert not os.path.exists(os.path.join(winhost.env["IPS_LAB_SMB_PVS_DIR"], "lab-versioned.3.vhdx"))
    assert [loc for loc in winhost.admin.pvs()["locators"].values() if loc["Name"] == "lab-versioned"][0]["merge_error"].endswith(
        "disk in use.")

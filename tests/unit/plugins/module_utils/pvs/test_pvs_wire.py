"""The PVS wire table: every name has a flag and a source, the seen ones are the reference's, and values go out typed."""

from ansible_collections.citrix_community.ips.plugins.module_utils import _pvs_wire as wire

FLAGS = {wire.SEEN, wire.INFERRED, wire.UNCONFIRMED}
TYPES = {"string", "switch", "int32"}


def test_every_cmdlet_and_parameter_has_a_flag_a_source_and_a_known_type():
    for key, cmdlet in wire.CMDLETS.items():
        assert cmdlet.flag in FLAGS and cmdlet.source, key
    assert set(wire.PARAMS) <= set(wire.CMDLETS)
    for key, params in wire.PARAMS.items():
        for name, param in params.items():
            assert param.flag in FLAGS and param.source, (key, name)
            assert param.type in TYPES, (key, name, param.type)
    for table in (wire.STORE_FIELDS, wire.LOCATOR_FIELDS, wire.DISK_FIELDS, wire.UNDEFINED_FIELDS, wire.DEVICE_FIELDS, wire.VERSION_FIELDS):
        for name, field in table.items():
            assert field.flag in FLAGS and field.source, name


def test_the_registration_sequence_uses_the_documented_names():
    # reference pvs-last-mile.md 1b: New-PvsDiskLocator -Name -SiteName -StoreName [-ServerName] -VHDX; Set-PvsDisk; -RemoveExisting
    assert wire.cmdlet("register") == "New-PvsDiskLocator"
    assert {p.name for p in wire.PARAMS["register"].values()} == {"Name", "SiteName", "StoreName", "ServerName", "VHDX"}
    assert {p.name for p in wire.PARAMS["set_disk"].values()} >= {"WriteCacheType", "WriteCacheSize", "LicenseMode"}
    assert wire.param("assign", "remove_existing").name == "RemoveExisting"
    assert wire.cmdlet("merge") == "Merge-PvsDisk" and wire.param("merge", "new_base").name == "NewBase"
    assert wire.SNAPIN == "Citrix.PVS.SnapIn" and wire.DEFAULT_PORT == 54321
    # names the reference says do not exist are never used
    assert not {c.name for c in wire.CMDLETS.values()} & {"Start-PvsDiskMerge", "Set-PvsDeviceCollection", "Start-PvsDiskUpdate"}


def test_parameters_are_typed_and_unset_values_and_false_switches_are_left_out():
    sent = wire.parameters("register", {"name": "win11", "site": "s", "store": "t", "server": None, "vhdx": True})
    assert sent == [("Name", "win11"), ("SiteName", "s"), ("StoreName", "t"), ("VHDX", True)]
    sent = wire.parameters("set_disk", {"name": "win11", "write_cache_size": "4096", "license_mode": 0})
    assert ("WriteCacheSize", 4096) in sent and ("LicenseMode", 0) in sent
    assert wire.parameters("assign", {"name": "x", "collection": "c", "remove_existing": False}) == [("Name", "x"), ("CollectionName", "c")]
    assert wire.WRITE_CACHE_TYPES["ram_overflow"] == 9 and wire.LICENSE_MODES["kms"] == 2

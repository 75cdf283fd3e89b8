# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one table that knows the Provisioning (PVS) console's PowerShell surface: the Citrix.PVS.SnapIn
snap-in ("PowerShell with Objects"), which talks SOAP to a PVS server (port 54321).

Every cmdlet, parameter and returned field the PVS last mile uses is here and nowhere else, each with its
research flag and where it was read (the project's reference notes, pvs-last-mile.md sections 1b and 2):

  SEEN         read in a Citrix source (PVS 1903 PowerShell with Objects Programmer's Guide, docs/cmdlets.md;
               community scripts that call the same cmdlets)
  INFERRED     a reasoned guess (the same shape as a seen sibling cmdlet)
  UNCONFIRMED  no public source names it yet

When a real PVS server disagrees with a name here, fix it here. Values are sent as typed PSRP
parameters, never as script text: string, switch (sent as $true), int32. The lab keeps its own copy.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

SEEN = "seen"
INFERRED = "inferred"
UNCONFIRMED = "unconfirmed"

Cmdlet = namedtuple("Cmdlet", ["name", "flag", "source"])
Param = namedtuple("Param", ["name", "type", "flag", "source"])
Field = namedtuple("Field", ["name", "flag", "source"])

_GUIDE = "PVS 1903 PowerShell with Objects Programmer's Guide, docs/cmdlets.md"
_INDEX = "PVS 1903 PowerShell with Objects Programmer's Guide, docs/index.md"
_SCRIPTS = "community scripts: New-PvsDiskLocator, Set-PvsDisk, Add-PvsDiskLocatorToDevice -RemoveExisting"

SNAPIN = "Citrix.PVS.SnapIn"  # SEEN: _INDEX (Add-PSSnapin -Name Citrix.PVS.SnapIn)
DEFAULT_PORT = 54321  # SEEN: _INDEX (Set-PvsConnection defaults: localhost, 54321)

CMDLETS = {
    "snapin": Cmdlet("Add-PSSnapin", SEEN, _INDEX),
    "connect": Cmdlet("Set-PvsConnection", SEEN, _INDEX),
    "site": Cmdlet("Get-PvsSite", SEEN, _GUIDE),
    "store": Cmdlet("Get-PvsStore", SEEN, _GUIDE),
    "collection": Cmdlet("Get-PvsCollection", SEEN, _GUIDE),
    "device": Cmdlet("Get-PvsDevice", SEEN, _GUIDE),
    "locators": Cmdlet("Get-PvsDiskLocator", SEEN, _GUIDE),
    "disk": Cmdlet("Get-PvsDiskInfo", SEEN, _GUIDE),
    "undefined": Cmdlet("Get-PvsUndefinedDisk", SEEN, _GUIDE),
    "register": Cmdlet("New-PvsDiskLocator", SEEN, _GUIDE + " ('The Disk file must already exist')"),
    "set_disk": Cmdlet("Set-PvsDisk", SEEN, _GUIDE),
    "assign": Cmdlet("Add-PvsDiskLocatorToDevice", SEEN, _GUIDE),
    "unassign": Cmdlet("Remove-PvsDiskLocatorFromDevice", SEEN, _GUIDE),
    "versions": Cmdlet("Get-PvsDiskVersion", SEEN, _GUIDE),
    "merge": Cmdlet("Merge-PvsDisk", SEEN, _GUIDE),
}

_DISK = {
    "name": Param("Name", "string", SEEN, _GUIDE + " (alias DiskLocatorName)"),
    "site": Param("SiteName", "string", SEEN, _GUIDE),
    "store": Param("StoreName", "string", SEEN, _GUIDE),
}
_TARGET = {
    "collection": Param("CollectionName", "string", SEEN, _GUIDE + " Add-PvsDiskLocatorToDevice"),
    "device": Param("DeviceName", "string", SEEN, _GUIDE + " Add-PvsDiskLocatorToDevice"),
}

# cmdlet key -> {our name: Param}. Only these parameters are ever sent.
PARAMS = {
    "snapin": {"name": Param("Name", "string", SEEN, _INDEX)},
    "connect": {
        "server": Param("Server", "string", SEEN, _INDEX),
        "port": Param("Port", "int32", SEEN, _INDEX),
    },
    "site": {"site": Param("SiteName", "string", INFERRED, "as -SiteName of the disk cmdlets")},
    "store": {"store": Param("StoreName", "string", INFERRED, "as -StoreName of the disk cmdlets")},
    "collection": {
        "collection": Param("CollectionName", "string", INFERRED, "as Add-PvsDiskLocatorToDevice"),
        "site": Param("SiteName", "string", INFERRED, "as the disk cmdlets"),
    },
    "device": {
        "device": Param("DeviceName", "string", INFERRED, "as Add-PvsDiskLocatorToDevice"),
        "collection": Param("CollectionName", "string", INFERRED, "as Add-PvsDiskLocatorToDevice"),
    },
    "locators": {
        "site": _DISK["site"],
        "store": _DISK["store"],
        "device": Param("DeviceName", "string", INFERRED, "the locators a device boots from"),
    },
    "disk": dict(_DISK),
    "undefined": {"store": Param("StoreName", "string", SEEN, _GUIDE), "server": Param("ServerName", "string", SEEN, _GUIDE)},
    "register": dict(_DISK, server=Param("ServerName", "string", SEEN, _GUIDE), vhdx=Param("VHDX", "switch", SEEN, _GUIDE)),
    "set_disk": dict(_DISK, write_cache_type=Param("WriteCacheType", "int32", SEEN, _GUIDE),
                     write_cache_size=Param("WriteCacheSize", "int32", SEEN, _GUIDE + " (MB)"),
                     license_mode=Param("LicenseMode", "int32", SEEN, _GUIDE)),
    "assign": dict(_DISK, remove_existing=Param("RemoveExisting", "switch", SEEN, _GUIDE + "; " + _SCRIPTS), **_TARGET),
    "unassign": dict(_DISK, **_TARGET),
    "versions": dict(_DISK),
    "merge": dict(_DISK, new_base=Param("NewBase", "switch", SEEN, _GUIDE), access=Param("Access", "int32", SEEN, _GUIDE)),
}

# Enum values, by our value. SEEN: _GUIDE Set-PvsDisk.
WRITE_CACHE_TYPES = {
    "private": 0, "server": 1, "ram": 3, "device_hd": 4, "server_persistent": 7, "ram_overflow": 9,
    "device_hd_async": 10, "server_async": 11, "server_persistent_async": 12,
}
LICENSE_MODES = {"none": 0, "mak": 1, "kms": 2}
VERSION_ACCESS = {"production": 0, "maintenance": 1, "test": 2}  # -Access of Merge-PvsDisk, SEEN
ACCESS_MERGING = 4  # Get-PvsDiskVersion Access 4 "Merge": SEEN as a value; that it marks a running merge is INFERRED
TYPE_MERGE_BASE = 4  # Get-PvsDiskVersion Type 4 "MergeBase": SEEN
UNDEFINED_MANIFEST_MISSING = 5  # Get-PvsUndefinedDisk Status 5 "Manifest Missing or Invalid": SEEN

# What the collection reads from returned objects.
STORE_FIELDS = {"name": Field("StoreName", SEEN, _GUIDE), "path": Field("Path", INFERRED, "Get-PvsStoreSharedOrServerPath's subject")}
LOCATOR_FIELDS = {"id": Field("DiskLocatorId", SEEN, _GUIDE), "name": Field("DiskLocatorName", SEEN, _GUIDE)}
DISK_FIELDS = {
    "write_cache_type": Field("WriteCacheType", SEEN, _GUIDE + "; also DaaS /PvsStreaming/vDisks"),
    "write_cache_size": Field("WriteCacheSize", SEEN, _GUIDE + "; also DaaS /PvsStreaming/vDisks"),
    "license_mode": Field("LicenseMode", SEEN, _GUIDE),
}
UNDEFINED_FIELDS = {"name": Field("Name", INFERRED, "the disk file's name without extension"), "status": Field("Status", SEEN, _GUIDE)}
DEVICE_FIELDS = {"name": Field("DeviceName", SEEN, _GUIDE)}
VERSION_FIELDS = {
    "version": Field("Version", SEEN, _GUIDE), "type": Field("Type", SEEN, _GUIDE), "access": Field("Access", SEEN, _GUIDE),
    "file": Field("DiskFileName", SEEN, _GUIDE),
}


def cmdlet(key):
    return CMDLETS[key].name


def param(cmdlet_key, key):
    return PARAMS[cmdlet_key][key]


def parameters(cmdlet_key, values):
    """[(wire name, typed value)] for the values that are set (a False switch is left out)."""
    out = []
    for key, value in values.items():
        spec = PARAMS[cmdlet_key][key]
        if value is None or (spec.type == "switch" and not value):
            continue
        out.append((spec.name, int(value) if spec.type == "int32" else bool(value) if spec.type == "switch" else str(value)))
    return out

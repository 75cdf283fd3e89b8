"""What the Citrix.PVS.SnapIn cmdlets do on the lab's Windows host: a modelled Provisioning farm (one site,
its stores, collections and target devices, seeded) whose store is the lab's PVS share on Samba.

The lab's own rules (flags in cmdlets.py; docs/lab.md "PVS farm" lists them):
  - the PVS cmdlets exist in a runspace only after `Add-PSSnapin Citrix.PVS.SnapIn` (seen);
  - every PVS cmdlet needs `Set-PvsConnection -Server <the lab's PVS server> -Port 54321` first: the
    console host is not a PVS server, so the default localhost connection fails (inferred message);
  - a disk locator is made only for a file that exists in the store (`name.vhdx`, or `name.vhd` without
    -VHDX) (seen: "The Disk file must already exist"); a file with versions (`name.N.avhdx`) is refused: a
    versioned vDisk is imported with a manifest (seen), which the lab does not model;
  - the seeded locator `lab-versioned` has a chain (vhdx_chain.py); `Merge-PvsDisk -NewBase` writes the
    merged new base `name.N.vhdx` into the share for real; its version shows Access 4 (Merge) until the work
    is done and `task_seconds` of lab time have passed (inferred status).
State is a JSON file in the host's state dir (reset() re-seeds it).
"""

import json
import os
import shutil
import tempfile
import threading
import uuid

import smbclient
from psrpcore.types import ErrorCategory, PSCustomObject, PSInt

from ..jobwork.errors import WorkFailed
from ..jobwork.smb import SmbShare
from . import vhdx_chain
from .appliance import cmdlet_error

NAMESPACE = uuid.UUID("0b6d8a52-9a55-4c36-9f0e-5b1f3a2d7c11")
PVS_PORT = 54321
SITE = "lab-site"
STORES = ("lab-store",)
COLLECTIONS = {"lab-collection": ("lab-target-1", "lab-target-2"), "lab-collection-2": ("lab-target-3",)}
SERVER_NAME = "PVS-01"
VERSIONED = "lab-versioned"
WRITE_CACHE_TYPES = (0, 1, 3, 4, 7, 9, 10, 11, 12)
LICENSE_MODES = (0, 1, 2)
MERGING = 4  # Access: Merge
TYPE_BASE, TYPE_MERGE_BASE = 0, 4


def ident(*parts):
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


class Pvs(object):
    """The modelled farm; handlers named `_<verb>_<noun>` like the appliance's (Appliance.run dispatches)."""

    def __init__(self, config, state_dir, clock, runtime, faults):
        self.config = config
        self.server = (config.get("pvs") or {}).get("server", "pvs-01.ips-lab.test")
        self._path = os.path.join(state_dir, "pvs.json")
        self._scratch = os.path.join(state_dir, "scratch")
        self._clock = clock
        self._runtime = runtime
        self._faults = faults
        self._lock = threading.RLock()
        self._threads = []
        if not os.path.exists(self._path):
            self._write(self._fresh())

    # --- state -----------------------------------------------------------------------------------

    def _fresh(self):
        devices = {}
        for coll, names in COLLECTIONS.items():
            for name in names:
                devices[name] = {"collection": coll, "locators": []}
        versions = [{"Version": n, "Type": TYPE_BASE if n == 0 else 1, "Access": 0,
                     "DiskFileName": "%s.%s" % (VERSIONED, suffix)} for n, (suffix, _raw) in enumerate(vhdx_chain.seed_raws())]
        locator = {"Id": ident("locator", VERSIONED), "Name": VERSIONED, "SiteName": SITE, "StoreName": STORES[0], "ServerName": "",
                   "VHDX": True, "WriteCacheType": 9, "WriteCacheSize": 512, "LicenseMode": 0, "versions": versions}
        return {"locators": {locator["Id"]: locator}, "devices": devices}

    def _read(self):
        with open(self._path) as src:
            return json.load(src)

    def _write(self, state):
        tmp = self._path + ".tmp"
        with open(tmp, "w") as dst:
            json.dump(state, dst)
        os.replace(tmp, self._path)

    def reset(self):
        with self._lock:
            self._write(self._fresh())
        self.seed_share()

    def state(self):
        """The farm as the admin API shows it, with the seeded chain's expected merged content."""
        with self._lock:
            out = self._read()
        out["expected_merged_sha256"] = vhdx_chain.expected_sha256()
        return out

    # --- the store on the PVS share ----------------------------------------------------------------

    def store_path(self):
        smb = self.config.get("smb") or {}
        return "\\\\%s\\%s" % (smb.get("host") or "127.0.0.1", smb.get("pvs_share") or "pvs-store")

    def _share(self):
        smb = self.config.get("smb") or {}
        storage = {"location": "smb://%s/%s/" % (smb.get("host") or "127.0.0.1", smb.get("pvs_share") or "pvs-store"),
                   "credentialId": "pvs-store"}
        login = {"username": smb.get("user"), "password": smb.get("password"), "domain": smb.get("domain")}
        return SmbShare(storage, lambda _id: ("UsernamePassword", login), smb)

    def store_files(self):
        """{lower-case file name: file name} of the store's folder."""
        with self._share() as share:
            def run():
                folder = "\\\\%s\\%s" % (share.server, share.location.share)
                return dict((n.lower(), n) for n in smbclient.listdir(folder, **share._kw()))
            return share._guard("reading", "", run)

    def seed_share(self):
        """Write the seeded chain into the store if missing, remove merge outputs of earlier runs; no Samba -> nothing."""
        if not (self.config.get("smb") or {}).get("user"):
            return
        os.makedirs(self._scratch, exist_ok=True)
        scratch = tempfile.mkdtemp(prefix="pvs-seed-", dir=self._scratch)
        try:
            with self._share() as share:
                for suffix, raw in vhdx_chain.seed_raws():
                    if share.size_of("%s.%s" % (VERSIONED, suffix)) is not None:
                        continue  # seeded before (a reset keeps the chain; it is never written to)
                    raw_path = os.path.join(scratch, "seed.raw")
                    with open(raw_path, "wb") as dst:
                        dst.write(raw)
                    disk = os.path.join(scratch, "%s.%s" % (VERSIONED, suffix))
                    vhdx_chain.make_vhdx(raw_path, disk)
                    share.write_file(disk, os.path.basename(disk))
                    pvp = os.path.join(scratch, "seed.pvp")
                    with open(pvp, "w") as dst:
                        dst.write("[Disk]\nDescription=lab versioned vDisk\n")
                    share.write_file(pvp, "%s.pvp" % os.path.basename(disk).rsplit(".", 1)[0])
            for lower, name in self.store_files().items():
                parts = lower.split(".")
                if lower.startswith(VERSIONED + ".") and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) > 2:
                    with self._share() as share:
                        share._guard("writing", name, lambda n=name: smbclient.remove(
                            "\\\\%s\\%s\\%s" % (share.server, share.location.share, n), **share._kw()))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    # --- checks every cmdlet makes -------------------------------------------------------------------

    def _connected(self, shell, cmdlet):
        if not shell.state.get("pvs_connection"):
            raise cmdlet_error(cmdlet, "ConnectionFailed", "Could not connect to the Provisioning server localhost:%d (the SOAP "
                               "service does not run on this host). Run Set-PvsConnection -Server <PVS server> -Port %d first."
                               % (PVS_PORT, PVS_PORT), ErrorCategory.ConnectionError, "System.ServiceModel.EndpointNotFoundException")

    def _site(self, cmdlet, bound):
        name = bound.get("SiteName")
        if name is None and bound.get("SiteId") is None:
            raise cmdlet_error(cmdlet, "SiteRequired", "Name the site with -SiteName or -SiteId.", ErrorCategory.InvalidArgument,
                               "System.ArgumentException")
        if (name or "").lower() != SITE.lower() and bound.get("SiteId") != ident("site", SITE):
            raise self._not_found(cmdlet, "Site", name or bound.get("SiteId"))
        return SITE

    def _store(self, cmdlet, bound):
        name = bound.get("StoreName")
        for store in STORES:
            if (name or "").lower() == store.lower() or bound.get("StoreId") == ident("store", store):
                return store
        raise self._not_found(cmdlet, "Store", name or bound.get("StoreId"))

    @staticmethod
    def _not_found(cmdlet, kind, name):
        return cmdlet_error(cmdlet, "RecordNotFound", "%s '%s' was not found (Record not found)." % (kind, name), ErrorCategory.ObjectNotFound,
                            "System.Management.Automation.ItemNotFoundException", name)

    def _locator(self, state, cmdlet, bound):
        if bound.get("DiskLocatorId"):
            found = state["locators"].get(bound["DiskLocatorId"])
            if found is None:
                raise self._not_found(cmdlet, "DiskLocator", bound["DiskLocatorId"])
            return found
        if not bound.get("Name"):
            raise cmdlet_error(cmdlet, "DiskLocatorRequired", "Name the disk locator with -Name (with -SiteName and -StoreName) or "
                               "-DiskLocatorId.", ErrorCategory.InvalidArgument, "System.ArgumentException")
        site, store = self._site(cmdlet, bound), self._store(cmdlet, bound)
        for loc in state["locators"].values():
            if loc["Name"].lower() == bound["Name"].lower() and loc["SiteName"] == site and loc["StoreName"] == store:
                return loc
        raise self._not_found(cmdlet, "DiskLocator", "%s\\%s\\%s" % (site, store, bound["Name"]))

    # --- objects ---------------------------------------------------------------------------------

    @staticmethod
    def _locator_object(loc):
        return PSCustomObject(PSTypeName="Citrix.PVS.SnapIn.PvsDiskLocator", DiskLocatorId=loc["Id"], DiskLocatorName=loc["Name"],
                              Name=loc["Name"], SiteName=loc["SiteName"], SiteId=ident("site", loc["SiteName"]),
                              StoreName=loc["StoreName"], StoreId=ident("store", loc["StoreName"]), ServerName=loc["ServerName"],
                              Enabled=True)

    def _disk_object(self, loc):
        base = loc["versions"][0]["DiskFileName"]
        return PSCustomObject(PSTypeName="Citrix.PVS.SnapIn.PvsDiskInfo", DiskLocatorId=loc["Id"], Name=loc["Name"],
                              DiskLocatorName=loc["Name"], SiteName=loc["SiteName"], StoreName=loc["StoreName"],
                              WriteCacheType=PSInt(loc["WriteCacheType"]), WriteCacheSize=PSInt(loc["WriteCacheSize"]),
                              LicenseMode=PSInt(loc["LicenseMode"]), DiskFileName=base, Format=PSInt(1 if loc["VHDX"] else 0),
                              Versions=PSInt(len(loc["versions"])))

    def _version_object(self, loc, version, newest_base):
        done = version["Access"] != MERGING
        return PSCustomObject(PSTypeName="Citrix.PVS.SnapIn.PvsDiskVersion", DiskLocatorId=loc["Id"], Name=loc["Name"],
                              Version=PSInt(version["Version"]), Type=PSInt(version["Type"]), Access=PSInt(version["Access"]),
                              DiskFileName=version["DiskFileName"], CanMerge=done and len(loc["versions"]) > 1,
                              CanMergeBase=done and version["Version"] > newest_base, GoodInventoryStatus=done)

    # --- the cmdlets -----------------------------------------------------------------------------

    def _add_pssnapin(self, shell, cmdlet, bound, output):
        for name in bound["Name"]:
            if name.lower() != "citrix.pvs.snapin":
                raise cmdlet_error(cmdlet, "AddPSSnapInRead", "The Windows PowerShell snap-in '%s' is not installed on this computer."
                                   % name, ErrorCategory.InvalidArgument, "System.Management.Automation.PSArgumentException", name)
        shell.state["pvs_snapin"] = True
        return [PSCustomObject(PSTypeName="System.Management.Automation.PSSnapInInfo", Name="Citrix.PVS.SnapIn",
                               Version="7.33.0.0")] if bound.get("PassThru") else []

    def _set_pvsconnection(self, shell, cmdlet, bound, output):
        server = (bound.get("Server") or "localhost").strip()
        port = bound.get("Port") or PVS_PORT
        if server.lower() != self.server.lower() or port != PVS_PORT:
            raise cmdlet_error(cmdlet, "ConnectionFailed", "Could not connect to the Provisioning server %s:%d: no SOAP service "
                               "answers there." % (server, port), ErrorCategory.ConnectionError,
                               "System.ServiceModel.EndpointNotFoundException", server)
        shell.state["pvs_connection"] = {"server": server, "port": port}
        return [PSCustomObject(PSTypeName="Citrix.PVS.SnapIn.PvsConnection", Server=server, Port=PSInt(port), Domain="", User="")]

    def _get_pvssite(self, shell, cmdlet, bound, output):
        self._connected(shell, cmdlet)
        if bound.get("SiteName") or bound.get("SiteId"):
            self._site(cmdlet, bound)
        return [PSCustomObject(PSTypeName="Citrix.PVS.SnapIn.PvsSite", SiteName=SITE, SiteId=ident("site", SITE))]

    def _get_pvsstore(self, shell, cmdlet, bound, output):
        self._connected(shell, cmdlet)
        stores = [self._store(cmdlet, bound)] if (bound.get("StoreName") or bound.get("StoreId")) else list(STORES)
        return [PSCustomObject(PSTypeName="Citrix.PVS.SnapIn.PvsStore", StoreName=s, StoreId=ident("store", s), Path=self.store_path())
                for s in stores]

    def _get_pvscollection(self, shell, cmdlet, bound, output):
        self._connected(shell, cmdlet)
        if bound.get("SiteName"):
            self._site(cmdlet, bound)
        names = list(COLLECTIONS)
        if bound.get("CollectionName"):
            names = [n for n in names if n.lower() == bound["CollectionName"].lower()]
            if not names:
                raise self._not_found(cmdlet, "Collection", bound["CollectionName"])
        return [PSCustomObject(PSTypeName="Citrix.PVS.SnapIn.PvsCollection", CollectionName=n, CollectionId=ident("collection", n),
                               SiteName=SITE, DeviceCount=PSInt(len(COLLECTIONS[n]))) for n in names]

    def _get_pvsdevice(self, shell, cmdlet, bound, output):
        self._connected(shell, cmdlet)
        with self._lock:
            devices = self._read()["devices"]
        names = sorted(devices)
        if bound.get("CollectionName"):
            names = [n for n in names if devices[n]["collection"].lower() == bound["CollectionName"].lower()]
        if bound.get("DeviceName"):
            names = [n for n in names if n.lower() == bound["DeviceName"].lower()]
            if not names:
                raise self._not_found(cmdlet, "Device", bound["DeviceName"])
        return [PSCustomObject(PSTypeName="Citrix.PVS.SnapIn.PvsDevice", DeviceName=n, DeviceId=ident("device", n),
                               CollectionName=devices[n]["collection"], SiteName=SITE) for n in names]

    def _get_pvsdisklocator(self, shell, cmdlet, bound, output):
        self._connected(shell, cmdlet)
        with self._lock:
            state = self._read()
        if bound.get("Name") or bound.get("DiskLocatorId"):
            return [self._locator_object(self._locator(state, cmdlet, bound))]
        locs = list(state["locators"].values())
        if bound.get("SiteName") or bound.get("SiteId"):
            site = self._site(cmdlet, bound)
            locs = [loc for loc in locs if loc["SiteName"] == site]
        if bound.get("StoreName") or bound.get("StoreId"):
            store = self._store(cmdlet, bound)
            locs = [loc for loc in locs if loc["StoreName"] == store]
        if bound.get("DeviceName"):
            device = self._device(state, cmdlet, bound["DeviceName"])
            locs = [loc for loc in locs if loc["Id"] in device["locators"]]
        return [self._locator_object(loc) for loc in sorted(locs, key=lambda x: x["Name"])]

    def _device(self, state, cmdlet, name):
        for known, device in state["devices"].items():
            if known.lower() == name.lower():
                return device
        raise self._not_found(cmdlet, "Device", name)

    def _get_pvsdiskinfo(self, shell, cmdlet, bound, output):
        self._connected(shell, cmdlet)
        with self._lock:
            return [self._disk_object(self._locator(self._read(), cmdlet, bound))]

    def _versions_on_disk(self, files, name):
        return sorted(f for f in files if f.startswith(name.lower() + ".") and f.endswith(".avhdx"))

    def _get_pvsundefineddisk(self, shell, cmdlet, bound, output):
        self._connected(shell, cmdlet)
        store = self._store(cmdlet, bound)
        files = self._files(cmdlet)
        with self._lock:
            known = set(loc["Name"].lower() for loc in self._read()["locators"].values() if loc["StoreName"] == store)
        out = []
        for lower, real in sorted(files.items()):
            stem, _dot, ext = lower.rpartition(".")
            if ext not in ("vhd", "vhdx") or "." in stem or stem in known:
                continue
            status = 5 if self._versions_on_disk(files, stem) else 0  # 5: Manifest Missing or Invalid (seen)
            out.append(PSCustomObject(PSTypeName="Citrix.PVS.SnapIn.PvsUndefinedDisk", Name=real.rpartition(".")[0], StoreName=store,
                                      ServerName=bound.get("ServerName") or SERVER_NAME, DiskFileName=real, Status=PSInt(status)))
        return out

    def _files(self, cmdlet):
        try:
            return self.store_files()
        except WorkFailed as exc:
            raise cmdlet_error(cmdlet, "StoreUnavailable", "The store path %s cannot be read: %s" % (self.store_path(), exc.message),
                               ErrorCategory.ResourceUnavailable, "System.IO.IOException")

    def _new_pvsdisklocator(self, shell, cmdlet, bound, output):
        self._connected(shell, cmdlet)
        site, store = self._site(cmdlet, bound), self._store(cmdlet, bound)
        name = bound["Name"]
        if len(name) > 52 or not all(32 <= ord(c) < 127 for c in name):
            raise cmdlet_error(cmdlet, "InvalidName", "The disk locator name '%s' must be at most 52 ASCII characters." % name,
                               ErrorCategory.InvalidArgument, "System.ArgumentException", name)
        if bound.get("ServerName") and bound["ServerName"].lower() != SERVER_NAME.lower():
            raise self._not_found(cmdlet, "Server", bound["ServerName"])
        ext = "vhdx" if bound.get("VHDX") else "vhd"
        files = self._files(cmdlet)
        filename = "%s.%s" % (name, ext)
        if filename.lower() not in files:
            raise cmdlet_error(cmdlet, "DiskFileNotFound", "The disk file %s\\%s does not exist. The Disk file must already exist."
                               % (self.store_path(), filename), ErrorCategory.ObjectNotFound, "System.IO.FileNotFoundException", filename)
        if self._versions_on_disk(files, name):
            raise cmdlet_error(cmdlet, "ManifestMissing", "The disk %s has versions (%s) and no manifest: a versioned vDisk is imported "
                               "with Import-PvsDisk and its manifest, or merged to a new base first."
                               % (filename, ", ".join(self._versions_on_disk(files, name))), ErrorCategory.InvalidData,
                               "System.InvalidOperationException", filename)
        with self._lock:
            state = self._read()
            for loc in state["locators"].values():
                if loc["Name"].lower() == name.lower() and loc["StoreName"] == store:
                    raise cmdlet_error(cmdlet, "DuplicateName", "A disk locator named '%s' already exists in store '%s'." % (name, store),
                                       ErrorCategory.ResourceExists, "System.InvalidOperationException", name)
            loc = {"Id": str(uuid.uuid4()), "Name": files[filename.lower()].rpartition(".")[0], "SiteName": site, "StoreName": store,
                   "ServerName": bound.get("ServerName") or "", "VHDX": bool(bound.get("VHDX")),
                   "WriteCacheType": bound.get("NewDiskWriteCacheType") or 0, "WriteCacheSize": 0, "LicenseMode": 0,
                   "versions": [{"Version": 0, "Type": TYPE_BASE, "Access": 0, "DiskFileName": files[filename.lower()]}]}
            state["locators"][loc["Id"]] = loc
            self._write(state)
        return [self._locator_object(loc)]

    def _set_pvsdisk(self, shell, cmdlet, bound, output):
        self._connected(shell, cmdlet)
        checks = (("WriteCacheType", WRITE_CACHE_TYPES), ("LicenseMode", LICENSE_MODES))
        for param, allowed in checks:
            if bound.get(param) is not None and bound[param] not in allowed:
                raise cmdlet_error(cmdlet, "InvalidValue", "-%s %s is not valid; use one of %s." % (param, bound[param], ", ".join(
                    str(a) for a in allowed)), ErrorCategory.InvalidArgument, "System.ArgumentException", param)
        if bound.get("WriteCacheSize") is not None and not 0 <= bound["WriteCacheSize"] <= 1048576:
            raise cmdlet_error(cmdlet, "InvalidValue", "-WriteCacheSize must be between 0 and 1048576 MB.", ErrorCategory.InvalidArgument,
                               "System.ArgumentException", "WriteCacheSize")
        with self._lock:
            state = self._read()
            loc = self._locator(state, cmdlet, bound)
            for param in ("WriteCacheType", "WriteCacheSize", "LicenseMode"):
                if bound.get(param) is not None:
                    loc[param] = bound[param]
            self._write(state)
        return []

    def _targets(self, state, cmdlet, bound):
        if bound.get("DeviceName"):
            self._device(state, cmdlet, bound["DeviceName"])
            return [n for n in state["devices"] if n.lower() == bound["DeviceName"].lower()]
        if bound.get("CollectionName"):
            coll = [c for c in COLLECTIONS if c.lower() == bound["CollectionName"].lower()]
            if not coll:
                raise self._not_found(cmdlet, "Collection", bound["CollectionName"])
            return [n for n, d in state["devices"].items() if d["collection"] == coll[0]]
        raise cmdlet_error(cmdlet, "TargetRequired", "Name the device (-DeviceName) or the collection (-CollectionName) to assign to.",
                           ErrorCategory.InvalidArgument, "System.ArgumentException")

    def _add_pvsdisklocatortodevice(self, shell, cmdlet, bound, output):
        self._connected(shell, cmdlet)
        with self._lock:
            state = self._read()
            loc = self._locator(state, cmdlet, bound)
            for name in self._targets(state, cmdlet, bound):
                device = state["devices"][name]
                if bound.get("RemoveExisting"):
                    device["locators"] = []
                if loc["Id"] not in device["locators"]:
                    device["locators"].append(loc["Id"])
            self._write(state)
        return []

    def _remove_pvsdisklocatorfromdevice(self, shell, cmdlet, bound, output):
        self._connected(shell, cmdlet)
        with self._lock:
            state = self._read()
            loc = self._locator(state, cmdlet, bound)
            for name in self._targets(state, cmdlet, bound):
                state["devices"][name]["locators"] = [i for i in state["devices"][name]["locators"] if i != loc["Id"]]
            self._write(state)
        return []

    def _get_pvsdiskversion(self, shell, cmdlet, bound, output):
        self._connected(shell, cmdlet)
        self._finish_merges()
        with self._lock:
            loc = self._locator(self._read(), cmdlet, bound)
        newest_base = max(v["Version"] for v in loc["versions"] if v["Type"] in (TYPE_BASE, TYPE_MERGE_BASE))
        versions = [v for v in loc["versions"] if bound.get("Version") is None or v["Version"] == bound["Version"]]
        return [self._version_object(loc, v, newest_base) for v in sorted(versions, key=lambda v: -v["Version"])]

    def _merge_pvsdisk(self, shell, cmdlet, bound, output):
        self._connected(shell, cmdlet)
        if not bound.get("NewBase"):
            raise cmdlet_error(cmdlet, "NotModelled", "The lab models Merge-PvsDisk -NewBase only (a merge to a new base disk).",
                               ErrorCategory.NotImplemented, "System.NotSupportedException")
        access = bound.get("Access") or 0
        if access not in (0, 1, 2):
            raise cmdlet_error(cmdlet, "InvalidValue", "-Access %s is not valid; use 0 (Production), 1 (Maintenance) or 2 (Test)." % access,
                               ErrorCategory.InvalidArgument, "System.ArgumentException", "Access")
        with self._lock:
            state = self._read()
            loc = self._locator(state, cmdlet, bound)
            if any(v["Access"] == MERGING for v in loc["versions"]):
                raise cmdlet_error(cmdlet, "MergeInProgress", "A merge of disk '%s' is already in progress." % loc["Name"],
                                   ErrorCategory.ResourceBusy, "System.InvalidOperationException", loc["Name"])
            newest_base = max(v["Version"] for v in loc["versions"] if v["Type"] in (TYPE_BASE, TYPE_MERGE_BASE))
            chain = [v for v in sorted(loc["versions"], key=lambda v: v["Version"]) if v["Version"] >= newest_base]
            if len(chain) < 2:
                raise cmdlet_error(cmdlet, "NothingToMerge", "Disk '%s' has no versions after its base: there is nothing to merge."
                                   % loc["Name"], ErrorCategory.InvalidOperation, "System.InvalidOperationException", loc["Name"])
            number = max(v["Version"] for v in loc["versions"]) + 1
            version = {"Version": number, "Type": TYPE_MERGE_BASE, "Access": MERGING, "DiskFileName": "%s.%d.vhdx" % (loc["Name"], number),
                       "final_access": access, "started_at": self._clock.now(), "work": "running"}
            loc["versions"].append(version)
            self._write(state)
        fault = self._faults.take("fail_merge")
        thread = threading.Thread(target=self._merge_work, args=(loc["Id"], number, [v["DiskFileName"] for v in chain],
                                                                 fault["message"] if fault else None),
                                  name="pvs-merge-%s" % number, daemon=True)
        self._threads.append(thread)
        thread.start()
        return []

    def _merge_work(self, locator_id, number, files, injected=None):
        """Read the chain from the share, merge it, write the new base back into the share (the real work)."""
        os.makedirs(self._scratch, exist_ok=True)
        scratch = tempfile.mkdtemp(prefix="pvs-merge-", dir=self._scratch)
        outcome = "done"
        try:
            if injected:
                raise OSError(injected)  # the fail_merge fault: nothing is written
            local = []
            with self._share() as share:
                for name in files:
                    path = os.path.join(scratch, name)
                    share.read_file(name, path)
                    local.append(path)
                out = os.path.join(scratch, "new.vhdx")
                vhdx_chain.merge(local[0], local[1:], out, scratch)
                with self._lock:
                    target = self._read()["locators"][locator_id]
                share.write_file(out, "%s.%d.vhdx" % (target["Name"], number))
        except Exception as exc:  # the merge fails visibly: its version is dropped, the error kept
            outcome = "failed: %s" % exc
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        with self._lock:
            state = self._read()
            for version in state["locators"][locator_id]["versions"]:
                if version["Version"] == number:
                    version["work"] = outcome
            self._write(state)

    def _finish_merges(self):
        """A merge is over when its work is done and task_seconds of lab time have passed since it started."""
        with self._lock:
            state = self._read()
            changed = False
            for loc in state["locators"].values():
                for version in list(loc["versions"]):
                    if version["Access"] != MERGING or version.get("work") == "running":
                        continue
                    if version["work"] != "done":
                        loc["versions"].remove(version)
                        loc["merge_error"] = version["work"]
                    elif self._clock.now() >= version["started_at"] + self._runtime.get("task_seconds"):
                        version["Access"] = version.pop("final_access")
                    else:
                        continue
                    changed = True
            if changed:
                self._write(state)

    def stop(self, timeout=30):
        for thread in list(self._threads):
            thread.join(timeout)

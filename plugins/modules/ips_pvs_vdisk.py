#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ips_pvs_vdisk
short_description: Register a published vDisk in a Citrix Provisioning (PVS) store, set it up and assign it
version_added: 0.2.0
description:
  - The last mile of a migration to PVS. Image Portability publishes a VHDX into the PVS store share; this module adds it to the
    PVS farm as a vDisk (a disk locator), sets its write cache and licence mode, and assigns it to a device collection or devices.
    Citrix documents these steps as manual ones, in the PVS console or with its PowerShell cmdlets.
  - It runs the PVS console's PowerShell snap-in (C(Citrix.PVS.SnapIn)) on a Windows host (a PVS server, or any host with the
    Provisioning console), reached over PowerShell Remoting like the App Layering backend. The snap-in talks to the PVS server
    O(pvs.server) (SOAP, port 54321). Only cmdlets with named parameters are sent, never script text.
  - The disk file must already be in the store (C(New-PvsDiskLocator)); a file that is not there fails naming the store path.
    A file with versions (C(name.N.avhdx)) is refused, with the advice to merge it to a new base first.
  - Idempotent. A vDisk already registered with the same properties is reported unchanged; different properties are updated
    (C(Set-PvsDisk)). An assignment is added where it is missing; other vDisks assigned to the same targets stay unless
    O(replace_assignment=true).
  - Can also merge the versions of an already registered vDisk to a new base (O(merge_versions=true), C(Merge-PvsDisk -NewBase))
    and wait for it; RV(new_base_file) is then the file to export.
author:
  - citrix_community.ips maintainers (@citrix-community)
extends_documentation_fragment:
  - citrix_community.ips.pvs
  - citrix_community.ips.windows_host.pvs_console
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  name:
    description:
      - The vDisk's name, which is the disk file's name without extension (C(name.vhdx) in the store). At most 52 ASCII characters.
    type: str
    required: true
  vhdx:
    description:
      - The disk file is a VHDX (C(name.vhdx), C(-VHDX)). V(false) for a VHD (C(name.vhd)).
    type: bool
    default: true
  server_name:
    description:
      - The PVS server that streams the vDisk (C(New-PvsDiskLocator -ServerName)). Default any server of the site.
    type: str
  write_cache_type:
    description:
      - The write cache (C(Set-PvsDisk -WriteCacheType)). Left as it is when not given.
    type: str
    choices: [private, server, ram, device_hd, server_persistent, ram_overflow, device_hd_async, server_async, server_persistent_async]
  write_cache_size:
    description:
      - The RAM cache size in MB (C(Set-PvsDisk -WriteCacheSize)), for V(ram) and V(ram_overflow). From 0 to 1048576.
    type: int
  license_mode:
    description:
      - The Windows licence mode (C(Set-PvsDisk -LicenseMode)).
    type: str
    choices: [none, mak, kms]
  collection:
    description:
      - Assign the vDisk to every device of this device collection (C(Add-PvsDiskLocatorToDevice -CollectionName)).
    type: str
  devices:
    description:
      - Assign the vDisk to these target devices (C(Add-PvsDiskLocatorToDevice -DeviceName)).
    type: list
    elements: str
    default: []
  replace_assignment:
    description:
      - Remove the other vDisks assigned to the targets (C(-RemoveExisting)), so they boot the new one.
        Without it the new vDisk is added beside them.
    type: bool
    default: false
  merge_versions:
    description:
      - Instead of registering, merge the versions of the already registered vDisk O(name) to a new base
        (C(Merge-PvsDisk -NewBase)), wait for the merge, and return the new base's file name in RV(new_base_file).
      - Nothing is merged when the newest version already is a base.
    type: bool
    default: false
  merge_access:
    description:
      - The access of the merged base (C(Merge-PvsDisk -Access)).
    type: str
    choices: [production, maintenance, test]
    default: production
  wait_timeout:
    description:
      - Seconds to wait for a merge. A merge still running then is not cancelled; a re-run waits for it again. From 1 to 604800 (a week).
    type: int
    default: 3600
  wait_sleep:
    description:
      - Seconds between two looks at a running merge. From 1 to 3600.
    type: int
    default: 10
notes:
  - Check mode looks the vDisk, its file and the targets up and predicts; it changes nothing on the farm. A disk file not in the
    store yet (a publish earlier in the same checked run would put it there) is a warning in check mode, not a failure.
seealso:
  - module: citrix_community.ips.ips_publish
"""

EXAMPLES = r"""
- name: Register the published vDisk and make the collection boot it
  citrix_community.ips.ips_pvs_vdisk:
    windows_host:
      host: pvs-console.example.com
      username: EXAMPLE\pvs-admin
      password: "{{ vault_pvs_windows_password }}"
    pvs:
      server: pvs-01.example.com
      site: Site1
      store: Store1
    name: win11-2026-12
    write_cache_type: ram_overflow
    write_cache_size: 4096
    license_mode: kms
    collection: win11-desktops
    replace_assignment: true

- name: Merge the source vDisk's versions to a new base before exporting it
  citrix_community.ips.ips_pvs_vdisk:
    windows_host: "{{ pvs_windows_host }}"
    pvs: "{{ pvs_farm }}"
    name: win10-gold
    merge_versions: true
  register: merged
"""

RETURN = r"""
name:
  description: The vDisk (disk locator) name.
  returned: always
  type: str
  sample: win11-2026-12
store_path:
  description: The store's path, where the disk file is.
  returned: when the store was looked up
  type: str
  sample: \\fs01\pvs-store
registered:
  description: Whether the vDisk was (or in check mode would be) registered by this run.
  returned: always
  type: bool
properties:
  description: The vDisk's write cache type, write cache size (MB) and licence mode after the run (predicted in check mode).
  returned: when registering
  type: dict
  sample: {write_cache_type: ram_overflow, write_cache_size: 4096, license_mode: kms}
assigned:
  description: The targets the vDisk was (or would be) assigned to by this run.
  returned: always
  type: list
  elements: str
  sample: [collection win11-desktops]
new_base_file:
  description: With O(merge_versions), the newest base's disk file (the one to export).
  returned: with merge_versions
  type: str
  sample: win10-gold.4.vhdx
versions:
  description: With O(merge_versions), the vDisk's versions after the run (number, type, access, file).
  returned: with merge_versions
  type: list
  elements: dict
"""

from ansible_collections.citrix_community.ips.plugins.module_utils import _psrp
from ansible_collections.citrix_community.ips.plugins.module_utils import _pvs
from ansible_collections.citrix_community.ips.plugins.module_utils import _pvs_wire as wire
from ansible_collections.citrix_community.ips.plugins.module_utils import _waiter
from ansible_collections.citrix_community.ips.plugins.module_utils.ips_module import IPSModule

PROPERTIES = ("write_cache_type", "write_cache_size", "license_mode")
ENUMS = {"write_cache_type": wire.WRITE_CACHE_TYPES, "license_mode": wire.LICENSE_MODES}
MERGE_ADVICE = ("merge the versions to a new base first: in PVS, Merge-PvsDisk -NewBase (or this module with merge_versions: true "
                "on the registered source vDisk), or in Hyper-V, Merge-VHD of the newest .avhdx into its parents")


def _ours(key, value):
    """A wire value of a property -> the module's name for it."""
    for name, number in ENUMS.get(key, {}).items():
        if number == value:
            return name
    return value


def desired_properties(p):
    return dict((k, p[k]) for k in PROPERTIES if p[k] is not None)


def targets_of(p):
    out = [("collection", p["collection"])] if p["collection"] else []
    return out + [("device", d) for d in p["devices"]]


def missing_assignments(farm, name, targets, replace):
    """The targets where the vDisk is not assigned (or, with replace, not the only one)."""
    todo = []
    for kind, target in targets:
        devices = farm.devices_of(target) if kind == "collection" else [target]
        for device in devices:
            assigned = [a.lower() for a in farm.locators_of_device(device)]
            if name.lower() not in assigned or (replace and len(assigned) > 1):
                todo.append((kind, target))
                break
    return todo


def merge(m, farm, p):
    """merge_versions: Merge-PvsDisk -NewBase on the registered vDisk, waited for with the shared waiter."""
    name = p["name"]
    if farm.locator(name) is None:
        raise _pvs.PvsError("name: the vDisk %s is not registered in store %s of site %s; merge_versions merges a registered "
                            "vDisk's versions." % (name, farm.store, farm.site))
    versions = sorted(farm.versions(name), key=lambda v: v["version"])
    newest = versions[-1]
    merging = newest["access"] == wire.ACCESS_MERGING
    changed = False
    if newest["type"] in (0, wire.TYPE_MERGE_BASE) and not merging:
        return m.exit(changed=False, name=name, registered=False, assigned=[], new_base_file=newest["file"], versions=versions)
    if not merging:
        if m.check_mode:
            return m.exit(changed=True, name=name, registered=False, assigned=[], new_base_file=None, versions=versions)
        farm.merge_new_base(name, wire.VERSION_ACCESS[p["merge_access"]])
        changed = True
    waiter = _waiter.for_options(True, p["wait_timeout"], p["wait_sleep"], check_mode=m.check_mode,
                                 resume="run the task again to wait for the merge")

    def look():
        return sorted(farm.versions(name), key=lambda v: v["version"])

    def status(observed):
        top = observed[-1]
        return _waiter.Status("%s version %s" % (name, top["version"]), "merging" if top["access"] == wire.ACCESS_MERGING else "done",
                              None, None)

    versions = waiter.until("The PVS merge of", look, lambda o: o[-1]["access"] != wire.ACCESS_MERGING, status)
    done = versions[-1]["access"] != wire.ACCESS_MERGING
    if done and versions[-1]["type"] != wire.TYPE_MERGE_BASE:
        # PVS drops the version of a merge that failed: what is left ends in the old chain
        raise _pvs.PvsError("the merge of %s to a new base did not complete on the PVS server (no merged base version after it): "
                            "look in the PVS console (vDisk versions) or the PVS server's event log, then run the task again."
                            % name)
    return m.exit(changed=changed, name=name, registered=False, assigned=[], new_base_file=versions[-1]["file"] if done else None,
                  versions=versions)


def main(m):
    p = m.params
    name = p["name"]
    # desired request
    wanted = desired_properties(p)
    targets = targets_of(p)
    farm = _pvs.Farm(_pvs.open_session(p["windows_host"]), p["pvs"])
    try:
        store_path = farm.check_site_and_store()
        for kind, target in targets:
            if kind == "collection":
                farm.check_collection(target, "collection")
            else:
                farm.check_device(target, "devices")
        if p["merge_versions"]:
            return merge(m, farm, p)
        # what exists
        existing = farm.locator(name)
        if existing is None:
            undefined = farm.undefined()
            filename = "%s.%s" % (name, "vhdx" if p["vhdx"] else "vhd")
            if name.lower() not in undefined and m.check_mode:
                # a publish earlier in the same (checked) run would put the file there: predict, and say what the real run needs
                m.warn("check mode: the disk file %s\\%s is not in store %s yet; the real run registers it once a publish has put "
                       "it there, and fails naming the file otherwise." % (store_path, filename, farm.store))
            elif name.lower() not in undefined:
                raise _pvs.PvsError("name: the disk file %s\\%s is not in store %s (store path %s). Publish it there first, or fix "
                                    "name/vhdx (the file name without extension)." % (store_path, filename, farm.store, store_path))
            if undefined.get(name.lower()) == wire.UNDEFINED_MANIFEST_MISSING:
                raise _pvs.PvsError("name: the disk file %s\\%s has versions (.avhdx files) and no manifest, so it cannot be registered "
                                    "as one vDisk: %s." % (store_path, filename, MERGE_ADVICE))
            current = {}
        else:
            current = farm.disk(name)
        # decide
        to_set = dict((k, v) for k, v in wanted.items() if _ours(k, current.get(k)) != v)
        to_assign = missing_assignments(farm, name, targets, p["replace_assignment"]) if existing is not None else targets
        changed = existing is None or bool(to_set) or bool(to_assign)
        after = dict((k, _ours(k, current.get(k))) for k in PROPERTIES if k in current)
        after.update(wanted)
        result = dict(changed=changed, name=name, store_path=store_path, registered=existing is None, properties=after,
                      assigned=["%s %s" % t for t in to_assign])
        if m.check_mode or not changed:
            return m.exit(**result)
        # submit
        if existing is None:
            farm.register(name, p["vhdx"], p["server_name"])
        if to_set:
            farm.set_disk(name, dict((k, ENUMS[k][v] if k in ENUMS else v) for k, v in to_set.items()))
        for kind, target in to_assign:
            farm.assign(name, collection=target if kind == "collection" else None, device=target if kind == "device" else None,
                        remove_existing=p["replace_assignment"])
        # shape the result from the farm
        result["properties"] = dict((k, _ours(k, v)) for k, v in farm.disk(name).items())
        return m.exit(**result)
    finally:
        farm.close()


def run_module():
    spec = dict(
        windows_host=dict(_psrp.windows_host_spec(), required=True),
        pvs=_pvs.pvs_spec(),
        name=dict(type="str", required=True),
        vhdx=dict(type="bool", default=True),
        server_name=dict(type="str"),
        write_cache_type=dict(type="str", choices=list(wire.WRITE_CACHE_TYPES)),
        write_cache_size=dict(type="int"),
        license_mode=dict(type="str", choices=list(wire.LICENSE_MODES)),
        collection=dict(type="str"),
        devices=dict(type="list", elements="str", default=[]),
        replace_assignment=dict(type="bool", default=False),
        merge_versions=dict(type="bool", default=False),
        merge_access=dict(type="str", default="production", choices=list(wire.VERSION_ACCESS)),
        wait_timeout=dict(type="int", default=3600),
        wait_sleep=dict(type="int", default=10),
    )
    IPSModule(spec, auth=False, supports_check_mode=True).run(main)


if __name__ == "__main__":
    run_module()

# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Provisioning (PVS) farm, reached through the Citrix.PVS.SnapIn snap-in on a Windows host (a PVS server
or a host with the PVS console): connect, look up site/store/collections/devices/disk locators, register a
disk file that is already in a store, set its properties, assign it, read and merge its versions.

Every cmdlet and parameter name comes from `_pvs_wire`; every call goes through one `_psrp.Session` (the
appliance backend's transport: one runspace, so the snap-in and Set-PvsConnection hold for the next cmdlet).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.citrix_community.ips.plugins.module_utils import _psrp
from ansible_collections.citrix_community.ips.plugins.module_utils import _pvs_wire as wire
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError


class PvsError(IPSError):
    """The PVS farm refused, or a name does not exist there; the message names the option to fix."""


def pvs_spec():
    """The pvs dict (the PVS server the console host connects to), documented by the pvs doc fragment."""
    return dict(type="dict", required=True, options=dict(
        server=dict(type="str", required=True),
        port=dict(type="int", default=wire.DEFAULT_PORT),
        site=dict(type="str", required=True),
        store=dict(type="str", required=True),
    ))


def open_session(windows_host):
    host = windows_host or {}
    for key, what in (("host", "the Windows host with the PVS console (Citrix.PVS.SnapIn), reached over PowerShell Remoting"),
                      ("username", "the account PowerShell Remoting signs in with")):
        if not host.get(key):
            raise PvsError("windows_host.%s is required: %s." % (key, what))
    try:
        return _psrp.Session(host["host"], host["username"], host.get("password"), port=host.get("port"),
                             transport=host.get("transport") or "https", auth=host.get("auth") or "negotiate",
                             ca_path=host.get("ca_path"), validate_certs=host.get("validate_certs", True),
                             connection_timeout=host.get("connection_timeout") or 30,
                             operation_timeout=host.get("operation_timeout") or 20)
    except _psrp.PSRPError as err:
        raise PvsError(str(err))


def _field(obj, fields, key):
    return obj.get(fields[key].name) if isinstance(obj, dict) else None


class Farm(object):
    """One PVS connection on one Windows host, for the life of a task; `pvs` is the module's pvs dict."""

    def __init__(self, session, pvs):
        self.session = session
        self.server = pvs["server"]
        self.port = pvs.get("port") or wire.DEFAULT_PORT
        self.site = pvs["site"]
        self.store = pvs["store"]
        self.connected = False

    def close(self):
        self.session.close()

    def call(self, key, values, read_only=True):
        """Run cmdlet `key` (connected first); -> its output objects as plain Python."""
        self.connect()
        return self._run(key, values, read_only)

    def _run(self, key, values, read_only):
        try:
            return [_psrp.plain(o) for o in self.session.run(wire.cmdlet(key), wire.parameters(key, values), read_only=read_only)]
        except _psrp.PSRPError as err:
            raise PvsError(str(err))

    def connect(self):
        if self.connected:
            return
        try:
            self._run("snapin", {"name": wire.SNAPIN}, True)
        except PvsError as err:
            raise PvsError("the PVS console's snap-in %s could not be loaded on windows_host.host %s: install the Provisioning "
                           "console there (and register the snap-in). %s" % (wire.SNAPIN, self.session.host, err))
        try:
            self._run("connect", {"server": self.server, "port": self.port}, True)
        except PvsError as err:
            raise PvsError("pvs.server %s:%s could not be reached from the Windows host: check pvs.server and pvs.port (the PVS SOAP "
                           "service, %d by default). %s" % (self.server, self.port, wire.DEFAULT_PORT, err))
        self.connected = True

    # --- look-ups -----------------------------------------------------------------------------------

    def _named(self, key, values, what, option):
        try:
            return self.call(key, values)
        except PvsError as err:
            if "RecordNotFound" in str(err):
                name = list(values.values())[0]
                raise PvsError("%s %s does not exist on the PVS farm of %s: check %s. (%s)" % (what, name, self.server, option, err))
            raise

    def check_site_and_store(self):
        """The store's path (where its disk files are), after checking that site and store exist."""
        self._named("site", {"site": self.site}, "the site", "pvs.site")
        stores = self._named("store", {"store": self.store}, "the store", "pvs.store")
        return _field(stores[0], wire.STORE_FIELDS, "path") if stores else None

    def check_collection(self, name, option):
        self._named("collection", {"collection": name, "site": self.site}, "the device collection", option)

    def devices_of(self, collection):
        return [_field(d, wire.DEVICE_FIELDS, "name") for d in self.call("device", {"collection": collection})]

    def check_device(self, name, option):
        self._named("device", {"device": name}, "the target device", option)

    def locator(self, name):
        """The disk locator `name` in the site and store, or None."""
        for loc in self.call("locators", {"site": self.site, "store": self.store}):
            if str(_field(loc, wire.LOCATOR_FIELDS, "name") or "").lower() == name.lower():
                return loc
        return None

    def disk(self, name):
        found = self.call("disk", {"name": name, "site": self.site, "store": self.store})
        return dict((k, _field(found[0], wire.DISK_FIELDS, k)) for k in wire.DISK_FIELDS) if found else {}

    def undefined(self):
        """{lower-case name: status} of the store's disk files that have no locator yet."""
        out = {}
        for disk in self.call("undefined", {"store": self.store}):
            out[str(_field(disk, wire.UNDEFINED_FIELDS, "name") or "").lower()] = _field(disk, wire.UNDEFINED_FIELDS, "status")
        return out

    def locators_of_device(self, device):
        return [str(_field(loc, wire.LOCATOR_FIELDS, "name")) for loc in self.call("locators", {"device": device})]

    def versions(self, name):
        found = self.call("versions", {"name": name, "site": self.site, "store": self.store})
        return [dict((k, _field(v, wire.VERSION_FIELDS, k)) for k in wire.VERSION_FIELDS) for v in found]

    # --- changes --------------------------------------------------------------------------------------

    def register(self, name, vhdx, server_name):
        return self.call("register", {"name": name, "site": self.site, "store": self.store, "server": server_name, "vhdx": vhdx},
                         read_only=False)

    def set_disk(self, name, values):
        return self.call("set_disk", dict(values, name=name, site=self.site, store=self.store), read_only=False)

    def assign(self, name, collection=None, device=None, remove_existing=False):
        return self.call("assign", {"name": name, "site": self.site, "store": self.store, "collection": collection, "device": device,
                                    "remove_existing": remove_existing}, read_only=False)

    def merge_new_base(self, name, access):
        return self.call("merge", {"name": name, "site": self.site, "store": self.store, "new_base": True, "access": access},
                         read_only=False)

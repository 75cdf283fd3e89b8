# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pre-flight checks of a vSphere export source, with pyvmomi, before an export job is submitted.

The vCenter credentials work, the VM and its disk exist, and the VM is powered off or has a
snapshot (so the disk's contents are stable). A bad name then fails in seconds, not after the
service has started a compositing engine. pyvmomi is imported only when a pre-flight runs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ssl

from ansible_collections.citrix_community.ips.plugins.module_utils._deferred_import import Deferred
from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSError


def _pyvmomi_names():
    from pyVim.connect import Disconnect, SmartConnect
    from pyVmomi import vim, vmodl
    return locals()


pyvmomi = Deferred("pyvmomi", _pyvmomi_names)


class PreflightFailed(IPSError):
    """The source is not ready for an export; the message says what to fix. `kind` says which check failed
    (login, tls, unreachable, no_vm, no_disk, ambiguous, changing), so ips_preflight reports it as its item."""

    def __init__(self, message, kind=None):
        super(PreflightFailed, self).__init__(message)
        self.kind = kind


def argument_spec():
    return dict(preflight=dict(type="dict", options=dict(
        username=dict(type="str", required=True),
        password=dict(type="str", required=True, no_log=True),
        validate_certs=dict(type="bool", default=True),
        vm_name=dict(type="str"),
        timeout=dict(type="int", default=30),
    )))


def _ssl_context(validate_certs, ca_certificate):
    if not validate_certs:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    return ssl.create_default_context(cadata=ca_certificate) if ca_certificate else ssl.create_default_context()


def disk_matches(wanted, file_name, label):
    """Whether the disk `wanted` is this one: the datastore path, the path in the datastore, the file name, its stem, or the label."""
    wanted = wanted.strip()
    inner = file_name.split("] ", 1)[-1]
    base = inner.split("/")[-1]
    stem = base[:-5] if base.lower().endswith(".vmdk") else base
    return wanted in (file_name, inner, base, stem, label)


def _vms(content, names):
    """[{name, power_state, snapshot, disks: [(label, fileName, capacity bytes)]}] of every VM (or of the named one)."""
    pc, vim = pyvmomi.vmodl.query.PropertyCollector, pyvmomi.vim
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    try:
        spec = pc.FilterSpec(
            objectSet=[pc.ObjectSpec(obj=view, skip=True, selectSet=[pc.TraversalSpec(name="vms", type=vim.view.ContainerView, path="view", skip=False)])],
            propSet=[pc.PropertySpec(type=vim.VirtualMachine, pathSet=["name", "runtime.powerState", "snapshot", "config.hardware.device"])])
        found = []
        for obj in content.propertyCollector.RetrieveContents([spec]):
            props = dict((p.name, p.val) for p in obj.propSet)
            if names and props.get("name") not in names:
                continue
            disks = [(d.deviceInfo.label if d.deviceInfo else "", getattr(d.backing, "fileName", "") or "",
                      getattr(d, "capacityInBytes", None) or (d.capacityInKB or 0) * 1024)
                     for d in props.get("config.hardware.device") or [] if isinstance(d, vim.vm.device.VirtualDisk)]
            found.append(dict(name=props.get("name"), power_state=str(props.get("runtime.powerState")),
                              snapshot=props.get("snapshot") is not None, disks=disks))
        return found
    finally:
        view.Destroy()


def check(host, port, preflight, disk, ca_certificate=None, fingerprint=None):
    """Run the checks; returns what was found, or raises PreflightFailed (or ImportError's message as IPSError)."""
    missing = pyvmomi.missing()
    if missing:
        raise IPSError("vsphere pre-flight needs the pyvmomi Python library (pip install pyvmomi): %s" % missing)
    kwargs = dict(host=host, port=port, user=preflight["username"], pwd=preflight["password"],
                  sslContext=_ssl_context(preflight["validate_certs"], ca_certificate), httpConnectionTimeout=preflight["timeout"])
    if fingerprint and preflight["validate_certs"]:
        kwargs["thumbprint"] = fingerprint.replace(":", "").upper()
        kwargs["sslContext"] = _ssl_context(False, None)
    try:
        si = pyvmomi.SmartConnect(**kwargs)
    except pyvmomi.vim.fault.InvalidLogin:
        raise PreflightFailed("vsphere pre-flight: vCenter %s refused the user %s (invalid login); fix preflight.username/password and "
                              "the wallet credential vsphere.credential_id, which the job uses." % (host, preflight["username"]), "login")
    except ssl.SSLError as exc:
        raise PreflightFailed("vsphere pre-flight: the TLS certificate of vCenter %s is not trusted (%s); set vsphere.ssl_ca_certificate, "
                              "vsphere.ssl_fingerprint, or preflight.validate_certs: false for a lab." % (host, exc), "tls")
    except (OSError, pyvmomi.vim.fault.HostConnectFault) as exc:
        raise PreflightFailed("vsphere pre-flight: could not reach vCenter %s:%s: %s." % (host, port, exc), "unreachable")
    try:
        vm_name = preflight.get("vm_name")
        vms = _vms(si.RetrieveContent(), [vm_name] if vm_name else None)
    finally:
        pyvmomi.Disconnect(si)
    if vm_name and not vms:
        raise PreflightFailed("vsphere pre-flight: vCenter %s has no VM named %s (preflight.vm_name)." % (host, vm_name), "no_vm")
    owners = [(vm, f, size) for vm in vms for (label, f, size) in vm["disks"] if disk_matches(disk, f, label)]
    if not owners:
        where = "VM %s" % vm_name if vm_name else "any VM"
        raise PreflightFailed("vsphere pre-flight: source_disk %s is not a disk of %s on vCenter %s; give the datastore path "
                              "([datastore] folder/disk.vmdk), the file name or the disk label." % (disk, where, host), "no_disk")
    if len(owners) > 1 and not vm_name:
        raise PreflightFailed("vsphere pre-flight: source_disk %s matches disks of several VMs (%s); set preflight.vm_name or give the "
                              "full datastore path." % (disk, ", ".join(sorted(vm["name"] for vm, f, size in owners))), "ambiguous")
    vm, file_name, capacity = owners[0]
    if vm["power_state"] != "poweredOff" and not vm["snapshot"]:
        raise PreflightFailed("vsphere pre-flight: VM %s is %s and has no snapshot, so its disk %s is changing; power the VM off or take a "
                              "snapshot before exporting." % (vm["name"], vm["power_state"], file_name), "changing")
    return dict(vm_name=vm["name"], power_state=vm["power_state"], has_snapshot=vm["snapshot"], disk_file=file_name, disk_bytes=capacity)

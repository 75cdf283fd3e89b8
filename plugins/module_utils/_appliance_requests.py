# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module options -> the appliance request of each job module, and which options each backend takes.

The options users know keep their meaning on both backends (target_disk, output_disk_name,
provisioning_type, vda, domain_unjoin, tags, job_timeout ...). An option only one backend has
fails on the other with a message naming the option and the backend, before anything is sent.
A request is {cmdlet key, values by our names, connectors by option}: connector names are looked
up to ids on the appliance only when the task is started (and they stay names in the key).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.citrix_community.ips.plugins.module_utils import _appliance_wire as wire
from ansible_collections.citrix_community.ips.plugins.module_utils._bodies.common import OptionError

BACKENDS = ("cloud", "appliance")

# Sources the appliance exports from, and its one target (reference: successor-and-mcs.md 3.1).
EXPORT_PLATFORMS = ("vsphere", "xenserver", "nutanix", "azure")
TARGET_PLATFORMS = ("azure",)
_ARM_DISK = re.compile(r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Compute/disks/[^/]+$", re.IGNORECASE)
_VSPHERE_DISK = re.compile(r"^\[[^\]]+\] ?\S.*\.vmdk$", re.IGNORECASE)
_PLATFORM_DICTS = ("vsphere", "xenserver", "nutanix", "azure", "aws", "gcp")

# Options of the job modules that only the appliance backend has (their argument specs are below).
APPLIANCE_ONLY = ("appliance", "windows_host", "install_upl", "chkdsk", "defrag", "enable_rdp", "update_layer_repo", "debug_settings",
                  "azure_output_check")
# Options only the cloud service has: (option, what to do on the appliance instead).
CLOUD_ONLY = (
    ("resource_location_id", None),  # may come from the environment: ignored, not refused, on the appliance
    ("md5_hash", "the appliance does not check a hash"),
    ("source_snapshot", "give the disk (source_disk)"),
    ("target_snapshot", "give the disk (target_disk)"),
    ("output_snapshot_name", "the appliance writes a managed disk (output_disk_name)"),
    ("output_image_name", "the appliance writes a managed disk (output_disk_name)"),
    ("extra_body", "there is no JSON body; the cmdlet parameters are fixed"),
    ("hash_disk", "the appliance does not hash the export"),
    ("pending_credentials", "the appliance uses connectors, not wallet credentials"),
    ("prepare", "run ips_prepare, then ips_publish"),
    ("preflight", "the vSphere check reads the vsphere dict, which the appliance does not use"),
)


def argument_spec():
    """backend, and the appliance-only prepare switches (the citrix_community.ips.appliance doc fragment)."""
    return dict(backend=dict(type="str", default="cloud", choices=list(BACKENDS)))


def prepare_argument_spec():
    return dict(install_upl=dict(type="bool"), chkdsk=dict(type="bool"), defrag=dict(type="bool"), enable_rdp=dict(type="bool"),
                update_layer_repo=dict(type="str"), debug_settings=dict(type="dict"))


def _set(params, name):
    value = params.get(name)
    return value not in (None, False, {}, [], "")


def check_backend(params):
    """Refuse options of the other backend, naming the option and the backend."""
    backend = params.get("backend") or "cloud"
    vda = params.get("vda") or {}
    if backend == "cloud":
        used = [name for name in APPLIANCE_ONLY if _set(params, name)] + (["vda.force_mcsio"] if vda.get("force_mcsio") else [])
        if used:
            raise OptionError("%s: only backend: appliance has %s; backend is cloud, so remove %s or set backend: appliance."
                              % (", ".join(used), "this option" if len(used) == 1 else "these options", " and ".join(used)))
        return backend
    for name, instead in CLOUD_ONLY:
        if instead and _set(params, name):
            raise OptionError("%s is an option of backend: cloud (the Citrix Cloud service) only; backend is appliance: %s, so "
                              "remove %s." % (name, instead, name))
    dicts = [name for name in _PLATFORM_DICTS if _set(params, name)]
    if dicts:
        raise OptionError("%s: the appliance reaches the platform through its connector configuration (appliance.connector), so "
                          "the platform dict of backend: cloud is not used; remove %s." % (", ".join(dicts), " and ".join(dicts)))
    if vda.get("force_misa") and vda.get("install_misa") is False:
        raise OptionError("vda.force_misa reinstalls the MCS security agent, so it cannot go with vda.install_misa: false.")
    return backend


def _platform(params, allowed, what):
    platform = params["platform"]
    if platform not in allowed:
        raise OptionError("platform %s: the App Layering appliance %s %s only (it has no AWS or GCP connector); use backend: cloud "
                          "for %s." % (platform, what, ", ".join(allowed), platform))
    return platform


def _connector(params, option="connector", why="the connector configuration that reaches the platform of the disk"):
    name = (params.get("appliance") or {}).get(option)
    if not name:
        raise OptionError("appliance.%s is required for this task with backend: appliance: the name of %s." % (option, why))
    return name


def disk_id(platform, value, option):
    """The -SourceDisk value: Azure, the managed disk's full ARM id; vSphere, '[datastore] folder/file.vmdk'."""
    if not value:
        raise OptionError("%s is required." % option)
    if platform == "azure" and not _ARM_DISK.match(value):
        raise OptionError("%s: on the appliance an Azure disk is named by its full resource id, "
                          "/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Compute/disks/<name> (ips_upload returns "
                          "it as disk_id); got %s." % (option, value))
    if platform == "vsphere" and not _VSPHERE_DISK.match(value):
        raise OptionError("%s: on the appliance a vSphere disk is named by its datastore path, '[datastore] folder/file.vmdk'; got %s."
                          % (option, value))
    return value


def _common(params, values):
    if params.get("job_timeout") is not None:
        if params["job_timeout"] < 60:
            raise OptionError("job_timeout is the task's own time limit on the appliance, in seconds: use 60 or more (got %s)."
                              % params["job_timeout"])
        values["timeout"] = params["job_timeout"]
    tags = params.get("tags") or {}
    values["tags"] = dict((str(k), str(v)) for k, v in tags.items())
    return values


def _output_name(params, option):
    name = params.get(option)
    if not name:
        raise OptionError("%s is required with backend: appliance: the name the task gives its output." % option)
    return name


def export_request(params):
    platform = _platform(params, EXPORT_PLATFORMS, "exports from")
    values = {"source_disk": disk_id(platform, params.get("source_disk"), "source_disk"),
              "output_disk_name": _output_name(params, "output_name")}
    # the export's share: the appliance's default IPS share, or the Windows File Share connector named
    return {"kind": "export", "values": _common(params, values),
            "connectors": {"connector_id": ("connector", False, True), "share_connector_id": ("share_connector", False, False)}}


def _install_type(vda, install, force):
    if vda.get(force):
        return "Force"
    if vda.get(install):
        return "Install"
    return None


def prepare_request(params):
    _platform(params, TARGET_PLATFORMS, "prepares in")
    ptype = params.get("provisioning_type") or "mcs"
    vda = params.get("vda") or {}
    for option in ("install_misa", "force_misa", "install_mcsio", "force_mcsio"):
        if vda.get(option) and ptype != "mcs":
            raise OptionError("vda.%s installs an MCS component, so it needs provisioning_type: mcs (provisioning_type is %s)."
                              % (option, ptype))
    if vda.get("install_pvs") and ptype != "pvs":
        raise OptionError("vda.install_pvs installs the PVS target device software, so it needs provisioning_type: pvs "
                          "(provisioning_type is %s)." % ptype)
    items = []
    for item in vda.get("xd_reconfigure") or []:
        items.append({"Name": item["name"].strip(), "Value": item["value"]})
    values = {
        "provisioning_type": {"mcs": "Mcs", "pvs": "Pvs"}[ptype],
        "source_disk": disk_id("azure", params.get("target_disk"), "target_disk"),
        "output_disk_name": _output_name(params, "output_disk_name"),
        "domain_unjoin": params.get("domain_unjoin"),
        "pvs_install_version": vda.get("install_pvs"),
        "install_upl": params.get("install_upl"),
        "update_layer_repo": params.get("update_layer_repo"),
        "chkdsk": params.get("chkdsk"),
        "defrag": params.get("defrag"),
        "enable_rdp": params.get("enable_rdp"),
        "misa": _install_type(vda, "install_misa", "force_misa"),
        "mcsio": _install_type(vda, "install_mcsio", "force_mcsio"),
        "xd_reconfigure": items,
        "debug_settings": params.get("debug_settings") or {},
    }
    return {"kind": "prepare", "values": _common(params, values), "connectors": {"connector_id": ("connector", True, True)}}


def publish_request(params):
    _platform(params, TARGET_PLATFORMS, "publishes from")
    vda = params.get("vda") or {}
    used = ["vda.%s" % k for k in sorted(vda) if vda[k] not in (None, [])] + (["domain_unjoin"] if params.get("domain_unjoin") is not None else [])
    if used:
        raise OptionError("%s: the appliance publishes a disk prepared before (ips_prepare); remove %s from the publish."
                          % (", ".join(used), " and ".join(used)))
    values = {"source_disk": disk_id("azure", params.get("source_disk"), "source_disk"),
              "output_disk_name": _output_name(params, "output_name")}
    return {"kind": "publish", "values": _common(params, values),
            "connectors": {"connector_id": ("connector", True, True), "share_connector_id": ("share_connector", False, True)}}


def diagnostics_request(params):
    # the appliance collects its own logs to a share: no platform, no tags or time limit (none of them is a parameter)
    _platform(params, EXPORT_PLATFORMS, "collects diagnostics from")
    return {"kind": "diagnostics", "values": {}, "connectors": {"share_connector_id": ("share_connector", False, True)}}


def connector_names(params, request):
    """{value name: (appliance.<option>, connector name, must be the Azure IPS type)} of a request."""
    out = {}
    for value_name, (option, azure_ips, required) in request["connectors"].items():
        if not required and not (params.get("appliance") or {}).get(option):
            continue
        why = ("the Windows File Share connector configuration of the share the task writes to" if option == "share_connector"
               else "the connector configuration that reaches the platform of the disk")
        out[value_name] = ("appliance.%s" % option, _connector(params, option, why), azure_ips)
    return out


BUILDERS = {"export": export_request, "prepare": prepare_request, "publish": publish_request, "diagnostics": diagnostics_request}


# --- what a finished task gives the module's return values ----------------------------------------
# The appliance's task object shows no output location in any public source (_appliance_wire
# TASK_FIELDS "output" is unconfirmed), so the names come from the request: the task writes what it
# was asked to write. An output found by the module itself (output_exists) fills in path and size.


def _result(job, key):
    return ((job or {}).get("artifacts") or {}).get(wire.RESULT_FIELDS[key].name)


def prepare_artifacts(params):
    """disk_name, disk_id of a prepare: from the task's result, else the output disk in the target disk's resource group."""
    def artifacts(job, output):
        done = (job or {}).get("state") == "complete" or bool(output)
        name = params.get("output_disk_name")
        target = params.get("target_disk") or ""
        disk_id = "%s/%s" % (target.rsplit("/", 1)[0], name) if done and _ARM_DISK.match(target) else None
        out = dict((key, None) for key in ("disk_name", "disk_id", "snapshot_name", "image_name", "snapshot_id", "volume_id"))
        if done:
            found = output or {}
            out.update(disk_name=_result(job, "disk_name") or found.get("disk_name") or name,
                       disk_id=_result(job, "disk_id") or found.get("disk_id") or disk_id)
        return out
    return artifacts


def file_artifacts(params, keys):
    """vhd_path, vhd_filename, size_bytes (and the other keys as None) of an export or publish."""
    def artifacts(job, output):
        done = (job or {}).get("state") == "complete" or bool(output)
        found = output or {}
        out = dict((key, None) for key in keys)
        if done:
            out.update(vhd_filename=_result(job, "vhd_filename") or found.get("vhd_filename")
                       or "%s.%s" % (params["output_name"], params.get("output_format") or "vhdx"),
                       vhd_path=_result(job, "vhd_path") or found.get("vhd_path"),
                       size_bytes=_result(job, "size_bytes") or found.get("size_bytes"))
        return out
    return artifacts


def diagnostics_artifacts(job, output):
    return {"diagnostics_path": _result(job, "diagnostics_path")}

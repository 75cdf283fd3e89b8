# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PVS automation job bodies: convert a vDisk to UEFI, upgrade its PVS software, reverse it to vSphere.

Each reads a VHD(X) from a PVS store share (the smb dict is the input location).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.citrix_community.ips.plugins.module_utils import _wire
from ansible_collections.citrix_community.ips.plugins.module_utils._bodies import common
from ansible_collections.citrix_community.ips.plugins.module_utils._bodies.common import OptionError

OPERATIONS = {
    # operation -> (platforms the service offers it on, options only it takes)
    "convert_to_uefi": (("vsphere", "xenserver", "azure", "gcp"), ("output_name", "pvs_ssl_ca_certificate")),
    "upgrade_pvs": (("vsphere",), ("output_name", "output_size_mb", "pvs_version")),
    "reverse_image": (("vsphere",), ("output_disk_name",)),
}
ALL_OPTIONS = ("output_name", "pvs_ssl_ca_certificate", "output_size_mb", "pvs_version", "output_disk_name")
ARTIFACT_KEYS = ("vhd_path", "vhd_filename", "disk_name", "size_bytes")


def argument_spec():
    return dict(
        operation=dict(type="str", required=True, choices=sorted(OPERATIONS)),
        input_name=dict(type="str", required=True),
        input_format=dict(type="str", default="vhdx", choices=["vhdx", "vhd"]),
        output_name=dict(type="str"),
        output_size_mb=dict(type="int"),
        pvs_version=dict(type="str"),
        pvs_ssl_ca_certificate=dict(type="str"),
        output_disk_name=dict(type="str"),
    )


FOUND_ARTIFACTS = {"vhd_path": "path", "vhd_filename": "filename", "size_bytes": "size"}
# Jobs without an overwrite field: force makes every run submit a new job.
FORCE_RESUBMITS = ("reverse_image",)


def output_filename(params):
    """The vDisk file an operation writes into smb.location, or None when there is nothing to look for
    (reverse_image writes a vSphere disk; without output_name the input is converted in place)."""
    if params["operation"] == "reverse_image" or not params.get("output_name") or params["output_name"] == params["input_name"]:
        return None
    return "%s.%s" % (params["output_name"], params["input_format"])


def build(params):
    """Module params of ips_pvs_image -> (route key, body)."""
    operation, platform = params["operation"], params["platform"]
    platforms, own = OPERATIONS[operation]
    if platform not in platforms:
        raise OptionError("operation %s runs on %s only; platform is %s." % (operation, ", ".join(platforms), platform))
    for option in ALL_OPTIONS:
        if params.get(option) is not None and option not in own:
            users = [op for op, (plats, opts) in sorted(OPERATIONS.items()) if option in opts]
            raise OptionError("%s belongs to operation %s; operation is %s, so remove it." % (option, " or ".join(users), operation))
    if operation == "upgrade_pvs" and not params.get("pvs_version"):
        raise OptionError("operation upgrade_pvs needs pvs_version: the PVS target device software version to install.")
    if params.get("output_size_mb") is not None and params["output_size_mb"] < 1024:
        raise OptionError("output_size_mb is the size of the upgraded vDisk in MiB; use 1024 or more (got %s)." % params["output_size_mb"])
    if params.get("output_name") and params["output_name"] == params["input_name"] and not params.get("force"):
        raise OptionError("output_name equals input_name, which would overwrite the input vDisk; choose another output_name or set force.")
    opts = common.platform_options(params)
    fields = _wire.PVS_FIELDS
    body = common.base_body(params, platform, opts)
    body[_wire.SMB_INPUT_LOCATION.json] = common.smb_location(params.get("smb"))
    body[fields["input_name"].json] = params["input_name"]
    body[fields["input_format"].json] = _wire.DISK_FORMATS[params["input_format"]].json
    for option in own:
        if params.get(option) is not None:
            body[fields[option].json] = params[option]
    if operation != "reverse_image":
        body.update(common.overwrite_field(fields["overwrite"], params))
    return operation, body

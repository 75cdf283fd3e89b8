# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The prepare job body: make an uploaded disk bootable for MCS or PVS on its platform.

The cross-field rules live here (checked before any request), each message naming both options.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.citrix_community.ips.plugins.module_utils import _wire
from ansible_collections.citrix_community.ips.plugins.module_utils._bodies import common
from ansible_collections.citrix_community.ips.plugins.module_utils._bodies.common import OptionError

ARTIFACT_KEYS = ("disk_name", "disk_id", "snapshot_name", "image_name", "snapshot_id", "volume_id")
_XD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_PVS_VERSION = re.compile(r"^[0-9][0-9A-Za-z._-]*$")


def vda_argument_spec():
    """provisioning_type and the vda dict, documented by the citrix_community.ips.vda doc fragment."""
    return dict(
        provisioning_type=dict(type="str", default="mcs", choices=["mcs", "pvs"]),
        vda=dict(type="dict", default={}, options=dict(
            install_misa=dict(type="bool"),
            force_misa=dict(type="bool"),
            install_mcsio=dict(type="bool"),
            force_mcsio=dict(type="bool"),  # backend: appliance only (-Mcsio Force)
            install_pvs=dict(type="str"),
            xd_reconfigure=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                value=dict(type="str", required=True),
            )),
        )),
        domain_unjoin=dict(type="bool"),
        md5_hash=dict(type="str"),
    )


def target_argument_spec():
    return dict(
        target_disk=dict(type="str"),
        target_snapshot=dict(type="str"),
        output_disk_name=dict(type="str"),
        output_snapshot_name=dict(type="str"),
        output_image_name=dict(type="str"),
    )


def _check_xd_reconfigure(items):
    seen = set()
    out = []
    for item in items or []:
        name, value = item["name"].strip(), item["value"]
        where = "vda.xd_reconfigure name %s" % name
        if not _XD_NAME.match(name):
            raise OptionError("%s: a /reconfigure parameter name is letters, digits and underscores (e.g. controllers, portnumber, "
                              "enable_hdx_ports)." % where)
        if name.lower() in seen:
            raise OptionError("%s appears twice in vda.xd_reconfigure; give each parameter once." % where)
        seen.add(name.lower())
        if name.lower() == "portnumber" and not (value.isdigit() and 1 <= int(value) <= 65535):
            raise OptionError("%s: portnumber is the VDA registration port, 1-65535 (got %s)." % (where, value))
        if name.lower() == "enable_hdx_ports" and value.lower() not in ("true", "false"):
            raise OptionError("%s: enable_hdx_ports takes true or false (got %s)." % (where, value))
        if name.lower() == "controllers" and not value.strip():
            raise OptionError("%s: controllers lists the Delivery Controllers (FQDNs separated by spaces); it is empty." % where)
        out.append({_wire.XD_RECONFIGURE_NAME.json: name, _wire.XD_RECONFIGURE_VALUE.json: value})
    return out


def vda_fields(params):
    """provisioning_type, vda, domain_unjoin, md5_hash -> body fields, after the cross-field rules."""
    ptype = params["provisioning_type"]
    vda = params.get("vda") or {}
    for option in ("install_misa", "force_misa", "install_mcsio"):
        if vda.get(option) and ptype != "mcs":
            raise OptionError("vda.%s installs an MCS component, so it needs provisioning_type: mcs (provisioning_type is %s)."
                              % (option, ptype))
    if vda.get("force_misa") and vda.get("install_misa") is False:
        raise OptionError("vda.force_misa reinstalls the MCS security agent, so it cannot go with vda.install_misa: false.")
    if vda.get("install_pvs"):
        if ptype != "pvs":
            raise OptionError("vda.install_pvs installs the PVS target device software, so it needs provisioning_type: pvs "
                              "(provisioning_type is %s)." % ptype)
        if not _PVS_VERSION.match(vda["install_pvs"]):
            raise OptionError("vda.install_pvs is the PVS version to install, for example 2407 or 7.33 (got %s)." % vda["install_pvs"])
    if vda.get("force_mcsio"):
        raise OptionError("vda.force_mcsio: only backend: appliance has this option (the service has no such field); remove it, "
                          "or use vda.install_mcsio.")
    fields = _wire.PREPARE_FIELDS
    body = {fields["provisioning_type"].json: _wire.PROVISIONING_TYPES[ptype].json,
            fields["xd_reconfigure"].json: _check_xd_reconfigure(vda.get("xd_reconfigure"))}
    for option in ("install_misa", "force_misa", "install_mcsio", "install_pvs"):
        if vda.get(option) is not None:
            body[fields[option].json] = vda[option]
    if params.get("domain_unjoin") is not None:
        body[fields["domain_unjoin"].json] = params["domain_unjoin"]
    md5 = common.check_md5(params.get("md5_hash"))
    if md5:
        body[fields["md5_hash"].json] = md5
    return body


def output_fields(platform, params):
    """Where prepare writes a new artifact (else the target is prepared in place)."""
    out = _wire.PREPARE_OUTPUT_FIELDS
    if params.get("output_snapshot_name") and platform != "azure":
        raise OptionError("output_snapshot_name makes an Azure snapshot, so it needs platform: azure (platform is %s); "
                          "use output_disk_name." % platform)
    if params.get("output_image_name") and platform != "nutanix":
        raise OptionError("output_image_name makes a Nutanix AHV image, so it needs platform: nutanix (platform is %s); "
                          "use output_disk_name." % platform)
    if platform == "nutanix" and params.get("output_disk_name"):
        raise OptionError("output_disk_name is not how Nutanix AHV prepares write their result; platform is nutanix, "
                          "so use output_image_name.")
    if params.get("output_disk_name") and params.get("output_snapshot_name"):
        raise OptionError("output_disk_name and output_snapshot_name both name the result; set only one of them.")
    body = {}
    for option, key in (("output_disk_name", "disk"), ("output_snapshot_name", "snapshot"), ("output_image_name", "image")):
        if params.get(option):
            body[out[key].json] = params[option]
    return body


def build(params):
    """Module params of ips_prepare -> the prepare body."""
    platform = params["platform"]
    opts = common.platform_options(params)
    body = common.base_body(params, platform, opts)
    body.update(common.disk_selector(_wire.PREPARE_TARGET_FIELDS, platform, params, "target_disk", "target_snapshot"))
    body.update(output_fields(platform, params))
    body.update(vda_fields(params))
    body.update(common.overwrite_field(_wire.PREPARE_FIELDS["overwrite"], params))
    return body

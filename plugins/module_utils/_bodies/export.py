# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The export (and publish) job body: a platform's disk -> a VHD or VHDX file on an SMB share.

A publish is an export whose source is a prepared disk and whose share is a PVS store (the
PowerShell publish cmdlets are aliases of the export ones), so both modules build this body.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.citrix_community.ips.plugins.module_utils import _wire
from ansible_collections.citrix_community.ips.plugins.module_utils._bodies import common
from ansible_collections.citrix_community.ips.plugins.module_utils._bodies.common import OptionError

_FILE_NAME = re.compile(r"^[^\\/:*?\"<>|]+$")
# What an export reports when it is done.
ARTIFACT_KEYS = ("vhd_path", "vhd_filename", "hash", "size_bytes")


def output_argument_spec():
    return dict(
        output_name=dict(type="str", required=True),
        output_format=dict(type="str", default="vhdx", choices=["vhdx", "vhd"]),
        hash_disk=dict(type="bool", default=False),
    )


def output_fields(params):
    """The SMB output of an export/publish: location, file name (no extension), format, hash."""
    name = params["output_name"]
    if not _FILE_NAME.match(name) or name.lower().endswith((".vhd", ".vhdx")):
        raise OptionError("output_name is the file name without extension (output_format adds .vhdx or .vhd) and without "
                          "path separators; got %s." % name)
    fields = _wire.EXPORT_FIELDS
    body = {
        _wire.SMB_OUTPUT_LOCATION.json: common.smb_location(params.get("smb")),
        fields["output_name"].json: name,
        fields["output_format"].json: _wire.DISK_FORMATS[params["output_format"]].json,
    }
    if params["hash_disk"]:
        body[fields["hash_disk"].json] = True
    body.update(common.overwrite_field(fields["overwrite"], params))
    return body


def build(params):
    """Module params of ips_export / ips_publish (without prepare) -> the export body."""
    platform = params["platform"]
    opts = common.platform_options(params)
    body = common.base_body(params, platform, opts)
    body.update(common.disk_selector(_wire.EXPORT_SOURCE_FIELDS, platform, params, "source_disk", "source_snapshot"))
    body.update(output_fields(params))
    return body


def output_filename(params):
    """The file name the export writes into smb.location."""
    return "%s.%s" % (params["output_name"], params["output_format"])


# What an output found on the share gives the module's return values.
FOUND_ARTIFACTS = {"vhd_path": "path", "vhd_filename": "filename", "size_bytes": "size"}


def expected_file(params):
    """The smb:// URL the export will write (for the result before the job reports it)."""
    location = common.smb_location(params.get("smb"))[_wire.SMB_LOCATION_FIELDS["location"].json]
    return "%s%s.%s" % (location, params["output_name"], params["output_format"])

# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The diagnostics job body: collect compositing-engine logs, Windows event logs and IPS data to SMB."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.citrix_community.ips.plugins.module_utils import _wire
from ansible_collections.citrix_community.ips.plugins.module_utils._bodies import common
from ansible_collections.citrix_community.ips.plugins.module_utils._bodies.common import OptionError

COLLECT = ("ce_logs", "windows_event_logs", "ips_data")
ARTIFACT_KEYS = ("diagnostics_path",)


def argument_spec():
    return dict((name, dict(type="bool", default=True)) for name in COLLECT)


def build(params):
    if not any(params[name] for name in COLLECT):
        raise OptionError("ce_logs, windows_event_logs and ips_data are all false, so the job would collect nothing; set at least one.")
    platform = params["platform"]
    opts = common.platform_options(params)
    body = common.base_body(params, platform, opts)
    body[_wire.SMB_OUTPUT_LOCATION.json] = common.smb_location(params.get("smb"))
    for name in COLLECT:
        body[_wire.DIAGNOSTICS_FIELDS[name].json] = params[name]
    return body

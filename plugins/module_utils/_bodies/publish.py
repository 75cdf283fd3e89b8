# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The publish body: a prepared disk -> a VHD(X) in a PVS store share.

Without `prepare` it is an export body (route `export`); with `prepare` it is one
prepare-and-publish job (route `prepare_and_publish`), which the service offers for Azure and GCP.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.citrix_community.ips.plugins.module_utils import _wire
from ansible_collections.citrix_community.ips.plugins.module_utils._bodies import common, export, prepare
from ansible_collections.citrix_community.ips.plugins.module_utils._bodies.common import OptionError

PREPARE_AND_PUBLISH_PLATFORMS = ("azure", "gcp")
ARTIFACT_KEYS = export.ARTIFACT_KEYS + prepare.ARTIFACT_KEYS


def argument_spec():
    """prepare (bool) and the prepare options it switches on (the vda doc fragment)."""
    spec = dict(prepare=dict(type="bool", default=False))
    spec.update(prepare.vda_argument_spec())
    return spec


def build(params):
    """Module params of ips_publish -> (route key, body)."""
    if not params.get("prepare"):
        vda = params.get("vda") or {}
        used = ["vda.%s" % k for k in sorted(vda) if vda[k] not in (None, [])]
        used += [k for k in ("domain_unjoin", "md5_hash") if params.get(k) is not None]
        if used:
            raise OptionError("%s: prepare options apply only with prepare: true (one prepare-and-publish job); prepare is false, "
                              "so remove them or set prepare: true." % ", ".join(used))
        return "export", export.build(params)
    platform = params["platform"]
    if platform not in PREPARE_AND_PUBLISH_PLATFORMS:
        raise OptionError("prepare runs prepare and publish as one job, which the service offers for %s only; platform is %s, "
                          "so run citrix_community.ips.ips_prepare first and publish without prepare."
                          % (" and ".join(PREPARE_AND_PUBLISH_PLATFORMS), platform))
    if params.get("source_snapshot"):
        raise OptionError("source_snapshot cannot go with prepare: a prepare-and-publish job reads a disk (source_disk).")
    opts = common.platform_options(params)
    body = common.base_body(params, platform, opts)
    body.update(common.disk_selector(_wire.PREPARE_TARGET_FIELDS, platform, params, "source_disk", "source_snapshot"))
    body.update(prepare.vda_fields(params))
    body.update(export.output_fields(params))
    return "prepare_and_publish", body

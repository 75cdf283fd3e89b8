# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option specs shared by ips_upload and ips_disk_info, and opening the source they name."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.citrix_community.ips.plugins.module_utils._sources import SMB_PARALLEL_READS

SOURCE_SPEC = dict(
    type="dict", required=True, options=dict(
        location=dict(type="str", required=True),
        username=dict(type="str"),
        password=dict(type="str", no_log=True),
        domain=dict(type="str"),
        port=dict(type="int", default=445),
        connections=dict(type="int", default=SMB_PARALLEL_READS),
    ))


def open_disk(source_options):
    """(byte source, DiskImage) for the `source` option; SourceError / DiskFormatError on failure."""
    from ansible_collections.citrix_community.ips.plugins.module_utils._disk import open_image
    from ansible_collections.citrix_community.ips.plugins.module_utils._sources import SourceError, open_source

    o = source_options
    connections = SMB_PARALLEL_READS if o.get("connections") is None else o["connections"]
    if connections < 1:
        raise SourceError("source.connections must be 1 or more, got %s" % o["connections"])
    src = open_source(o["location"], smb_user=o.get("username") or os.environ.get("IPS_SMB_USERNAME"),
                      smb_password=o.get("password") or os.environ.get("IPS_SMB_PASSWORD"), smb_domain=o.get("domain"),
                      smb_port=o.get("port") or 445, smb_connections=connections)
    try:
        return src, open_image(src)
    except BaseException:
        src.close()
        raise

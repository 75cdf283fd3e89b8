# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The VHD/VHDX file a module reads on the host that runs the task (ips_upload, ips_disk_info).
    DOCUMENTATION = r"""
options:
  source:
    description:
      - The VHD or VHDX file, read by the host that runs the task (the controller for C(localhost), or the
        execution environment in AWX). It is opened read-only and never modified.
    type: dict
    required: true
    suboptions:
      location:
        description:
          - A local path (a kernel-mounted share works too and is fastest), or C(smb://host[:port]/share/path/file.vhdx)
            (also C(\\\\host\\share\\path\\file.vhdx)), read with the Python package smbprotocol.
        type: str
        required: true
      username:
        description:
          - SMB user (C(user), C(DOMAIN\\user) or C(user@domain)). Falls back to E(IPS_SMB_USERNAME).
        type: str
      password:
        description:
          - SMB password. Falls back to E(IPS_SMB_PASSWORD).
        type: str
      domain:
        description:
          - SMB domain, prefixed to O(source.username) when it has none.
        type: str
      port:
        description:
          - SMB port when the location has none. From 1 to 65535.
        type: int
        default: 445
      connections:
        description:
          - SMB connections that read the file at once (each its own session), for an C(smb://) location.
          - Each read waits on the network and the file server's disks; with two, one read travels while the other
            waits. Raise it to 3-4 for a share across a link with several milliseconds of latency; 1 can be faster
            when the share is on the same host and CPU is short (see C(docs/performance.md)).
          - From 1 to 16 (each connection holds its own 4 MiB read buffer).
        type: int
        default: 2
"""

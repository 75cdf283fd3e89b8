# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The PVS farm reached through the PVS console's snap-in on a Windows host (citrix_community.ips.windows_host.pvs_console).
    DOCUMENTATION = r"""
options:
  pvs:
    description:
      - The Provisioning (PVS) farm the Windows host connects to (C(Set-PvsConnection)), and the site and store of the vDisk.
    type: dict
    required: true
    suboptions:
      server:
        description:
          - The PVS server's name or IP address, as the Windows host reaches it.
        type: str
        required: true
      port:
        description:
          - The PVS SOAP service's port. From 1 to 65535.
        type: int
        default: 54321
      site:
        description:
          - The PVS site (C(-SiteName)).
        type: str
        required: true
      store:
        description:
          - The PVS store the disk file is in (C(-StoreName)); its path is the share Image Portability published to.
        type: str
        required: true
"""

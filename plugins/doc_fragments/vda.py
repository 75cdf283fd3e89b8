# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # How a prepare makes the image bootable: provisioning type and VDA options.
    DOCUMENTATION = r"""
options:
  provisioning_type:
    description:
      - How the prepared image will be provisioned, by Machine Creation Services or Provisioning Services.
    type: str
    choices: [mcs, pvs]
    default: mcs
  vda:
    description:
      - What the compositing engine installs or reconfigures in the image's VDA.
    type: dict
    default: {}
    suboptions:
      install_misa:
        description:
          - Install the MCS security agent (MISA). Needs O(provisioning_type=mcs).
        type: bool
      force_misa:
        description:
          - Reinstall the MCS security agent even if present. Needs O(provisioning_type=mcs).
        type: bool
      install_mcsio:
        description:
          - Install the MCS I/O (storage optimisation) driver. Needs O(provisioning_type=mcs).
        type: bool
      force_mcsio:
        description:
          - Reinstall the MCS I/O driver even if present (C(-Mcsio Force)). Needs O(provisioning_type=mcs).
          - Only with C(backend=appliance); the cloud service has no such field.
        type: bool
        version_added: 0.2.0
      install_pvs:
        description:
          - The version of the PVS target device software to install, for example C(2407). Needs O(provisioning_type=pvs).
        type: str
      xd_reconfigure:
        description:
          - Parameters of C(XenDesktopVdaSetup.exe /reconfigure), run by the compositing engine.
          - The reference lists C(controllers) (Delivery Controller FQDNs separated by spaces), C(portnumber) (1-65535)
            and C(enable_hdx_ports) (true or false); other names the VDA installer accepts pass through.
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description: The parameter name, for example C(controllers).
            type: str
            required: true
          value:
            description: The parameter value.
            type: str
            required: true
  domain_unjoin:
    description:
      - Remove the image from its Active Directory domain while preparing it.
    type: bool
  md5_hash:
    description:
      - The MD5 hash of the uploaded disk; the job checks the disk against it before preparing.
    type: str
"""

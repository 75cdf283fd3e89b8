# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The SMB share a job writes to or reads from.
    DOCUMENTATION = r"""
options:
  smb:
    description:
      - The SMB share location the job uses, reached by the Connector Appliance.
    type: dict
    suboptions:
      location:
        description:
          - The folder as C(smb://host/share/path/). No user name in it; the account comes from O(smb.credential_id).
        type: str
        required: true
      credential_id:
        description:
          - The credential wallet id of the SMB account (type C(username_password)).
        type: str
        required: true
"""

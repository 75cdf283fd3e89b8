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
          - Required with C(backend=cloud). The appliance writes to the share of its Windows File Share connector, so with
            C(backend=appliance) the smb dict serves only the module's own look for an existing output (O(smb.username)).
        type: str
      username:
        description:
          - Optional. A user that may read O(smb.location), used only by the module itself to look, read-only, for
            an existing output file when the service no longer knows the job (it keeps jobs 24 hours). If the file is
            there, the task reports C(changed=false) and submits nothing.
          - Never sent in the job; the job uses O(smb.credential_id). Without it the service decides about an existing
            output (it refuses to replace one unless O(force=true)).
          - Used by M(citrix_community.ips.ips_export), M(citrix_community.ips.ips_publish) and
            M(citrix_community.ips.ips_pvs_image) (with an C(output_name) other than C(input_name)). Needs the
            C(smbprotocol) Python library on the host that runs the task.
        type: str
      password:
        description:
          - The password of O(smb.username).
        type: str
      domain:
        description:
          - The domain of O(smb.username), if it has one.
        type: str
      port:
        description:
          - The SMB port for the module's own look for an existing output (the service always uses 445).
        type: int
        default: 445
"""

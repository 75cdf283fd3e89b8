#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ips_disk_info
short_description: Describe a VHD or VHDX image before an upload
version_added: 0.1.0
description:
  - Reads the headers and allocation table of a VHD or VHDX (local path or SMB share) and returns its format,
    virtual size, allocated bytes and the sizes each cloud target will use - what Citrix's C(Get-VhdSize) gives and more.
  - With O(scan=true) it also reads every allocated byte once and counts the non-zero ones (4 KiB granularity),
    the bytes an upload really sends.
  - The file is opened read-only and never modified.
author:
  - citrix_community.ips maintainers (@citrix-community)
extends_documentation_fragment:
  - citrix_community.ips.disk_source
attributes:
  check_mode:
    support: full
    description: Can run in check_mode and return changed status prediction without modifying target.
    details:
      - The module only reads, so it runs the same in check mode.
  diff_mode:
    support: none
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
options:
  scan:
    description:
      - Read the allocated data and count the non-zero bytes. This is slow for big images, as it reads what an upload reads.
    type: bool
    default: false
seealso:
  - module: citrix_community.ips.ips_upload
"""

EXAMPLES = r"""
- name: Size an image on a share before uploading it
  citrix_community.ips.ips_disk_info:
    source:
      location: smb://fs01.example.com/images/base.vhdx
      username: EXAMPLE\svc-images
      password: "{{ vault_smb_password }}"
  register: disk

- name: Show what Azure will need
  ansible.builtin.debug:
    msg: "{{ disk.format }} {{ disk.subformat }}: {{ disk.virtual_size }} bytes, Azure disk {{ disk.azure_upload_size }} bytes"
"""

RETURN = r"""
format:
  description: V(vhd) or V(vhdx).
  returned: always
  type: str
  sample: "vhdx"
subformat:
  description: V(fixed) or V(dynamic).
  returned: always
  type: str
  sample: "dynamic"
virtual_size:
  description: Bytes of the virtual disk.
  returned: always
  type: int
  sample: 136365211648
file_size:
  description: Bytes of the image file.
  returned: always
  type: int
  sample: 24763170816
allocated_bytes:
  description: Bytes the image stores (what an upload reads).
  returned: always
  type: int
  sample: 24696061952
allocated_percent:
  description: RV(allocated_bytes) in percent of the virtual size.
  returned: always
  type: float
  sample: 18.11
extent_count:
  description: Runs of stored data in the allocation map.
  returned: always
  type: int
  sample: 412
nonzero_bytes:
  description: Non-zero bytes of the allocated data, at 4 KiB granularity (O(scan=true)); otherwise the allocated bytes, an upper bound.
  returned: always
  type: int
  sample: 21474836480
nonzero_exact:
  description: Whether RV(nonzero_bytes) was counted (O(scan=true)) or is the allocated-bytes estimate.
  returned: always
  type: bool
  sample: true
logical_sector_size:
  description: 512 or 4096.
  returned: always
  type: int
  sample: 512
physical_sector_size:
  description: 512 or 4096.
  returned: always
  type: int
  sample: 4096
block_size:
  description: Allocation block size of a dynamic image (VHDX also fixed); null for a fixed VHD.
  returned: always
  type: int
  sample: 33554432
unique_id:
  description: The image's id (VHD footer unique id, VHDX virtual disk id).
  returned: always
  type: str
  sample: "b4ab1c1e-2b4f-594e-8478-b01ab8a2bb30"
fingerprint:
  description: The source fingerprint ips_upload tags its targets with.
  returned: always
  type: str
  sample: "e5f6c55dc3bba08cf7ef1ad15f67d1567d10afb8"
azure_upload_size:
  description: uploadSizeBytes of an Azure managed disk for this image (virtual size rounded up to a MiB, plus the 512-byte footer).
  returned: always
  type: int
  sample: 136365212160
azure_compatible:
  description: Whether a standard Azure disk (512-byte sectors) can take the image.
  returned: always
  type: bool
  sample: true
aws_volume_size_gib:
  description: The EBS snapshot/volume size in GiB.
  returned: always
  type: int
  sample: 127
gcp_disk_size_gib:
  description: The size of disk.raw in GiB for a GCP image.
  returned: always
  type: int
  sample: 127
"""

from ansible_collections.citrix_community.ips.plugins.module_utils.ips_module import IPSModule
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.options import SOURCE_SPEC, open_disk


def main(m):
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.info import describe

    src, image = open_disk(m.params["source"])
    try:
        info = describe(image, scan=m.params["scan"])
    finally:
        src.close()
    m.exit(changed=False, **info)


if __name__ == "__main__":
    IPSModule(dict(source=SOURCE_SPEC, scan=dict(type="bool", default=False)), auth=False, supports_check_mode=True).run(main)

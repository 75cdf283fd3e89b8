# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ips_disk_info returns about an image: geometry, allocation, target sizes, optional non-zero count."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.citrix_community.ips.plugins.module_utils._disk.footer import azure_upload_size
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.base import fingerprint
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.pipeline import ZERO
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.plan import GIB, MIB, ceil_div

PAGE = 4096
SCAN_READ = 8 * MIB


def count_nonzero(image, read_size=SCAN_READ):
    """Non-zero bytes of the stored data, counted in 4 KiB pages (each allocated byte read once, in file order)."""
    buf = bytearray(read_size)
    total = 0
    for ext in image.extents():
        pos = 0
        while pos < ext.length:
            n = min(read_size, ext.length - pos)
            view = memoryview(buf)[:n]
            got = image.source.readinto_at(ext.file_offset + pos, view)
            view = view[:got]
            for off in range(0, got, PAGE):
                page = view[off:off + PAGE]
                if not ZERO.startswith(page):
                    total += len(page)
            if got < n:
                break
            pos += n
    return total


def describe(image, scan=False):
    allocated = image.allocated_bytes
    info = {
        "location": image.name,
        "format": image.format,
        "subformat": image.subformat,
        "virtual_size": image.virtual_size,
        "file_size": image.source.size,
        "allocated_bytes": allocated,
        "allocated_percent": round(100.0 * allocated / image.virtual_size, 2) if image.virtual_size else 0.0,
        "extent_count": image.extent_count,
        "logical_sector_size": image.logical_sector_size,
        "physical_sector_size": image.physical_sector_size,
        "block_size": image.block_size,
        "unique_id": image.unique_id,
        "fingerprint": fingerprint(image.identity),
        "azure_upload_size": azure_upload_size(image.virtual_size),
        "azure_compatible": image.logical_sector_size == 512,
        "aws_volume_size_gib": max(1, ceil_div(image.virtual_size, GIB)),
        "gcp_disk_size_gib": max(1, ceil_div(image.virtual_size, GIB)),
        "nonzero_bytes": allocated,
        "nonzero_exact": False,
    }
    if scan:
        info["nonzero_bytes"] = count_nonzero(image)
        info["nonzero_exact"] = True
    return info

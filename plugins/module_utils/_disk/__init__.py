# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Disk-image readers: open a VHD or VHDX from a byte source and get its allocation map.

    image = open_image(source)          # source: has .size and .read_at(offset, length)
    image.format, image.subformat       # 'vhd' | 'vhdx', 'fixed' | 'dynamic'
    for extent in image.extents():      # Extent(virtual_offset, length, file_offset), file order
        data = image.read_extent(extent)

Every problem with the file raises DiskFormatError (one line: the file, the problem, the fix).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.citrix_community.ips.plugins.module_utils._disk.errors import RECOPY, DiskFormatError
from ansible_collections.citrix_community.ips.plugins.module_utils._disk.image import DiskImage, Extent, read_exact
from ansible_collections.citrix_community.ips.plugins.module_utils._disk.vhd import VhdImage
from ansible_collections.citrix_community.ips.plugins.module_utils._disk.vhdx import FILE_SIGNATURE, VhdxImage

__all__ = ["DiskFormatError", "DiskImage", "Extent", "VhdImage", "VhdxImage", "open_image"]


def open_image(source, skip_file_holes=True):
    """A DiskImage (VhdImage or VhdxImage) for the VHD/VHDX whose bytes `source` serves.

    The metadata and the whole allocation table are read and checked here, so a damaged file
    fails now rather than halfway through an upload. skip_file_holes: cut the extents to the
    source's data ranges when the source can report them (a sparse local file).
    """
    name = getattr(source, "name", None) or "disk image"
    if source.size < 512 - 1:
        raise DiskFormatError(name, "the file is %d bytes, too small to be a VHD or VHDX" % source.size, "check the path, or " + RECOPY)
    if source.size >= len(FILE_SIGNATURE) and read_exact(source, 0, len(FILE_SIGNATURE), "file identifier") == FILE_SIGNATURE:
        return VhdxImage(source, skip_file_holes)
    return VhdImage(source, skip_file_holes)

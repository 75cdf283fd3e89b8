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
        foreign = foreign_format(read_exact(source, 0, source.size, "file header")) if source.size else None
        if foreign:
            raise foreign_error(name, foreign)
        raise DiskFormatError(name, "the file is %d bytes, too small to be a VHD or VHDX" % source.size, "check the path, or " + RECOPY)
    if source.size >= len(FILE_SIGNATURE) and read_exact(source, 0, len(FILE_SIGNATURE), "file identifier") == FILE_SIGNATURE:
        return VhdxImage(source, skip_file_holes)
    try:
        return VhdImage(source, skip_file_holes)
    except DiskFormatError as err:
        if not err.problem.startswith("not a VHD or VHDX file"):
            raise
        foreign = foreign_format(read_exact(source, 0, min(source.size, 1024), "file header"))
        if foreign is None:
            raise
        raise foreign_error(name, foreign)


def foreign_error(name, what):
    convert = "convert it first (qemu-img convert -O vhdx -o subformat=dynamic SOURCE TARGET.vhdx)"
    if what.startswith("a raw disk image"):  # a fixed VHD is raw data and a footer: without the footer they look alike
        return DiskFormatError(name, "this is %s" % what, "if it is a raw disk, %s; if it was a VHD, %s" % (convert, RECOPY))
    return DiskFormatError(name, "this is %s, not a VHD or VHDX" % what,
                           convert + ", or export the disk from its platform with ips_export, which writes a VHD or VHDX")


# Other disk formats, recognised by their first bytes, so a wrong file is named rather than called damaged.
FOREIGN = (
    (0, b"KDMV", "a VMDK image (VMware sparse extent)"),
    (0, b"# Disk DescriptorFile", "a VMDK descriptor (VMware; the data is in the extent files it names)"),
    (0, b"COWD", "a VMDK image (ESX sparse extent)"),
    (0, b"QFI\xfb", "a qcow2 image (QEMU)"),
    (64, b"\x7f\x10\xda\xbe", "a VDI image (VirtualBox)"),
    (512, b"EFI PART", "a raw disk image, or a fixed VHD cut short (a GPT partition table at its start and no VHD footer)"),
    (510, b"\x55\xaa", "a raw disk image, or a fixed VHD cut short (an MBR at its start and no VHD footer)"),
)


def foreign_format(head):
    """What other disk format the first bytes of a file show, or None."""
    for offset, magic, what in FOREIGN:
        if head[offset:offset + len(magic)] == magic:
            return what
    return None

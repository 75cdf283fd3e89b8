"""The lab's own check of a fixed-VHD footer (VHD spec v1.0), as Azure applies it at endGetAccess.

Never shared with the collection: the lab and the uploader must each read the spec themselves,
or one wrong reading would pass both sides.
"""

import struct

COOKIE = b"conectix"
FOOTER_SIZE = 512
DISK_TYPE_FIXED = 2
DISK_TYPES = {2: "fixed", 3: "dynamic", 4: "differencing"}


def checksum(footer):
    """One's complement of the byte sum of the footer with its checksum field (64..67) zeroed."""
    data = bytearray(footer)
    data[64:68] = b"\0\0\0\0"
    return (~sum(data)) & 0xFFFFFFFF


def problem(footer, disk_name, blob_url, upload_size):
    """None if `footer` (the disk's last 512 bytes) is a valid fixed-VHD footer for a disk created
    with uploadSizeBytes=`upload_size`, else the message Azure would give (InvalidVhd)."""
    if len(footer) != FOOTER_SIZE:
        return "Disk '%s' with blob %s is too small to hold a VHD footer." % (disk_name, blob_url)
    if footer[0:8] != COOKIE:
        return ("The specified cookie value in VHD footer indicates that disk '%s' with blob %s is not a supported VHD. "
                "Disk is expected to have cookie value 'conectix'." % (disk_name, blob_url))
    stored = struct.unpack(">I", footer[64:68])[0]
    if stored != checksum(footer):
        return ("The VHD footer of disk '%s' with blob %s has checksum 0x%08x but its content sums to 0x%08x; "
                "the footer is corrupt." % (disk_name, blob_url, stored, checksum(footer)))
    disk_type = struct.unpack(">I", footer[60:64])[0]
    if disk_type != DISK_TYPE_FIXED:
        return ("The VHD footer of disk '%s' with blob %s has disk type %d (%s); only fixed VHDs (disk type 2) can be "
                "uploaded to a managed disk." % (disk_name, blob_url, disk_type, DISK_TYPES.get(disk_type, "unknown")))
    current_size = struct.unpack(">Q", footer[48:56])[0]
    expected = upload_size - FOOTER_SIZE
    if current_size != expected:
        return ("The VHD footer of disk '%s' with blob %s gives a current size of %d bytes, but the disk was created with "
                "uploadSizeBytes %d, so the VHD must be %d bytes plus the 512-byte footer."
                % (disk_name, blob_url, current_size, upload_size, expected))
    return None

# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight of the upload: the controller can read the source image (the reader behind ips_disk_info),
and the image's size is allowed for the target's disk type.

Sizes are the image's virtual size. The limits are the clouds' documented maximums (flag beside each).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.citrix_community.ips.plugins.module_utils._preflight import MISSING, OK, could_not_check, item, size_text

GIB = 1024 ** 3
# (platform, disk type or None for any) -> (max bytes, provenance)
SIZE_LIMITS = {
    ("azure", None): (32767 * GIB, "seen"),  # managed disks: 32 TiB minus 1 GiB (createOption Upload)
    ("azure", "UltraSSD_LRS"): (65536 * GIB, "seen"),
    ("azure", "PremiumV2_LRS"): (65536 * GIB, "seen"),
    ("aws", None): (65536 * GIB, "seen"),  # EBS direct StartSnapshot VolumeSize
    ("gcp", None): (65536 * GIB, "inferred"),  # the largest persistent disk an image can make
}


def size_item(platform, disk_type, size_bytes, where):
    """The target-size item for an image of `size_bytes`."""
    name = "target size allowed"
    limit, flag = SIZE_LIMITS.get((platform, disk_type)) or SIZE_LIMITS.get((platform, None)) or (None, None)
    if size_bytes is None:
        return item(name, OK, "the image's size is known only after the export; %s takes up to %s GiB%s" % (
            platform, limit // GIB if limit else "?", " (%s)" % disk_type if disk_type else ""), scope=where)
    if limit is None:
        return item(name, OK, "no documented size limit for %s" % platform, scope=where)
    if size_bytes > limit:
        return item(name, MISSING, "the image is %s; %s%s takes at most %d GiB" % (
            size_text(size_bytes), platform, " %s" % disk_type if disk_type else "", limit // GIB),
            "shrink the source disk, or choose a disk type that takes it (Azure: UltraSSD_LRS or PremiumV2_LRS)", where)
    kind = " %s" % disk_type if disk_type else ""
    note = "" if flag == "seen" else " (limit inferred)"
    return item(name, OK, "%s <= %d GiB for %s%s%s" % (size_text(size_bytes), limit // GIB, platform, kind, note), scope=where)


def check_source(source):
    """(item, virtual size or None): the controller opens and reads the image's headers and allocation table."""
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.options import open_disk

    name = "upload source readable"
    where = source.get("location")
    try:
        src, image = open_disk(dict(dict(connections=1, port=445), **source))
    except Exception as exc:  # pylint: disable=broad-except
        secrets = [source.get("password")]
        if type(exc).__name__ in ("SourceError", "DiskFormatError"):
            # the source is not there, not readable by this user, or not an image the upload can read
            return dict(could_not_check(name, exc, "fix the location, the controller's access to it, or convert the image "
                                        "(ips_disk_info tells what it is)", where, secrets), status=MISSING), None
        return could_not_check(name, exc, "check the location and that the controller's user may read it", where, secrets), None
    try:
        size = image.virtual_size
        return item(name, OK, "readable, %s virtual" % size_text(size), scope=where), size
    finally:
        src.close()

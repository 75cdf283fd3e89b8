"""Small real images (qemu-img) and the byte-level damage the disk-corruption cases do to copies of them."""

import shutil
import struct
import subprocess
import uuid

from ansible_collections.citrix_community.ips.plugins.module_utils._disk import open_image
from ansible_collections.citrix_community.ips.plugins.module_utils._disk.footer import CHECKSUM_OFFSET, FOOTER_STRUCT, vhd_checksum
from ansible_collections.citrix_community.ips.plugins.module_utils._disk.vhd import DYN_STRUCT
from ansible_collections.citrix_community.ips.plugins.module_utils._disk.vhdx import METADATA_ENTRY
from ansible_collections.citrix_community.ips.plugins.module_utils._sources import LocalFileSource

MIB = 1024 * 1024
SIZE = 8 * MIB
FORMATS = {"dynamic.vhd": ("vpc", "subformat=dynamic,force_size=on"), "fixed.vhd": ("vpc", "subformat=fixed,force_size=on"),
           "dynamic.vhdx": ("vhdx", "subformat=dynamic,block_size=1M"), "fixed.vhdx": ("vhdx", "subformat=fixed,block_size=1M")}
# footer field -> index in FOOTER_STRUCT
FIELD = {"data_offset": 3, "current_size": 9, "original_size": 8, "disk_type": 13, "version": 2}


def make_images(folder):
    """name -> path of each small image (data in its first, third and last MiB), plus foreign formats."""
    raw = folder / "src.raw"
    with open(raw, "wb") as f:
        f.truncate(SIZE)
        for at in (0, 2 * MIB + 4096, SIZE - 8192):
            f.seek(at)
            f.write(bytes(range(1, 256)) * 32)
    out = {}
    for name, (fmt, options) in FORMATS.items():
        out[name] = folder / name
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", fmt, "-o", options, str(raw), str(out[name])], check=True, capture_output=True)
    for fmt in ("qcow2", "vmdk", "vdi"):
        out[fmt] = folder / ("x." + fmt)
        subprocess.run(["qemu-img", "create", "-f", fmt, str(out[fmt]), "8M"], check=True, capture_output=True)
    out["raw"] = raw
    return out


def copy(images, name, dest):
    shutil.copyfile(images[name], dest)
    return dest


def write_at(path, offset, data):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def read_at(path, offset, length):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(length)


def file_size(path):
    with open(path, "rb") as f:
        return f.seek(0, 2)


def opened(path):
    """open_image on a local file (the caller catches DiskFormatError)."""
    with LocalFileSource(str(path)) as src:
        image = open_image(src)
        extents = list(image.extents())
        return image, extents


# -- VHD --

def vhd_set_footer(path, dynamic, **fields):
    """Rewrite footer fields (and the copy at 0 of a dynamic VHD) with a valid checksum, so only the values are wrong."""
    size = file_size(path)
    for at in ((0, size - 512) if dynamic else (size - 512,)):
        footer = bytearray(read_at(path, at, 512))
        values = list(FOOTER_STRUCT.unpack_from(footer, 0))
        for name, value in fields.items():
            values[FIELD[name]] = value
        FOOTER_STRUCT.pack_into(footer, 0, *values)
        struct.pack_into(">I", footer, CHECKSUM_OFFSET, 0)
        struct.pack_into(">I", footer, CHECKSUM_OFFSET, vhd_checksum(footer))
        write_at(path, at, bytes(footer))


def vhd_layout(path):
    """(dynamic header offset, BAT offset, max entries) of a dynamic VHD."""
    footer = read_at(path, 0, 512)
    data_offset = FOOTER_STRUCT.unpack_from(footer, 0)[3]
    _cookie, _d, table, _v, entries, _bs, _c = DYN_STRUCT.unpack_from(read_at(path, data_offset, 1024), 0)
    return data_offset, table, entries


def vhd_set_bat(path, block, sector):
    _dyn, table, _n = vhd_layout(path)
    write_at(path, table + 4 * block, struct.pack(">I", sector))


def vhd_bat(path, block):
    _dyn, table, _n = vhd_layout(path)
    return struct.unpack(">I", read_at(path, table + 4 * block, 4))[0]


# -- VHDX --

def vhdx_layout(path):
    with LocalFileSource(str(path)) as src:
        image = open_image(src)
        return dict(bat=image.bat_offset, bat_len=image.bat_length, meta=image.metadata_offset, meta_len=image.metadata_length,
                    log=image.log_offset, log_len=image.log_length)


def vhdx_set_bat(path, index, mib, state=6):
    write_at(path, vhdx_layout(path)["bat"] + 8 * index, struct.pack("<Q", (mib << 20) | state))


def vhdx_bat(path, index):
    return struct.unpack("<Q", read_at(path, vhdx_layout(path)["bat"] + 8 * index, 8))[0]


def vhdx_patch_item(path, item, data, at=0):
    """Overwrite bytes of a metadata item (the metadata region has no checksum)."""
    base = vhdx_layout(path)["meta"]
    table = read_at(path, base, 64 * 1024)
    for i in range(struct.unpack_from("<H", table, 10)[0]):
        guid, offset, _length, _flags = METADATA_ENTRY.unpack_from(table, 32 + 32 * i)
        if uuid.UUID(bytes_le=guid) == item:
            write_at(path, base + offset + at, data)
            return
    raise AssertionError("no item %s" % item)

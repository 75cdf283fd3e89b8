# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CRC-32C (Castagnoli), table driven, pure Python.

VHDX protects its headers, region tables and log entries with CRC-32C. Those are a few KiB to
64 KiB each, so a byte-at-a-time table is plenty; payload data is never checksummed here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

_POLY = 0x82F63B78  # reflected Castagnoli polynomial


def _make_table():
    table = []
    for n in range(256):
        c = n
        for _bit in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        table.append(c)
    return tuple(table)


_TABLE = _make_table()


def crc32c(data, crc=0):
    """CRC-32C of `data` (bytes-like), continuing from `crc` (the result of a previous call)."""
    table = _TABLE
    crc ^= 0xFFFFFFFF
    for byte in bytearray(data):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF

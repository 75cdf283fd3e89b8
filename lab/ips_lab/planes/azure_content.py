"""Put Page's transactional content hashes, checked as Azure Blob storage checks them.

A Put Page may carry `Content-MD5` (base64 of the body's MD5) and/or `x-ms-content-crc64` (base64 of the
body's CRC-64, 8 bytes little-endian). When one is present and does not match the body Azure stores
nothing and answers 400 with the error code Md5Mismatch or Crc64Mismatch (seen: Azure Storage error codes
reference; the CRC-64 variant, CRC-64/NVME, is inferred from the storage SDK's checksum extension). A value
that is not base64 of the right length is 400 InvalidHeaderValue. Azurite checks neither, so the plane does.
"""

import base64
import binascii
import hashlib

_CRC64_POLY = 0x9A6C9329AC4BC9B5  # reflected form of CRC-64/NVME's polynomial


def _crc64_table():
    table = []
    for n in range(256):
        c = n
        for _bit in range(8):
            c = (c >> 1) ^ _CRC64_POLY if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc64_table()


def crc64(data, crc=0):
    """CRC-64/NVME of `data` (init and final xor all ones), continuing from `crc`."""
    table = _TABLE
    crc ^= 0xFFFFFFFFFFFFFFFF
    for byte in bytes(data):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFFFFFFFFFF


def _decoded(value, length):
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == length else None


def content_problem(headers, body):
    """None when the body matches the hashes the request carries, else (status, code, message, header)."""
    md5 = headers.get("content-md5")
    if md5 is not None:
        expected = _decoded(md5, 16)
        if expected is None:
            return 400, "InvalidHeaderValue", "The value for one of the HTTP headers is not in the correct format.", "Content-MD5"
        actual = hashlib.md5(body).digest()  # nosec - Azure's transactional hash, not security
        if actual != expected:
            return (400, "Md5Mismatch", "The MD5 value specified in the request did not match with the MD5 value calculated by the "
                    "server.\nUserSpecifiedMd5:%s\nServerCalculatedMd5:%s" % (md5.strip(), base64.b64encode(actual).decode("ascii")),
                    "Content-MD5")
    crc = headers.get("x-ms-content-crc64")
    if crc is not None:
        expected = _decoded(crc, 8)
        if expected is None:
            return 400, "InvalidHeaderValue", "The value for one of the HTTP headers is not in the correct format.", "x-ms-content-crc64"
        actual = crc64(body).to_bytes(8, "little")
        if actual != expected:
            return (400, "Crc64Mismatch", "The CRC64 value specified in the request did not match with the CRC64 value calculated by "
                    "the server.\nUserSpecifiedCrc64:%s\nServerCalculatedCrc64:%s" % (crc.strip(), base64.b64encode(actual).decode("ascii")),
                    "x-ms-content-crc64")
    return None

# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep glibc's malloc from holding freed upload buffers in per-thread arenas.

An upload runs about a dozen threads (readers, senders, smbprotocol's receiver per SMB lane, a
helper per SMB call) that pass multi-MiB messages between them: smbprotocol allocates every 4 MiB
read response (and two copies of it) in its receiver thread, another thread frees it. glibc gives
each thread its own arena (up to 8 per core) and, once the first big block was freed, serves
such blocks from the arenas instead of mmap; freed space stays in the arena that made it. In the
benchmark that was ~80 MiB of the uploader's peak RSS over what Python itself held (tracemalloc).

`limit_arenas()` sets M_ARENA_MAX to 2 for *this* process only (mallopt, like MALLOC_ARENA_MAX=2),
before the upload starts its threads. The module runs in its own short-lived process, so nothing
else is affected; on other C libraries it does nothing. Our own buffers are not the issue (they
come from one fixed pool and are reused); this is for the allocations inside the SDKs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

M_ARENA_MAX = -8  # glibc malloc.h
ARENAS = 2


def limit_arenas(arenas=ARENAS):
    """mallopt(M_ARENA_MAX, arenas) on glibc; True if it was set."""
    try:
        import ctypes
        import ctypes.util
        import platform
        if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
            return False
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, int(arenas)))
    except Exception:  # pylint: disable=broad-except
        return False

# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan an upload: the image's extents (file order) cut into reads and target units.

A target writes in fixed units of the virtual disk: Azure 4 MiB windows (sent as Put Pages of the
non-zero 512-byte aligned runs inside), EBS 512 KiB blocks. The plan says which units hold stored
data and how many stored bytes each holds (`coverage`), so a unit whose stored bytes arrive in
several pieces is emitted once all of them are in. Reads follow the file: each extent is cut at
virtual multiples of `read_size` (a multiple of the unit), so the SMB share is read forward in
large requests and each allocated byte is read once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

# One read: `length` bytes at `file_offset` of the image file, landing at `virtual_offset`.
Read = namedtuple("Read", ["file_offset", "length", "virtual_offset"])


def ceil_div(a, b):
    return -(-a // b)


class Plan(object):
    """Reads (file order) and per-unit stored-byte coverage for one image and one unit size.

    done: unit indexes already acknowledged by the target (a resumed upload); their bytes are
    neither read nor sent again.
    """

    def __init__(self, image, unit_size, read_size=8 * MIB, done=None, limit=None):
        if read_size % unit_size:
            read_size = max(1, read_size // unit_size) * unit_size
        self.unit_size = unit_size
        self.read_size = read_size
        self.limit = limit if limit is not None else image.virtual_size
        self.coverage = {}
        self.reads = []
        done = done or set()
        self.skipped_units = set()
        for ext in image.extents():
            voff, length, foff = ext.virtual_offset, ext.length, ext.file_offset
            end = min(voff + length, self.limit)
            while voff < end:
                stop = min(end, (voff // read_size + 1) * read_size)
                self._add_read(voff, stop, foff, done)
                foff += stop - voff
                voff = stop
        self.units = len(self.coverage)
        self.bytes_to_read = sum(r.length for r in self.reads)

    def _add_read(self, vstart, vstop, fstart, done):
        unit = self.unit_size
        # split the read around units already done, counting coverage per unit
        run_start = None
        pos = vstart
        while pos < vstop:
            idx = pos // unit
            upto = min(vstop, (idx + 1) * unit)
            if idx in done:
                self.skipped_units.add(idx)
                if run_start is not None:
                    self.reads.append(Read(fstart + run_start - vstart, pos - run_start, run_start))
                    run_start = None
            else:
                self.coverage[idx] = self.coverage.get(idx, 0) + (upto - pos)
                if run_start is None:
                    run_start = pos
            pos = upto
        if run_start is not None:
            self.reads.append(Read(fstart + run_start - vstart, vstop - run_start, run_start))


def plan_summary(image, unit_size, target_size, done_units=0):
    """What check mode reports: bytes to read, an upper bound of bytes to send, the target size."""
    plan = Plan(image, unit_size)
    return {
        "bytes_to_read": plan.bytes_to_read,
        "bytes_to_send_max": plan.units * unit_size,
        "units": plan.units,
        "unit_size": unit_size,
        "target_size": target_size,
        "virtual_size": image.virtual_size,
        "allocated_bytes": image.allocated_bytes,
    }

# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Zero runs inside stored data, at 512-byte granularity: what a target leaves out.

Azure sends the runs as Put Pages; GCP lists them in the sparse map of its tar archive. Both send at
most `OVERHEAD` (1 %) of zeros beyond the non-zero sectors (issue 18: bytes sent <= non-zero bytes +
format overhead + 1 %).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.citrix_community.ips.plugins.module_utils._upload.pipeline import ZERO

SCAN = 64 * 1024
OVERHEAD = 0.01  # zeros sent to save a request or a sparse-map entry: at most 1 % of the data
SECTOR = 512


def _nonzero_sectors(view, start, end, runs):
    """Append the (start, end) runs of non-zero 512-byte sectors of view[start:end] to `runs` (merging with the last)."""
    pos = start
    while pos < end:
        stop = min(pos + SECTOR, end)
        if not ZERO.startswith(view[pos:stop]):
            if runs and runs[-1][1] == pos:
                runs[-1][1] = stop
            else:
                runs.append([pos, stop])
        pos = stop


def nonzero_runs(view, base=0, scan=SCAN, overhead=OVERHEAD, max_run=None):
    """(start, end) of the non-zero 512-byte sectors of `view` (offsets + base), as few runs as the overhead allows.

    A 64 KiB step is checked whole first (one memcmp); only a non-zero step that holds a zero sector anywhere
    (one bytes.find) is looked at sector by sector, so dense data costs two C calls per step. Zero gaps between
    runs are bridged (one run instead of two) while the zeros kept stay within `overhead` of the data, and a run
    never grows past `max_run` bytes (Azure: Put Page's largest body).
    """
    runs = []
    n = len(view)
    pos = 0
    zero_sector = ZERO[:SECTOR]
    while pos < n:
        step = min(scan, n - pos)
        part = view[pos:pos + step]
        if not ZERO.startswith(part):
            if step % SECTOR == 0 and bytes(part).find(zero_sector) < 0:
                if runs and runs[-1][1] == pos:
                    runs[-1][1] = pos + step
                else:
                    runs.append([pos, pos + step])
            else:
                _nonzero_sectors(view, pos, pos + step, runs)
        pos += step
    data = sum(e - s for s, e in runs)
    budget = int(data * overhead)
    merged = []
    for start, end in runs:
        if merged and start - merged[-1][1] <= budget and (max_run is None or end - merged[-1][0] <= max_run):
            budget -= start - merged[-1][1]
            merged[-1][1] = end
        else:
            merged.append([start, end])
    return [(base + s, base + e) for s, e in merged]

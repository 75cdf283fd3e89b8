"""The progress file's figures: a resumed upload counts what its journal had done (done / total right, not
"0.0 of 0.0 MiB"), the rate is measured over a window and ignores the resumed bytes, and a rate_limit is shown."""

import json

from ansible_collections.citrix_community.ips.plugins.action.ips_upload_wait import progress_line
from ansible_collections.citrix_community.ips.plugins.module_utils._upload.progress import RATE_WINDOW, Progress

MIB = 1048576


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_resumed_upload_counts_the_journal_as_done_but_not_in_the_rate(tmp_path):
    clock = Clock()
    path = tmp_path / "p.json"
    progress = Progress(str(path), target="azure", heartbeat=0, clock=clock)
    progress.total = 100 * MIB
    progress.resume(60 * MIB)
    clock.now += 10
    progress.add(done=10 * MIB)
    snap = progress.snapshot()
    assert (snap["bytes_done"], snap["bytes_total"], snap["percent"]) == (70 * MIB, 100 * MIB, 70.0)
    assert snap["rate_mib_s"] == 1.0  # 10 MiB in 10 s, not 70 MiB in 10 s
    assert snap["eta_seconds"] == 30
    progress.write(force=True)
    assert "70.0 of 100.0 MiB, 1.0 MiB/s, eta 30 s" in progress_line("azure d", json.loads(path.read_text()))


def test_the_rate_is_the_last_window_not_the_average_since_the_start():
    clock = Clock()
    progress = Progress(None, total=1000 * MIB, heartbeat=0, clock=clock)
    for _second in range(60):  # a fast minute: 8 MiB/s
        clock.now += 1
        progress.add(done=8 * MIB)
        progress.snapshot()
    for _second in range(int(RATE_WINDOW) + 5):  # then throttled to 1 MiB/s
        clock.now += 1
        progress.add(done=MIB)
        progress.snapshot()
    assert 0.9 <= progress.snapshot()["rate_mib_s"] <= 1.3


def test_the_limit_is_shown_beside_the_rate(tmp_path):
    clock = Clock()
    path = tmp_path / "p.json"
    progress = Progress(str(path), total=100 * MIB, heartbeat=0, rate_limit=8 * MIB, clock=clock)
    clock.now += 2
    progress.add(done=16 * MIB)
    progress.write(force=True)
    snap = json.loads(path.read_text())
    assert snap["rate_limit_mib_s"] == 8.0
    assert "16.0 of 100.0 MiB, 8.0 MiB/s (limit 8.0 MiB/s)" in progress_line("azure d", snap)

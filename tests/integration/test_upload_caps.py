"""An upload against the Azure plane with the disk's upload cap on (planes/caps.py, `disk_upload_cap`): the plane
refuses every Put Page beyond the cap with 503 ServerBusy and Retry-After, the module waits what it was told (not its
own shorter back-off), and the disk is still byte-exact. The throttled requests are counted at the plane."""

import shutil
import uuid
from pathlib import Path

from ips_lab.common.admin import LabAdmin as PlaneAdmin

from test_upload_modules import MIB, azure_opts, check_azure, make_image, run_module

CAP = 1 * MIB  # bytes per second: the test image's ~4 MiB of data take ~4 s


def assert_operations_end_on_time(requests):
    """After each of Azure's long-running operations (grant, revoke: a 202, then the operation's status until it is over)
    the upload's next request comes at once, not at the next whole second of its own wait (the module waited in steps
    of wait_interval, 1 s, however soon Azure said it was done: ~1 s more per grant and revoke of every upload)."""
    ops = [i for i, r in enumerate(requests) if r["method"] == "POST" and r["path"].endswith(("/beginGetAccess", "/endGetAccess"))]
    assert len(ops) >= 2, "no grant and revoke in the plane's log: %s" % [r["path"] for r in requests]
    for i in ops:
        polls = i + 1
        while polls < len(requests) and "/DiskOperations/" in requests[polls]["path"]:
            polls += 1
        assert polls < len(requests), "nothing came after %s" % requests[i]["path"]
        over, following = requests[polls - 1], requests[polls]
        gap = following["ts"] - over["ts"]
        assert gap < 0.5, "%s %s came %.2f s after Azure said %s was over" % (following["method"], following["path"], gap, requests[i]["path"])


def test_capped_upload_honours_retry_after_and_is_byte_exact(lab, lab_env, tmp_path):
    folder = Path(lab_env["IPS_LAB_SMB_EXPORT_DIR"]) / ("caps-" + uuid.uuid4().hex[:6])
    folder.mkdir()
    path, ref = make_image(folder, "dynamic.vhdx")
    name = "capped-" + uuid.uuid4().hex[:6]
    admin = PlaneAdmin.from_env(lab_env, "azure")
    admin.set_config(disk_upload_cap=CAP)
    admin.clear_requests()
    try:
        # one sender, so the plane sees each refused page's retry as the next Put Page
        result = run_module({"source": {"location": str(path)}, "target": "azure", "azure": azure_opts(lab_env, name), "concurrency": 1,
                             "journal_dir": str(tmp_path / "journal")}, tmp_path)
    finally:
        admin.set_config(disk_upload_cap=0)
    puts = [r for r in admin.requests() if r["method"] == "PUT" and r["path"].startswith("/md-impexp/")]
    refused = [r for r in puts if r["status"] == 503]
    assert refused, "the cap refused nothing: the test image outran a %d B/s cap" % CAP
    assert result["throttled"] == len(refused) and result["retries"] >= len(refused), result
    # every Retry-After the plane gives is at least 1 s (caps.retry_after); the upload's own back-off would retry
    # the first time within 0.5 s
    for before, after in zip(puts, puts[1:]):
        if before["status"] == 503:
            assert after["ts"] - before["ts"] >= 0.95, "a Put Page came %.2f s after a 503 with Retry-After" % (after["ts"] - before["ts"])
    accepted = sum(r["length"] for r in puts if r["status"] == 201)
    wall = puts[-1]["ts"] - puts[0]["ts"]
    assert accepted <= CAP * (wall + 1) + 4 * MIB, "the plane let %d bytes through in %.1f s at a cap of %d B/s" % (accepted, wall, CAP)
    check_azure(lab_env, name, ref)
    shutil.rmtree(str(folder), ignore_errors=True)


def test_rate_limit_counts_the_bytes_sent_not_the_zeros_of_a_sparse_window(lab, lab_env, tmp_path):
    """rate_limit paces the Put Pages by the bytes they carry: an image whose 4 MiB windows each hold 256 KiB of data
    (the rest zeros, stored in the file and read) goes at the rate of its 2 MiB of data, under the plane's cap at the
    same rate (nothing refused). Before, the whole window was charged: 32 MiB at 1 MiB/s, ~28 s."""
    import os
    import subprocess
    raw, path = tmp_path / "sparse-windows.raw", tmp_path / "sparse-windows.vhdx"
    with open(str(raw), "wb") as f:
        f.truncate(32 * MIB)
        for window in range(8):
            f.seek(window * 4 * MIB)
            f.write(os.urandom(256 * 1024))
    # -S 0: the zeros are written into the VHDX's blocks, so the upload reads them (no file holes to skip)
    subprocess.run(["qemu-img", "convert", "-S", "0", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic,block_size=1M", str(raw), str(path)],
                   check=True)
    name = "paced-" + uuid.uuid4().hex[:6]
    admin = PlaneAdmin.from_env(lab_env, "azure")
    admin.set_config(disk_upload_cap=CAP)
    admin.clear_requests()
    try:
        result = run_module({"source": {"location": str(path)}, "target": "azure", "azure": azure_opts(lab_env, name), "rate_limit": CAP / MIB,
                             "journal_dir": str(tmp_path / "journal")}, tmp_path)
    finally:
        admin.set_config(disk_upload_cap=0)
    requests = admin.requests()
    puts = [r for r in requests if r["method"] == "PUT" and r["path"].startswith("/md-impexp/")]
    assert not [r for r in puts if r["status"] == 503], "paced at the cap, the plane still refused pages"
    assert_operations_end_on_time(requests)
    assert result["bytes_read"] == 32 * MIB and result["bytes_sent"] == 2 * MIB + 512, result
    span = puts[-1]["ts"] - puts[0]["ts"]
    # 2 MiB at 1 MiB/s: ~1.75 s of pacing after the first page, less the rate limit's credit for the time before the
    # first page (at most 1 s); charging whole windows took ~28 s
    assert 0.7 <= span < 8, "the paced pages took %.1f s for 2 MiB at 1 MiB/s" % span
    check_azure(lab_env, name, str(raw))

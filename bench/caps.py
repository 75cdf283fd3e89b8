#!/usr/bin/env python
"""Uploads against the real per-disk cap (make bench, after the upload figures): the Azure plane's disk upload cap
switched on (lab/ips_lab/planes/caps.py, `disk_upload_cap`), a large sparse image uploaded to one disk, then to four
disks at once, each run measured against the time the cap allows: time / (non-zero bytes / cap).

The image: a dynamic VHDX of 256 GiB virtual whose block allocation table allocates 30 % of its 32 MiB blocks (77 GiB);
each allocated block holds a little non-zero data and the rest is a hole in the file, so the image takes about as much
disk as its non-zero data (--nonzero-mib, 512 MiB by default) and the module, reading the local file, skips the holes
(SEEK_DATA) and sends the non-zero bytes only. The cap is the disk's real tier (256 GiB + footer: Standard HDD S20,
60 MB/s, from the lab's own table) scaled down to --cap-mib-s (8 by default): this machine cannot push 77 GiB, and
four disks at 60 MB/s are beyond the lab's loopback ingest; the ratio is what counts, and the line says the scale.

Each module gets `rate_limit` at the cap (what docs/upload.md advises: pace at the tier's rate instead of provoking
503s); `cap_efficiency_unpaced` is the same upload without it, riding the plane's 503 ServerBusy and Retry-After.

Four disks at once get a smaller cap each (--disks-cap-mib-s, 4 by default): at 8 MiB/s each the four module processes
on the client core were bound by this machine's CPU, not by their caps (0 refused pages). The line gives each disk's ratio.

  bench/caps.py --env lab/run/env [--virtual-gib 256] [--nonzero-mib 512] [--cap-mib-s 8] [--disks-cap-mib-s 4] [--pin 1]

The last line printed is `key=value` figures (bench/run.sh appends them to the summary).
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import threading
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "lab"))

import bench  # noqa: E402  pylint: disable=wrong-import-position  # the upload bench's helpers: module runs, pinning, cleanup

MIB = 1024 * 1024
GIB = 1024 * MIB
BLOCK = 32 * MIB


def say(text):
    print(text, flush=True)


def build_image(folder, virtual, nonzero, seed=15):
    """The sparse dynamic VHDX (above); kept in `folder` for the next run when BENCH_KEEP_IMAGE=1."""
    image = folder / ("caps-%dg-%dm.vhdx" % (virtual // GIB, nonzero // MIB))
    if image.exists():
        return image
    rnd = random.Random(seed)
    chosen = sorted(rnd.sample(range(virtual // BLOCK), int(virtual // BLOCK * 0.30)))
    per = nonzero // len(chosen)
    per -= per % 4096
    pool = os.urandom(4 * MIB)  # cheap to generate: slices of one random pool, each stamped with its block number
    raw = folder / "caps.raw"
    with open(raw, "wb") as f:
        f.truncate(virtual)
        for b in chosen:
            f.seek(b * BLOCK + rnd.randrange(0, BLOCK - per, 4096))
            start = rnd.randrange(0, len(pool) - per)
            f.write(b.to_bytes(8, "little") + pool[start + 8:start + per])
    try:
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "vhdx", "-o", "subformat=dynamic,block_size=32M", str(raw), str(image)],
                       check=True)
    finally:
        os.unlink(str(raw))
    return image


def measure(image):
    """(virtual, allocated by the BAT, non-zero) bytes of the image (holes read as zeros, never read)."""
    from ansible_collections.citrix_community.ips.plugins.module_utils._disk import open_image
    from ansible_collections.citrix_community.ips.plugins.module_utils._sources import LocalFileSource
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.info import count_nonzero
    with LocalFileSource(str(image)) as src:
        bat = open_image(src, skip_file_holes=False).allocated_bytes
        img = open_image(src)
        return img.virtual_size, bat, count_nonzero(img)


def upload(env, image, name, work, rate_limit):
    """ips_upload of `image` (a local path) to a new Azure disk `name`: the bench's run_module result."""
    opts = {"subscription_id": env["IPS_LAB_AZURE_SUBSCRIPTION_ID"], "resource_group": env["IPS_LAB_AZURE_RESOURCE_GROUP"],
            "location": env["IPS_LAB_AZURE_LOCATION"], "tenant_id": env["IPS_LAB_AZURE_TENANT_ID"], "client_id": env["IPS_LAB_AZURE_CLIENT_ID"],
            "client_secret": env["IPS_LAB_AZURE_CLIENT_SECRET"], "authority": env["IPS_LAB_AZURE_AUTHORITY"],
            "arm_endpoint": env["IPS_LAB_AZURE_URL"], "ca_path": env["IPS_LAB_AZURE_CA_PATH"], "disk_name": name}
    folder = work / name
    folder.mkdir()
    return bench.run_module("azure", {"source": {"location": str(image)}, "target": "azure", "azure": opts, "journal_dir": str(folder / "journal"),
                                      "overwrite": "always", "rate_limit": rate_limit}, folder)


def run_disks(env, image, work, count, rate_limit):
    """`count` uploads at once, each to its own disk: [(name, result)] (the disks deleted after)."""
    names = ["bench-cap-%s" % uuid.uuid4().hex[:6] for _i in range(count)]
    results, errors = {}, []

    def one(name):
        try:
            results[name] = upload(env, image, name, work, rate_limit)
        except BaseException as exc:  # pylint: disable=broad-except  # SystemExit from run_module too
            errors.append("%s: %s" % (name, exc))

    threads = [threading.Thread(target=one, args=(name,)) for name in names]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for name in names:
            bench.remove_ours(env, "azure", name)
    if errors:
        raise SystemExit("caps: an upload failed: %s" % "; ".join(errors))
    return [(name, results[name]) for name in names]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("--env", required=True)
    ap.add_argument("--virtual-gib", type=int, default=256)
    ap.add_argument("--nonzero-mib", type=int, default=512)
    ap.add_argument("--cap-mib-s", type=float, default=8.0, help="the cap the plane enforces per disk (default 8; the tier's own with 0)")
    ap.add_argument("--disks", type=int, default=4)
    ap.add_argument("--disks-cap-mib-s", type=float, default=4.0,
                    help="the cap per disk for the disks at once (default 4: four disks at 8 MiB/s each were bound by this machine's "
                         "CPU, not by their cap; 0: --cap-mib-s)")
    ap.add_argument("--unpaced", type=int, default=1, help="1: also the upload without rate_limit, on Retry-After alone (default)")
    ap.add_argument("--pin", type=int, default=1)
    args = ap.parse_args()
    env = bench.read_env(args.env)
    from ips_lab.common.admin import LabAdmin
    from ips_lab.planes import caps
    from ansible_collections.citrix_community.ips.plugins.module_utils._disk.footer import azure_upload_size

    work = Path(env["IPS_LAB_RUN_DIR"]) / "bench-caps"
    work.mkdir(exist_ok=True)
    virtual, nonzero = args.virtual_gib * GIB, args.nonzero_mib * MIB
    if not bench.room_for(work, (1 + args.disks) * nonzero + nonzero, "the cap bench", wait=60):
        raise SystemExit("caps: no room for the image and the disks")
    tier, tier_rate = caps.azure_tier(azure_upload_size(virtual))
    cap = args.cap_mib_s * MIB if args.cap_mib_s else tier_rate
    plane = LabAdmin.from_env(env, "azure")
    meter = bench.CpuMeter(env["IPS_LAB_RUN_DIR"], ("samba", "azure", "azurite"))
    pinning = bench.Pinning(meter, bool(args.pin))
    try:
        say("caps: building a %d GiB dynamic VHDX, 30 %% of its blocks allocated, %d MiB non-zero (the rest holes)" % (args.virtual_gib, args.nonzero_mib))
        image = build_image(work, virtual, nonzero)
        virtual, allocated, nonzero = measure(image)
        say("  virtual %.0f GiB, allocated %.1f GiB (%.0f %%), non-zero %.0f MiB, %.0f MiB on disk"
            % (virtual / GIB, allocated / GIB, 100.0 * allocated / virtual, nonzero / MIB, os.stat(str(image)).st_blocks * 512 / MIB))
        say("caps: the disk's tier %s, %d MB/s; the plane caps each disk at %.2f MiB/s (%.3f of the tier's)"
            % (tier, tier_rate // 1000000, cap / MIB, cap / float(tier_rate)))
        pinning.apply()
        figures = {}
        # (figure, disks at once, the plane's cap per disk, rate_limit): several disks at once get a smaller cap each, so
        # that together they stay within what this machine's two cores move and each disk is bound by its own cap
        disks_cap = args.disks_cap_mib_s * MIB if args.disks_cap_mib_s else cap
        runs = [("cap_efficiency", 1, cap, cap / MIB)]
        if args.disks > 1:
            runs.append(("cap_efficiency_%ddisks_worst" % args.disks, args.disks, disks_cap, disks_cap / MIB))
        if args.unpaced:
            runs.append(("cap_efficiency_unpaced", 1, cap, None))
        for key, count, run_cap, rate_limit in runs:
            plane.set_config(disk_upload_cap=run_cap)
            bound = nonzero / float(run_cap)
            say("caps: %s: %d upload(s) at once, the plane's cap %.2f MiB/s per disk, rate_limit %s; the bound %.1f s each"
                % (key, count, run_cap / MIB, "%.2f MiB/s" % rate_limit if rate_limit else "none", bound))
            plane.clear_requests()
            done = run_disks(env, image, work, count, rate_limit)
            refused = sum(1 for r in plane.requests() if r["status"] == 503)
            ratios = []
            for name, r in done:
                ratios.append(r["wall"] / bound)
                say("  %s: %s %.1f s (transfer %.1f s) for %.0f MiB sent, %.2f MiB/s = %.3f of the cap; read %.0f MiB; throttled %d; "
                    "peak RSS %.0f MiB, CPU %.1f s" % (key, name, r["wall"], r["transfer"], r["bytes_sent"] / MIB, r["bytes_sent"] / MIB / r["wall"],
                                                       r["bytes_sent"] / r["wall"] / run_cap, r["bytes_read"] / MIB, r.get("throttled", 0), r["peak_rss_mib"],
                                                       r["cpu_s"]))
                if r["bytes_sent"] > 1.02 * nonzero + MIB:
                    raise SystemExit("caps: %s sent %d bytes for %d non-zero" % (name, r["bytes_sent"], nonzero))
            say("  %s: %d upload(s), time / (non-zero / cap) = %s; the plane answered 503 ServerBusy %d times"
                % (key, count, ", ".join("%.3f" % x for x in ratios), refused))
            figures[key] = max(ratios)
            if count > 1:
                figures[key.replace("_worst", "")] = ",".join("%.3f" % x for x in ratios)  # each disk's ratio
                figures[key.replace("_worst", "_cap_mib_s")] = "%.2f" % (run_cap / MIB)
            figures[key + "_throttled"] = refused
    finally:
        pinning.restore()
        plane.set_config(disk_upload_cap=0)
        shutil.rmtree(str(work / "journal"), ignore_errors=True)
        for child in work.iterdir():
            if child.is_dir():
                shutil.rmtree(str(child), ignore_errors=True)
        if not os.environ.get("BENCH_KEEP_IMAGE"):
            shutil.rmtree(str(work), ignore_errors=True)
    line = " ".join("%s=%s" % (k, ("%.3f" % v) if isinstance(v, float) else v) for k, v in figures.items())
    print("%s cap_mib_s=%.2f cap_tier=%s cap_tier_mb_s=%d cap_scale=%.3f cap_image_virtual_gib=%d cap_image_allocated_gib=%.1f "
          "cap_image_nonzero_mib=%d" % (line, cap / MIB, tier, tier_rate // 1000000, cap / float(tier_rate), virtual // GIB, allocated / GIB,
                                        nonzero // MIB))
    return 0


if __name__ == "__main__":
    sys.exit(main())

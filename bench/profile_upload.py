"""Where an ips_upload process spends its time: run the module (its own process, as Ansible runs it) with a sampler
thread that every 10 ms reads each thread's CPU clock and its innermost Python frames.

    .venv/bin/python bench/profile_upload.py ARGS_FILE [--out profile.json]

ARGS_FILE is the module's args file ({"ANSIBLE_MODULE_ARGS": {...}}, as bench.py writes it). The module's own JSON
result goes to stdout as usual; the profile goes to --out (or stderr): per thread group (ips-send-azure, ips-send-aws,
ips-gcs-fan, ips-read, smb-call, ...) the CPU-seconds and what its threads were doing (samples of the innermost
frames, summarised by category: waiting on a queue or a lock, in the rate limit, in an SDK's send, hashing, deflate,
copying, reading). Used for docs/performance.md, "Fan-out: where the time goes".
"""

import json
import os
import re
import resource
import runpy
import sys
import threading
import time

MODULE = "ansible_collections.citrix_community.ips.plugins.modules.ips_upload"
INTERVAL = 0.01
PAGE = os.sysconf("SC_PAGE_SIZE")
PROGRESS = None
PHASE = [None]  # the progress file's phase, read by the sampler every 0.5 s

WAITS = ("threading.py:Condition.wait", "threading.py:Event.wait", "queue.py:Queue.get", "queue.py:Queue.put", "threading.py:Thread.join",
         "_Pool.get")
# (category, test on "file:function" of a frame); the first frame (innermost first) that matches names the sample
CATEGORIES = (
    ("rate limit", lambda f: f.endswith("pipeline.py:RateLimit.take")),
    ("retry wait", lambda f: "_retries.py" in f and ("sleep" in f or "_wait" in f)),
    ("queue/lock wait", lambda f: f.endswith(WAITS)),
    ("deflate", lambda f: "deflate" in f or "zlib" in f),
    ("crc32c", lambda f: "crc32c" in f or "google_crc32c" in f),
    ("sha256 (EBS)", lambda f: "aws.py:AwsTarget.send" in f or "sha256" in f),
    ("md5 (Azure)", lambda f: "md5" in f),
    ("zero scan", lambda f: "zeros.py" in f or "is_zero" in f or "sparse_part" in f),
    ("network send/recv", lambda f: "ssl.py" in f or "socket.py" in f or "http/client.py" in f or "connection.py" in f),
    ("SDK (python)", lambda f: "/azure/" in f or "/botocore/" in f or "/google/" in f or "/requests/" in f or "/urllib3/" in f),
    ("smb read", lambda f: "smbprotocol" in f or "smbclient" in f or "_sources.py" in f),
    ("copy into lane", lambda f: f.endswith(("gcp.py:PartLane.take", "pipeline.py:UnitLane.take"))),
)


def category(frames, where=False):
    """What a thread was doing (the first category an innermost frame matches); with `where`, also in which of
    our upload's functions (the nearest frame of plugins/module_utils/_upload outside the pipeline's plumbing)."""
    what = None
    for f in frames:
        for name, test in CATEGORIES:
            if test(f):
                what = name
                break
        if what:
            break
    what = what or "other: " + (frames[0].rsplit("/", 1)[-1] if frames else "?")
    if where:
        ours = [f.rsplit("/", 1)[-1] for f in frames if "/_upload/" in f and not f.endswith(("Progress.add", "RateLimit.take"))]
        what += " @ " + (ours[0] if ours else "-")
    return what


def group(name):
    return re.sub(r"[-_]?\d+$", "", name or "?")


def frames_of(frame, depth=8):
    out = []
    while frame is not None and len(out) < depth:
        code = frame.f_code
        out.append("%s:%s" % (code.co_filename, getattr(code, "co_qualname", code.co_name)))
        frame = frame.f_back
    return out


def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 1048576.0


def sampler(stop, data):
    me = threading.get_ident()
    start = time.monotonic()
    peak = data.setdefault("", {"rss_peak_mib": 0, "at_s": 0, "phase": None})
    while not stop.is_set():
        rss = rss_mib()
        if rss > peak["rss_peak_mib"]:
            # where the memory peaks: the seconds since start and the phase of the progress file
            peak.update(rss_peak_mib=round(rss), at_s=round(time.monotonic() - start, 1), phase=PHASE[0])
        if PROGRESS and int((time.monotonic() - start) / INTERVAL) % 50 == 0:
            try:
                with open(PROGRESS) as f:
                    PHASE[0] = json.load(f).get("phase")
            except (OSError, ValueError):
                pass
        frames = sys._current_frames()  # pylint: disable=protected-access
        for t in threading.enumerate():
            if t.ident == me or t.ident not in frames:
                continue
            g = group(t.name)
            rec = data.setdefault(g, {"threads": set(), "cpu": {}, "samples": {}})
            rec["threads"].add(t.ident)
            try:
                rec["cpu"][t.ident] = time.clock_gettime(time.pthread_getcpuclockid(t.ident))
            except (OSError, AttributeError):
                pass
            cat = category(frames_of(frames[t.ident], depth=40), where=g in ("MainThread", "ips-read"))
            rec["samples"][cat] = rec["samples"].get(cat, 0) + 1
        time.sleep(INTERVAL)


def main():
    args_file = sys.argv[1]
    out = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else None
    global PROGRESS  # pylint: disable=global-statement
    with open(args_file) as f:
        PROGRESS = json.load(f)["ANSIBLE_MODULE_ARGS"].get("progress_file")
    stop, data = threading.Event(), {}
    t = threading.Thread(target=sampler, args=(stop, data), name="profiler", daemon=True)
    start = time.monotonic()
    t.start()
    sys.argv = [MODULE, args_file]
    try:
        runpy.run_module(MODULE, run_name="__main__", alter_sys=True)
    except SystemExit:
        pass
    finally:
        stop.set()
        t.join()
        ru = resource.getrusage(resource.RUSAGE_SELF)
        report = {"wall_s": round(time.monotonic() - start, 2), "cpu_s": round(ru.ru_utime + ru.ru_stime, 2),
                  "maxrss_mib": round(ru.ru_maxrss / 1024.0), "groups": {}}
        report["rss_peak"] = data.pop("", {})
        for g, rec in sorted(data.items()):
            total = sum(rec["samples"].values()) or 1
            report["groups"][g] = {"threads": len(rec["threads"]), "cpu_s": round(sum(rec["cpu"].values()), 2),
                                   "time_share": dict((k, round(v / float(total), 3)) for k, v in
                                                      sorted(rec["samples"].items(), key=lambda kv: -kv[1])[:12])}
        text = json.dumps(report, indent=1)
        if out:
            with open(out, "w") as f:
                f.write(text)
        else:
            sys.stderr.write(text + "\n")


if __name__ == "__main__":
    main()

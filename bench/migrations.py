#!/usr/bin/env python
"""Many migrations from one controller at once (make bench, after the upload figures): N full MCS -> MCS
migrations (vSphere -> Azure, playbooks/migrate.yml) started together against the lab while the Citrix Cloud
stand-in answers a storm of 429s with Retry-After. Every migration must succeed, no job may be submitted twice,
and the controller's cost is measured in the same run: the peak resident memory of every process the
migrations ran (sampled from /proc), and CPU-seconds per migration (each ansible-playbook's rusage, its children
included). The inventory is the one `make demo` writes for the lab (tools/demo.sh runs once first, as the
warm-up), each migration with an image name of its own.

  bench/migrations.py --env lab/run/env [--count 20] [--throttle 60] [--job-seconds 5]

The last line printed is `key=value` figures (bench/run.sh appends them to the upload bench's summary).
"""

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MIB = 1024 * 1024
PAGE = os.sysconf("SC_PAGE_SIZE")


def read_env(path):
    env = {}
    for line in Path(path).read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            env[key.strip()] = value.strip()
    return env


def descendants(roots):
    """Pids of `roots` and everything they started, from /proc (children lists)."""
    found, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid in found:
            continue
        found.add(pid)
        try:
            for task in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/children" % (pid, task)) as handle:
                    todo.extend(int(c) for c in handle.read().split())
        except OSError:
            continue
    return found


def rss_bytes(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/statm" % pid) as handle:
                total += int(handle.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total


def report_of(output):
    return dict(re.findall(r'"(export|upload|prepare|publish|catalog)\s+(skipped|resumed|done|not_run)\s', output))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--env", required=True, help="the lab's env file")
    parser.add_argument("--count", type=int, default=20, help="migrations started at once (default 20)")
    parser.add_argument("--throttle", type=int, default=None, help="429 answers the Citrix Cloud stand-in gives first (default 3 x count)")
    parser.add_argument("--job-seconds", type=int, default=5, help="how long each of the lab's jobs runs (default 5)")
    args = parser.parse_args()
    if args.count < 1:
        parser.error("--count must be 1 or more")
    lab_env = read_env(args.env)
    run_dir = Path(lab_env["IPS_LAB_RUN_DIR"])
    os.environ.update(lab_env)
    sys.path.insert(0, str(REPO / "lab"))
    from ips_lab.common.admin import LabAdmin  # pylint: disable=import-outside-toplevel

    citrix = LabAdmin.from_env(lab_env)
    print("migrations: warm-up, the demo's migration (tools/demo.sh), which also writes the lab inventory", flush=True)
    warm = subprocess.run(["bash", str(REPO / "tools" / "demo.sh")], env=dict(os.environ, IPS_LAB_RUN_DIR=str(run_dir)), cwd=str(REPO),
                          capture_output=True, text=True, check=False)
    if warm.returncode != 0:
        sys.exit("migrations: the warm-up migration failed:\n" + (warm.stdout + warm.stderr)[-4000:])
    inventory, password = run_dir / "demo" / "inventory", run_dir / "demo" / "demo.vault-pass"

    citrix.set_config(job_seconds=args.job_seconds)
    citrix.clear_requests()
    throttle = 3 * args.count if args.throttle is None else args.throttle
    if throttle:
        citrix.add_fault(r"^/ips/", status=429, retry_after=1, times=throttle)
    run = secrets.token_hex(2)
    logs = run_dir / ("bench-migrations-%s" % run)
    logs.mkdir()
    env = dict(os.environ, PATH="%s:%s" % (BIN, os.environ.get("PATH", "")), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_NOCOLOR="1")
    for key in [k for k in env if k.startswith("CITRIX_CLOUD_")]:
        del env[key]  # the inventory's API client, as a user's run has it
    names = ["bench-%s-%02d" % (run, i) for i in range(args.count)]
    # Without the catalog stage: the demo's inventory points every migration at its one MCS catalog, and the DaaS
    # service runs one provisioning task per catalog at a time (409 for the others) - twenty images onto one
    # catalog is not a fleet (each image has a catalog of its own); the stages measured are export, upload, prepare.
    print("migrations: %d MCS -> MCS migrations at once (%s-00 ...), %d 429 answers first" % (args.count, "bench-" + run, throttle), flush=True)
    started = time.monotonic()
    procs = {}
    for name in names:
        out = open(str(logs / (name + ".log")), "w")
        procs[subprocess.Popen([str(BIN / "ansible-playbook"), "-i", str(inventory), "--vault-password-file", str(password),
                                "-e", "migrate_image_name=%s" % name, "-e", json.dumps({"migrate_catalog": {}}),
                                "citrix_community.ips.migrate"],
                               env=env, cwd=str(logs), stdout=out, stderr=subprocess.STDOUT).pid] = (name, out)
    peak, rc, cpu = 0, {}, {}
    while len(rc) < len(procs):
        peak = max(peak, rss_bytes(descendants([p for p in procs if p not in rc])))
        while len(rc) < len(procs):
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid in procs:
                rc[pid] = os.waitstatus_to_exitcode(status)
                cpu[pid] = usage.ru_utime + usage.ru_stime
                procs[pid][1].close()
        time.sleep(0.5)
    wall = time.monotonic() - started

    ok, failed = 0, []
    for pid, (name, _out) in procs.items():
        text = (logs / (name + ".log")).read_text()
        stages = report_of(text)
        if rc[pid] == 0 and [stages.get(s) for s in ("export", "upload", "prepare")] == ["done", "done", "done"]:
            ok += 1
        else:
            failed.append("%s (rc %d): %s" % (name, rc[pid], text[-600:]))
    posts = [r for r in citrix.requests() if r["method"] == "POST" and "dryRun=true" not in (r.get("query") or "")]
    accepted = dict((verb, sum(1 for r in posts if r["path"].endswith("/$" + verb) and r["status"] in (200, 201, 202)))
                    for verb in ("export", "prepare"))
    throttled = sum(1 for r in citrix.requests() if r["status"] == 429)
    duplicates = sum(max(0, n - args.count) for n in accepted.values())
    for line in failed[:3]:
        print("migrations: FAILED %s" % line)
    print("migrations: %d of %d succeeded in %.0f s; jobs accepted %s; 429 answers %d; peak RSS %.0f MiB; %.1f CPU-s per migration"
          % (ok, args.count, wall, accepted, throttled, peak / MIB, sum(cpu.values()) / args.count))
    print("concurrent_migrations=%d concurrent_ok=%d concurrent_wall_s=%.0f concurrent_duplicate_jobs=%d concurrent_throttled=%d "
          "controller_peak_rss_mib=%.0f controller_rss_mib_per_migration=%.0f cpu_s_per_migration=%.1f"
          % (args.count, ok, wall, duplicates, throttled, peak / MIB, peak / MIB / args.count, sum(cpu.values()) / args.count))
    return 0 if ok == args.count and duplicates == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""ips-lab up | down | status | env | caps: start and stop the local lab (docs/lab.md).

`up` starts each stand-in on 127.0.0.1 in order, waits until it answers, records its pid, and
writes the env file. It is idempotent: parts whose recorded process is alive and answers are kept.
`down` stops exactly the recorded pids (SIGTERM, then SIGKILL of that pid only after ~5 s).
`caps` switches the clouds' per-object caps of the running planes on or off (planes/caps.py).
The run dir is lab/run, or $IPS_LAB_RUN_DIR.
"""

import argparse
import datetime
import os
import shutil
import subprocess
import sys
import time

from ips_lab.runstate import LAB_DIR, RunDir, PortPicker, proc_cpu_seconds, proc_start_time, record_alive, stop_pid
from ips_lab.launchers import MissingProgram, all_parts


def out(message):
    try:
        print(message, flush=True)
    except BrokenPipeError:
        # the reader left (`ips-lab status | head`): carry on quietly - stopping half-way through `up` or
        # `down` would be worse than losing the rest of the text; fd 1 onto /dev/null so the exit flush is quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def err(message):
    print(message, file=sys.stderr, flush=True)


def select_parts(run, names):
    parts = all_parts(run)
    if not names:
        return parts
    wanted = set(n.strip() for n in names.split(",") if n.strip())
    unknown = wanted - set(p.name for p in parts)
    if unknown:
        raise SystemExit("unknown part(s): %s (known: %s)" % (", ".join(sorted(unknown)), ", ".join(p.name for p in parts)))
    for part in parts:
        if part.name in wanted:
            wanted.update(part.depends)
    return [p for p in parts if p.name in wanted]


def is_up(part, record):
    return record_alive(record) and part.answers(record)


def launch(run, part, port, deps, previous):
    """Start one part in its own session, logging to logs/<part>.log; record its pid at once."""
    spec = part.prepare(port, deps, previous)
    env = dict(os.environ)
    env.update(spec.env)
    log_path = run.log_path(part.name)
    with open(log_path, "ab") as log:
        stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        log.write(("\n=== ips-lab up %s: %s on port %d ===\n" % (stamp, part.name, port)).encode())
        log.flush()
        proc = subprocess.Popen(spec.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                cwd=str(part.folder), env=env, start_new_session=True, close_fds=True)
    record = {
        "part": part.name,
        "pid": proc.pid,
        "start_time": proc_start_time(proc.pid),
        "port": port,
        "argv": spec.argv,
        "values": spec.values,
        "started": stamp,
    }
    run.write_record(part.name, record)
    return proc, record


def wait_ready(part, proc, record):
    deadline = time.monotonic() + part.ready_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return "exited with rc %s" % proc.returncode
        if part.answers(record):
            return None
        time.sleep(0.1)
    return "did not answer on port %d within %.0f s" % (record["port"], part.ready_timeout)


def stop_record(run, name, record):
    result = "not running"
    if record_alive(record):
        result = stop_pid(int(record["pid"]), record["start_time"])
    run.remove_record(name)
    return result


def env_values(run, records):
    values = {}
    for record in records.values():
        values.update(record.get("values", {}))
    values["IPS_LAB_RUN_DIR"] = str(run.path)
    return values


def cmd_up(args):
    run = RunDir()
    run.create()
    parts = select_parts(run, args.parts)
    records = dict((p.name, run.read_record(p.name)) for p in parts)
    up = dict((p.name, records[p.name]) for p in parts if is_up(p, records[p.name]))
    if len(up) == len(parts):
        run.write_env(env_values(run, up))
        out("The lab is already up; keeping its processes:")
        for part in parts:
            out("  %-8s up    pid %-7s 127.0.0.1:%s" % (part.name, up[part.name]["pid"], up[part.name]["port"]))
        out("env file: %s" % run.env_file)
        return 0
    # Secrets of dead parts are reused only while other parts keep running with them.
    partial = bool(up)
    picker = PortPicker()
    for record in up.values():
        picker.taken.add(int(record["port"]))
    current = dict(up)
    started = []
    t0 = time.monotonic()
    try:
        for part in parts:
            restarted_deps = [d for d in part.depends if d in started]
            if part.name in up and not restarted_deps:
                out("  %-8s kept  pid %-7s 127.0.0.1:%s" % (part.name, up[part.name]["pid"], up[part.name]["port"]))
                continue
            old = records[part.name]
            if old:
                stop_record(run, part.name, old)
                current.pop(part.name, None)
                picker.taken.discard(old.get("port"))
            port = picker.take(part.port_key, preferred=(old or {}).get("port") if partial else None)
            t_part = time.monotonic()
            proc, record = launch(run, part, port, current, old if partial else None)
            started.append(part.name)
            problem = wait_ready(part, proc, record)
            if problem:
                err("ips-lab: %s %s. The end of %s:" % (part.name, problem, run.log_path(part.name)))
                err(run.tail_log(part.name))
                raise LabStartError(part.name)
            current[part.name] = record
            out("  %-8s up    pid %-7s 127.0.0.1:%-5d (%.1f s)" % (part.name, record["pid"], port, time.monotonic() - t_part))
    except (LabStartError, MissingProgram, RuntimeError, OSError, KeyboardInterrupt) as exc:
        if not isinstance(exc, LabStartError):
            err("ips-lab: starting the lab failed: %s" % (exc or type(exc).__name__))
        for name in reversed(started):
            err("  stopping %s: %s" % (name, stop_record(run, name, run.read_record(name))))
        return 1
    run.write_env(env_values(run, current))
    out("The lab is up (%.1f s). env file: %s" % (time.monotonic() - t0, run.env_file))
    return 0


class LabStartError(Exception):
    pass


def cmd_down(args):
    run = RunDir()
    parts = all_parts(run)
    total = 0.0
    for part in reversed(parts):
        record = run.read_record(part.name)
        if record is None:
            continue
        # what each stand-in cost: the lab runs beside the tests on the same cores
        cpu = proc_cpu_seconds(int(record["pid"])) if record_alive(record) else None
        total += cpu or 0.0
        used = "" if cpu is None else ", %s CPU-s" % round(cpu, 1)
        out("  %-8s %s (pid %s%s)" % (part.name, stop_record(run, part.name, record), record.get("pid"), used))
    if total:
        out("  the stand-ins used %.1f CPU-s" % total)
    # an env file left behind would tell `make bench`, molecule and the demo that the lab still answers
    run.remove_env()
    if args.purge:
        if not (run.pids.is_dir() or run.path == LAB_DIR / "run"):
            err("ips-lab: %s does not look like a lab run dir; not deleting it" % run.path)
            return 1
        shutil.rmtree(str(run.path), ignore_errors=True)
        out("removed %s" % run.path)
    else:
        out("The lab is down; its state stays in %s (`ips-lab down --purge` deletes it)." % run.path)
    return 0


def cmd_status(args):
    run = RunDir()
    all_up = True
    for part in all_parts(run):
        record = run.read_record(part.name)
        if record is None:
            state = "down"
        elif not record_alive(record):
            state = "down (pid %s is gone)" % record.get("pid")
        elif not part.answers(record):
            state = "not answering (pid %s, 127.0.0.1:%s)" % (record["pid"], record["port"])
        else:
            state = "up    pid %-7s 127.0.0.1:%s" % (record["pid"], record["port"])
        all_up = all_up and state.startswith("up")
        out("  %-8s %s" % (part.name, state))
    return 0 if all_up else 1


def cmd_env(args):
    """Print the env file's path, and fail with a sentence (never a traceback) unless the lab it describes runs."""
    run = RunDir()
    out(str(run.env_file))
    if not run.env_file.exists():
        err("ips-lab: the lab is not running (no env file in %s); start it with `make lab-up`" % run.path)
        return 1
    gone = [part.name for part in all_parts(run) if not record_alive(run.read_record(part.name))]
    if gone:
        err("ips-lab: the lab is not running (%s stopped; %s is stale); start it with `make lab-up`"
            % (", ".join(gone), run.env_file))
        return 1
    return 0


# plane -> (part, its cap setting)
CAP_SETTINGS = {"azure": ("azure", "disk_upload_cap"), "ebs": ("ebs", "snapshot_block_cap"), "gcs": ("gce", "object_write_cap")}


def cap_value(text):
    """off -> 0, real -> "real", a number -> that number (units per second)."""
    text = text.strip().lower()
    if text in ("off", "0"):
        return 0
    if text == "real":
        return "real"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("a cap is off, real or a positive number of units per second (got %r)" % text)
    if value <= 0:
        raise argparse.ArgumentTypeError("a cap is off, real or a positive number of units per second (got %r)" % text)
    return int(value) if value == int(value) else value


def cmd_caps(args):
    """Set the per-object caps of the running lab's planes (`/_lab/config`) and print each plane's setting."""
    from ips_lab.common.admin import LabAdmin, LabAdminError

    run = RunDir()
    if not run.env_file.exists():
        err("ips-lab: the lab is not running (no env file in %s); start it with `make lab-up`" % run.path)
        return 1
    env = dict(line.split("=", 1) for line in run.env_file.read_text().splitlines() if "=" in line and not line.startswith("#"))
    status = 0
    for plane, (part, key) in sorted(CAP_SETTINGS.items()):
        value = getattr(args, plane)
        if value is None:
            value = args.all
        try:
            admin = LabAdmin.from_env(env, part)
            current = admin.set_config(**{key: value}) if value is not None else admin.config()
        except (KeyError, OSError, LabAdminError) as exc:
            err("ips-lab: %s: %s" % (plane, exc))
            status = 1
            continue
        out("  %-6s %s = %s" % (plane, key, json_text(current.get(key))))
    return status


def json_text(value):
    return '"%s"' % value if isinstance(value, str) else str(value)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="ips-lab", description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the lab (idempotent) and write the env file")
    up.add_argument("--parts", help="comma-separated subset to start (with its dependencies), for debugging")
    up.set_defaults(func=cmd_up)
    down = sub.add_parser("down", help="stop exactly the processes `up` recorded")
    down.add_argument("--purge", action="store_true", help="also delete the run dir")
    down.set_defaults(func=cmd_down)
    sub.add_parser("status", help="print each part up or down").set_defaults(func=cmd_status)
    sub.add_parser("env", help="print the path of the env file; fail unless the lab runs").set_defaults(func=cmd_env)
    caps = sub.add_parser("caps", help="switch the clouds' per-object caps of the running planes (off by default)")
    caps.add_argument("all", nargs="?", type=cap_value, help="off | real | N: every plane at once")
    for plane, (_part, key) in sorted(CAP_SETTINGS.items()):
        caps.add_argument("--" + plane, type=cap_value, help="off | real | N for %s alone" % key)
    caps.set_defaults(func=cmd_caps)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

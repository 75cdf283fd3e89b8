"""The migrate role's report, read as an administrator reads it: an MCS -> MCS run (vSphere -> Azure, as the molecule
scenario drives it) whose prepare job fails names each stage with its state, elapsed time, bytes and artifact in the
platform's own words (the file's smb:// URL, the disk's ARM id), the stage the run stopped in and the one it never
reached; the re-run reports export and upload skipped, the prepare done, with the prepared disk's ARM id, and the catalog
on the prepared disk.

The same three runs (credentials, the stopped migration, its re-run) share one Citrix Cloud token: every module task
and the controller's job follower take the token the first task cached (plugins/module_utils/_auth.py TokenCache),
across playbook runs, until it dies: while the re-run's prepare job runs, the lab's clock jumps past the token's
lifetime (70 minutes), the service refuses it once, one task asks for a new one and caches it: two in all."""

import re
import subprocess
import time

from scenario_play import api_calls, playbook, playbook_cmd, setup_run, token_requests


def report_lines(output):
    """The lines of the last "Report every stage" task."""
    block = output[output.rindex("Report every stage"):]
    return re.findall(r'^\s+"((?:export|upload|prepare|publish|catalog)\s.*)",?$', block, re.M)


def rerun_past_the_token(lab, env, tmp_path):
    """The re-run; once its prepare job is running, the lab clock 70 minutes on (the lab's token lives an hour).
    Returns its output."""
    with (tmp_path / "rerun.log").open("w") as log:
        proc = subprocess.Popen(playbook_cmd(tmp_path, "migrate"), env=env, cwd=str(tmp_path), stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 300
            # the stopped run's prepare was the first submitted: the re-run's is the second
            while len([r for r in lab.requests() if r["method"] == "POST" and r["path"].endswith("/$prepare")
                       and "dryRun" not in (r.get("query") or "")]) < 2:
                assert proc.poll() is None and time.monotonic() < deadline, "the re-run never submitted its prepare"
                time.sleep(0.2)
            lab.advance_clock(70 * 60)
            assert proc.wait(600) == 0, (tmp_path / "rerun.log").read_text()[-4000:]
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    return (tmp_path / "rerun.log").read_text()


def test_report_of_a_stopped_run_and_its_rerun(lab, lab_env, tmp_path):
    env = setup_run(lab_env, tmp_path)
    playbook(env, tmp_path, "credentials", check=False)
    lab.fail_job("prepare", "preparing", "The compositing engine could not mount the disk.")
    failed = subprocess.run(playbook_cmd(tmp_path, "migrate"), env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=600, check=False)
    assert failed.returncode == 2, failed.stdout[-3000:]
    lines = report_lines(failed.stdout)
    assert len(lines) == 4, lines
    export, upload, prepare, catalog = lines
    assert re.match(r"export\s+done\s+smb://127\.0\.0\.1/[^ ]+\.vhdx \(\d+\.\d s, \d+\.\d MiB\)$", export), export
    assert re.match(r"upload\s+done\s+/subscriptions/[^ ]+/resourceGroups/[^ ]+/providers/Microsoft\.Compute/disks/[^ ]+ "
                    r"\(\d+\.\d s, \d+\.\d MiB\)$", upload), upload
    assert re.match(r"prepare\s+stopped\s+the run stopped in this stage \(see the failed task above\)$", prepare), prepare
    assert re.match(r"catalog\s+not_reached\s+the run stopped before this stage$", catalog), catalog
    assert "stopped before:" not in failed.stdout

    # one token so far, for every call of the credentials push and the stopped run
    calls = len(api_calls(lab))
    assert len(token_requests(lab)) == 1, "%d token requests for %d API calls" % (len(token_requests(lab)), calls)
    assert calls > 20  # the figure means something: many tasks shared the one token

    lab.set_config(job_seconds=6)  # the prepare runs long enough to be caught running
    again = rerun_past_the_token(lab, env, tmp_path)
    export, upload, prepare, catalog = report_lines(again)
    assert re.match(r"export\s+skipped\s+smb://", export), export
    assert re.match(r"upload\s+skipped\s+/subscriptions/", upload), upload
    assert re.match(r"prepare\s+done\s+/subscriptions/[^ ]+/disks/[^ ]+-mcs \(\d+\.\d s\)$", prepare), prepare
    # the molecule vars name the lab's seeded catalog: the last mile points it at the prepared disk
    assert re.match(r"catalog\s+done\s+lab-mcs-catalog on [^ ]+-mcs\.manageddisk \(\d+\.\d s\) - update$", catalog), catalog

    # the wallet the first run filled: the credentials role lists it once and pushes none of it again
    push = again[again.index("Push each credential the wallet lacks"):]
    push = push[:push.index("TASK [", 10)]
    assert "changed: [" not in push and "ok: [" not in push and push.count("skipping: [") > 2, push
    assert again.count("): unchanged") >= 2, again[-3000:]

    # the token died once, during the re-run: one call met it, one new token, taken by every task after it
    assert len(token_requests(lab)) == 2, "%d token requests" % len(token_requests(lab))
    refused = [r for r in lab.requests() if r["status"] == 401]
    assert len(refused) == 1, refused
    cache = tmp_path / "cache" / "citrix_community.ips" / "tokens"
    assert [oct(p.stat().st_mode & 0o777) for p in cache.iterdir()] == ["0o600"]
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    assert lab_env["CITRIX_CLOUD_CLIENT_SECRET"] not in failed.stdout + failed.stderr + again

"""Finishing a lab job on cue: a test that kills a run mid-job and runs it again must know the job still runs
when the re-run looks for it, however slow the machine is (make test runs suites side by side). The job is
made long; once the re-run is watching it (its first look at one job), the lab clock jumps past its end.
"""

import threading
import time


def _is_list(request):
    return request["method"] == "GET" and request["path"].rstrip("/").endswith("/jobs")


def _is_look(request):
    return request["method"] == "GET" and "/jobs/" in request["path"] and not _is_list(request)


def watching(requests, job_id=None):
    """Whether these requests (all made since the re-run started) show it watching a job (`job_id`, when given: a
    re-run that first looks at finished jobs of earlier stages must not end the one it has not reached yet): a look at
    one job after it listed the jobs (every run lists them to find its job by key first, so a stray look of the killed
    run, recorded late, is never taken for the re-run's)."""
    listed = False
    for request in requests:
        listed = listed or _is_list(request)
        if listed and _is_look(request) and (job_id is None or request["path"].rstrip("/").endswith("/" + job_id)):
            return True
    return False


def run_and_finish_when_watched(lab, rerun, seconds, timeout=300, job_id=None):
    """Run `rerun()` in a thread; when it watches a job (that job, with `job_id`), move the lab clock `seconds` on so
    the job ends while the re-run waits for it. Returns what `rerun()` returned (its exception, raised here)."""
    start = len(lab.requests())
    outcome = {}

    def target():
        try:
            outcome["value"] = rerun()
        except BaseException as exc:  # pylint: disable=broad-except
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while thread.is_alive() and time.monotonic() < deadline:
        if watching(lab.requests()[start:], job_id):
            lab.advance_clock(seconds)
            break
        time.sleep(0.1)
    thread.join(timeout)
    if "error" in outcome:
        raise outcome["error"]
    assert "value" in outcome, "the re-run did not end within %d s" % timeout
    return outcome["value"]

"""Where a job stands at a given lab time, derived only from its persisted row.

A job spends `duration` seconds spread evenly over its stages. Progress follows the clock, except
that it never leaves a job's work stage (the export's `exporting`) before the real work has
finished, and an injected failure ends the job when its stage is reached. Because nothing here
depends on process memory, a restarted lab picks every job up where the clock says it is.
"""

import math
from collections import namedtuple
from decimal import Decimal

from ..common import rules

State = namedtuple("State", ["status", "progress", "stage", "completed_at", "error", "wants_work"])


def _decimals(step):
    """How many decimals a multiple of `step` needs (0 for a whole step)."""
    if float(step).is_integer():
        return 0
    return min(12, max(0, -Decimal(repr(float(step))).normalize().as_tuple().exponent))


def snap(percent, step=1):
    """`percent` rounded DOWN to a multiple of `step`: an int for a whole step, else rounded to the step's decimals.

    The tiny epsilon keeps a value that is exactly a multiple (37.4 with step 0.1, which is
    373.99999... steps in binary) from falling one step short.
    """
    units = math.floor(percent / step + 1e-9)
    if float(step).is_integer():
        return int(units * int(step))
    return round(units * step, _decimals(step))


def _terminal(job):
    return State(job["status"], job["final_progress"], job["final_stage"], job["completed_at"], job["error"], False)


def evaluate(job, now, step=1):
    """The job's State at lab time `now`; a status other than the row's is a transition to persist.

    Progress is a multiple of `step` (the lab's `progress_step`), rounded down.
    """
    if job["status"] in rules.TERMINAL_STATUSES:
        return _terminal(job)
    stages = job["stages"]
    count = len(stages)
    duration = job["duration"]
    elapsed = max(0.0, now - job["created_at"])
    fraction = 1.0 if duration <= 0 else min(1.0, elapsed / duration)
    index = min(count - 1, int(fraction * count))
    progress = snap(fraction * 100, step)

    if job["fail_stage"]:
        fail_index = stages.index(job["fail_stage"])
        if index >= fail_index:
            error = {"code": job["fail_code"], "message": job["fail_message"], "stage": job["fail_stage"]}
            at = job["created_at"] + duration * fail_index / count
            return State(rules.JOB_STATUS_FAILED, snap(100 * fail_index / count, step), job["fail_stage"], at, error, False)

    work_stage = job["work_stage"]
    work_pending = bool(work_stage) and job["work_state"] != "done"
    wants_work = bool(work_stage) and job["work_state"] == "pending" and index >= stages.index(work_stage)
    if work_pending:
        work_index = stages.index(work_stage)
        if index >= work_index:
            # Hold inside the work stage until the work reports back.
            index = work_index
            below_end = snap(snap(100 * (work_index + 1) / count, step) - step, step)
            progress = min(progress, max(0, below_end))
    elif fraction >= 1.0:
        done_at = max(job["created_at"] + duration, job["work_finished_at"] or 0.0)
        return State(rules.JOB_STATUS_COMPLETE, 100, stages[-1], done_at, None, False)
    return State(rules.JOB_STATUS_RUNNING, min(progress, snap(99, step)), stages[index], None, None, wants_work)

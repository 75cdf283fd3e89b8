"""IPS jobs: submit (with dryRun), get, list in pages, cancel, and the job object clients see."""

import base64
import binascii
import uuid

from ..common import rules
from ..common.clock import iso
from ..common.errors import ApiError, not_found
from ..common.faults import times_of
from .lifecycle import evaluate
from .validation import mask_secrets, validate_job


def _encode_token(seq):
    return base64.urlsafe_b64encode(("jobs-after:%d" % seq).encode()).decode().rstrip("=")


def _decode_token(token):
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        prefix, seq = text.split(":", 1)
        if prefix != "jobs-after":
            raise ValueError(prefix)
        return int(seq)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ApiError(400, "The query parameter 'continuationToken' is not a token this service issued.", field="continuationToken")


def _parse_limit(value):
    if value is None:
        return rules.JOB_LIST_DEFAULT_LIMIT
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if not 1 <= limit <= rules.JOB_LIST_MAX_LIMIT:
        raise ApiError(400, "The query parameter 'limit' must be an integer from 1 to %d (got '%s')." % (rules.JOB_LIST_MAX_LIMIT, value), field="limit")
    return limit


def generic_artifacts(job_type, parameters):
    """What a job without real work reports: the names of what it produced."""
    keys = ("outputDiskName", "outputSnapshotName", "outputImageName", "outputImageFilename", "outputStorageLocation")
    artifacts = {k: parameters[k] for k in keys if k in parameters}
    if job_type == "prepare" and not any(k in artifacts for k in keys[:3]):
        target = next((parameters[f] for f in rules.ALL_SELECTORS if f in parameters), None)
        artifacts["outputDiskName"] = target  # prepared in place
    return artifacts


class Jobs(object):
    def __init__(self, store, clock, runtime, wallet, resource_location_ids):
        self._store = store
        self._clock = clock
        self._runtime = runtime
        self._wallet = wallet
        self._resource_locations = tuple(resource_location_ids)
        self.on_submit = None  # the worker's poke: a new job starts at once

    def _step(self):
        """The lab's progress_step: every job's overallProgressPercent is a multiple of it."""
        return self._runtime.get("progress_step")

    # --- submit --------------------------------------------------------------------------------

    def submit(self, job_type, body, dry_run=False):
        """Returns (status, job or dry-run answer)."""
        params = validate_job(job_type, body, self._wallet.type_of, self._resource_locations)
        if dry_run:
            return 200, {"dryRun": True, "valid": True, "parameters": mask_secrets(params)}
        spec = rules.JOB_TYPES[job_type]
        now = self._clock.now()
        with self._store.lock:
            failure = self._take_job_failure(job_type)
            row = {
                "id": str(uuid.uuid4()), "type": job_type, "status": rules.JOB_STATUS_RUNNING,
                "parameters": mask_secrets(params), "created_at": now, "updated_at": now,
                "duration": float(self._runtime.get("job_seconds")), "stages": list(spec.stages),
                "work_stage": spec.work_stage, "work_state": "pending" if spec.work_stage else None,
                "fail_stage": failure["stage"] if failure else None, "fail_code": failure["code"] if failure else None,
                "fail_message": failure["message"] if failure else None, "artifacts": {}, "warnings": [],
            }
            self._store.insert("jobs", row)
        if self.on_submit is not None:
            self.on_submit()
        return 202, self.view(self._get_row(row["id"]))

    def add_failure(self, body):
        """A job-failure rule (POST /_lab/job-failures): the next `times` jobs of `type` fail at `stage`."""
        if not isinstance(body, dict):
            raise ApiError(400, "A job-failure rule must be a JSON object.", field="body")
        job_type = body.get("type")
        if job_type not in rules.JOB_TYPES:
            raise ApiError(400, "The field 'type' must be one of %s." % ", ".join(rules.JOB_TYPES), field="type")
        stages = rules.JOB_TYPES[job_type].stages
        if body.get("stage") not in stages:
            raise ApiError(400, "The field 'stage' must be one of the %s stages: %s." % (job_type, ", ".join(stages)), field="stage")
        message = body.get("error")
        if not isinstance(message, str) or not message:
            raise ApiError(400, "The field 'error' must be the failure message (a non-empty string).", field="error")
        code = body.get("code", "JobFailed")
        rule_id = str(uuid.uuid4())
        self._store.insert("job_failures", {"id": rule_id, "type": job_type, "stage": body["stage"], "code": str(code),
                                            "message": message, "remaining": times_of(body)})
        return rule_id

    def _take_job_failure(self, job_type):
        rule = self._store.one("SELECT * FROM job_failures WHERE type = ? ORDER BY seq LIMIT 1", (job_type,))
        if rule is None:
            return None
        if rule["remaining"] <= 1:
            self._store.execute("DELETE FROM job_failures WHERE seq = ?", (rule["seq"],))
        else:
            self._store.update("job_failures", "seq", rule["seq"], {"remaining": rule["remaining"] - 1})
        return rule

    # --- read ----------------------------------------------------------------------------------

    def refresh(self, row):
        """Persist the transition the clock implies (complete, failed) and return the fresh row."""
        with self._store.lock:
            row = self._store.one("SELECT * FROM jobs WHERE id = ?", (row["id"],)) or row
            state = evaluate(row, self._clock.now(), self._step())
            if state.status == row["status"]:
                return row
            changes = {"status": state.status, "final_progress": state.progress, "final_stage": state.stage,
                       "completed_at": state.completed_at, "updated_at": state.completed_at, "error": state.error}
            if state.status == rules.JOB_STATUS_COMPLETE and not row["work_stage"]:
                changes["artifacts"] = generic_artifacts(row["type"], row["parameters"])
            self._store.update("jobs", "id", row["id"], changes)
            return dict(row, **changes)

    def claim_work(self, row):
        """The fresh row if its work should start now (marked running), else None."""
        with self._store.lock:
            row = self.refresh(row)
            if not evaluate(row, self._clock.now(), self._step()).wants_work:
                return None
            self._store.update("jobs", "id", row["id"], {"work_state": "running"})
            return row

    def purge_expired(self):
        cutoff = self._clock.now() - self._runtime.get("retention_seconds")
        self._store.execute("DELETE FROM jobs WHERE completed_at IS NOT NULL AND completed_at <= ?", (cutoff,))

    def _get_row(self, job_id):
        with self._store.lock:
            row = self._store.one("SELECT * FROM jobs WHERE id = ?", (job_id,))
            if row is None:
                raise not_found("job", job_id)
            row = self.refresh(row)
            if row["completed_at"] is not None and row["completed_at"] <= self._clock.now() - self._runtime.get("retention_seconds"):
                self.purge_expired()
                raise not_found("job", job_id)
            return row

    def get(self, job_id):
        return self.view(self._get_row(job_id))

    def raw(self, job_id):
        with self._store.lock:
            row = self._store.one("SELECT * FROM jobs WHERE id = ?", (job_id,))
        if row is None:
            raise not_found("job", job_id)
        return dict(row, now=self._clock.now())

    def list(self, limit=None, continuation_token=None):
        limit = _parse_limit(limit)
        after = _decode_token(continuation_token) if continuation_token else None
        with self._store.lock:
            for row in self._store.all("SELECT * FROM jobs WHERE status = ?", (rules.JOB_STATUS_RUNNING,)):
                self.refresh(row)
            self.purge_expired()
            if after is None:
                rows = self._store.all("SELECT * FROM jobs ORDER BY seq DESC LIMIT ?", (limit + 1,))
            else:
                rows = self._store.all("SELECT * FROM jobs WHERE seq < ? ORDER BY seq DESC LIMIT ?", (after, limit + 1))
        page = rows[:limit]
        token = _encode_token(page[-1]["seq"]) if len(rows) > limit else None
        return {"pageSize": len(page), "items": [self.view(r) for r in page], "continuationToken": token}

    def running_rows(self):
        return self._store.all("SELECT * FROM jobs WHERE status = ?", (rules.JOB_STATUS_RUNNING,))

    # --- change --------------------------------------------------------------------------------

    def cancel(self, job_id):
        with self._store.lock:
            row = self._get_row(job_id)
            if row["status"] in rules.TERMINAL_STATUSES:
                raise ApiError(409, "The job '%s' is already %s and cannot be cancelled." % (job_id, row["status"]), field="status")
            state = evaluate(row, self._clock.now(), self._step())
            now = self._clock.now()
            changes = {"status": rules.JOB_STATUS_CANCELLED, "final_progress": state.progress, "final_stage": state.stage,
                       "completed_at": now, "updated_at": now}
            self._store.update("jobs", "id", job_id, changes)
            return self.view(dict(row, **changes))

    def record_work(self, job_id, artifacts=None, error=None):
        """The outcome of a job's real work; ignored when the job ended meanwhile (cancelled)."""
        with self._store.lock:
            row = self._store.one("SELECT * FROM jobs WHERE id = ?", (job_id,))
            if row is None or row["status"] != rules.JOB_STATUS_RUNNING:
                return
            now = self._clock.now()
            if error is None:
                self._store.update("jobs", "id", job_id, {"work_state": "done", "work_finished_at": now, "artifacts": artifacts})
            else:
                state = evaluate(row, now, self._step())
                self._store.update("jobs", "id", job_id, {
                    "work_state": "failed", "work_finished_at": now, "status": rules.JOB_STATUS_FAILED,
                    "final_progress": state.progress, "final_stage": row["work_stage"], "completed_at": now,
                    "updated_at": now, "error": dict(error, stage=row["work_stage"])})

    def requeue_interrupted_work(self):
        """After a restart, work that was running when the lab stopped runs again."""
        self._store.execute("UPDATE jobs SET work_state = 'pending' WHERE work_state = 'running' AND status = ?", (rules.JOB_STATUS_RUNNING,))

    # --- the job object ------------------------------------------------------------------------

    def view(self, row):
        state = evaluate(row, self._clock.now(), self._step())
        updated = state.completed_at or min(self._clock.now(), row["created_at"] + row["duration"])
        return {
            "id": row["id"], "type": row["type"], "status": state.status, "overallProgressPercent": state.progress,
            "currentStep": state.stage, "parameters": row["parameters"],
            "additionalInfo": {"artifacts": row["artifacts"] if state.status == rules.JOB_STATUS_COMPLETE else {}},
            "error": state.error, "warnings": row["warnings"], "createdAt": iso(row["created_at"]),
            "updatedAt": iso(max(updated, row["created_at"])), "completedAt": iso(state.completed_at),
        }

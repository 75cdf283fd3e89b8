"""DaaS jobs on the lab clock: submitted with an effect, they end `daas_job_seconds` later (lab time)
in their outcome (Complete, or what an injected outcome rule says), and only a completed job applies
its effect. Nothing runs in a thread: every request first settles the jobs whose time has come."""

import uuid

from ..common.clock import iso
from ..common.errors import ApiError, not_found
from ..common.faults import times_of
from . import rules


class DaasJobs(object):
    def __init__(self, store, clock, runtime):
        self._store = store
        self._clock = clock
        self._runtime = runtime
        self._effects = {}

    def on(self, kind, func):
        """Register func(effect) -> warning text or None, applied when a job with that effect kind completes."""
        self._effects[kind] = func

    def add_outcome(self, body):
        if not isinstance(body, dict):
            raise ApiError(400, "A job outcome rule must be a JSON object.", field="body")
        unknown = [k for k in body if k not in ("type", "status", "message", "times")]
        if unknown:
            raise ApiError(400, "The field '%s' is not known; allowed: type, status, message, times." % unknown[0], field=unknown[0])
        job_type = body.get("type", "*")
        if job_type != "*" and job_type not in rules.JOB_TYPES:
            raise ApiError(400, "The field 'type' must be * or one of %s." % ", ".join(rules.JOB_TYPES), field="type")
        if body.get("status") not in rules.INJECTABLE_OUTCOMES:
            raise ApiError(400, "The field 'status' must be one of %s." % ", ".join(rules.INJECTABLE_OUTCOMES), field="status")
        message = body.get("message") or "The lab failed this job on purpose."
        rule_id = str(uuid.uuid4())
        self._store.insert("outcomes", {"id": rule_id, "type": job_type, "status": body["status"], "message": str(message),
                                        "remaining": times_of(body)})
        return rule_id

    def _take_outcome(self, job_type):
        with self._store.lock:
            for row in self._store.all("SELECT * FROM outcomes ORDER BY seq"):
                if row["type"] not in ("*", job_type):
                    continue
                if row["remaining"] <= 1:
                    self._store.execute("DELETE FROM outcomes WHERE seq = ?", (row["seq"],))
                else:
                    self._store.update("outcomes", "seq", row["seq"], {"remaining": row["remaining"] - 1})
                return row["status"], row["message"]
        return "Complete", None

    def submit(self, job_type, parameters, effect, catalog=None):
        outcome, message = self._take_outcome(job_type)
        job_id = str(uuid.uuid4())
        self._store.insert("jobs", {"id": job_id, "type": job_type, "catalog": catalog, "parameters": parameters, "effect": effect,
                                    "created_at": self._clock.now(), "duration": float(self._runtime.get("daas_job_seconds")),
                                    "outcome": outcome, "message": message, "status": None, "ended_at": None})
        return self.get(job_id)

    def settle(self):
        """End every job whose time has come; apply the effects of those that complete."""
        now = self._clock.now()
        with self._store.lock:
            for row in self._store.all("SELECT * FROM jobs WHERE status IS NULL ORDER BY seq"):
                if row["created_at"] + row["duration"] > now:
                    continue
                status, message = row["outcome"], row["message"]
                if status in ("Complete", "CompleteWithWarning"):
                    try:
                        warning = self._effects[row["effect"]["kind"]](row["effect"])
                    except ApiError as exc:  # the world changed while it ran: the job fails with the reason
                        status, message = "Failed", exc.detail
                    else:
                        if warning and status == "Complete":
                            status, message = "CompleteWithWarning", warning
                elif row["effect"].get("on_failure"):
                    self._effects[row["effect"]["on_failure"]](row["effect"])
                self._store.update("jobs", "seq", row["seq"], {"status": status, "message": message,
                                                               "ended_at": row["created_at"] + row["duration"]})

    def busy(self, catalog_id):
        """The running provisioning job on a catalog, or None."""
        row = self._store.one("SELECT id FROM jobs WHERE catalog = ? AND status IS NULL AND type IN (?, ?)",
                              (catalog_id,) + rules.PROVISIONING_JOBS)
        return row["id"] if row else None

    def running_create(self, name):
        for row in self._store.all("SELECT * FROM jobs WHERE type = ? AND status IS NULL", (rules.JOB_CREATE_CATALOG,)):
            if row["effect"]["catalog"]["Name"].lower() == name.lower():
                return row["id"]
        return None

    def _row(self, ident):
        row = self._store.one("SELECT * FROM jobs WHERE id = ?", (ident,))
        if row is None:
            raise not_found("job", ident)
        return row

    def get(self, ident):
        return self.shape(self._row(ident))

    def list(self):
        return {"Items": [self.shape(r) for r in self._store.all("SELECT * FROM jobs ORDER BY seq")]}

    def cancel(self, ident):
        row = self._row(ident)
        if row["status"] is None:
            self._store.update("jobs", "seq", row["seq"], {"status": "Canceled", "message": "The job was canceled by an administrator.",
                                                           "ended_at": self._clock.now()})
            if row["effect"].get("on_failure"):
                self._effects[row["effect"]["on_failure"]](row["effect"])
        return self.get(ident)

    def shape(self, row):
        """JobResponseModel (names seen)."""
        now = self._clock.now()
        status = row["status"]
        if status is None:
            elapsed = max(0.0, now - row["created_at"])
            progress = int(min(99, 100 * elapsed / row["duration"])) if row["duration"] else 99
            status = "NotStarted" if elapsed == 0 else "InProgress"
        else:
            ran = (row["ended_at"] - row["created_at"]) / (row["duration"] or 1)
            progress = 100 if status in ("Complete", "CompleteWithWarning") else int(min(99, 100 * ran))
        failed = status in ("Failed", "Canceled", "CompleteWithWarning") and row["message"]
        return {
            "Id": row["id"], "Type": row["type"], "Status": status, "OverallProgressPercent": progress,
            "IsCancellable": row["status"] is None, "Parameters": row["parameters"], "SubJobs": [],
            "ResultLocation": row["effect"].get("result"),
            "ErrorString": row["message"] if failed else "", "ErrorCode": ("JobWarning" if status == "CompleteWithWarning" else status)
            if failed else "",
            "ErrorParameters": [{"Name": "ErrorDetails", "Value": "ErrorMessage : %s" % row["message"]}] if failed else [],
            "CreationTime": iso(row["created_at"]), "FormattedCreationTime": iso(row["created_at"]),
            "StartTime": iso(row["created_at"]), "EndTime": iso(row["ended_at"]), "FormattedEndTime": iso(row["ended_at"]),
        }

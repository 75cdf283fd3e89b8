"""Appliance tasks (work tickets, Int64 ids) on the lab clock: stages, progress, injected failures, the
real work run by the worker when a task reaches its work stage, cancel.

A task's progress is elapsed / task_seconds in multiples of progress_step; it completes when its time is
up AND its work is done (the work's failure fails it at the work stage, with the work's message).
"""

import math

from ..common.store import Store

TASK_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, state TEXT NOT NULL,
    parameters TEXT NOT NULL, created_at REAL NOT NULL, duration REAL NOT NULL, work_state TEXT, fail_stage TEXT,
    fail_message TEXT, result TEXT, message TEXT, completed_at REAL, final_progress INTEGER, final_stage TEXT, session TEXT);
CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, shell TEXT NOT NULL, user TEXT NOT NULL, address TEXT NOT NULL,
    created_at REAL NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS host_faults (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, rule TEXT NOT NULL,
    remaining INTEGER NOT NULL);
"""
FIRST_TASK_ID = 1000  # work ticket ids of a real appliance are well above 0; 0 means "not started"

RUNNING, COMPLETED, FAILED, CANCELED = "Running", "Completed", "Failed", "Canceled"
TERMINAL = (COMPLETED, FAILED, CANCELED)
# task type -> (stages in order, the stage whose start runs the real work); names inferred
TASK_TYPES = {
    "IpsExport": (("Queued", "DeployingCompositingEngine", "ExportingDisk", "CopyingToShare", "Finalizing"), "CopyingToShare"),
    "IpsPrepare": (("Queued", "DeployingCompositingEngine", "PreparingImage", "CreatingOutputDisk", "Finalizing"), "CreatingOutputDisk"),
    "IpsPublish": (("Queued", "DeployingCompositingEngine", "ConvertingDisk", "CopyingToShare", "Finalizing"), "CopyingToShare"),
    "IpsDiagnostics": (("Queued", "CollectingLogs", "CopyingToShare"), "CopyingToShare"),
}


class TaskStore(Store):
    def __init__(self, path):
        super().__init__(path, TASK_SCHEMA, json_columns=("parameters", "result"))
        with self.lock:
            if self.one("SELECT seq FROM sqlite_sequence WHERE name = 'tasks'") is None:
                self.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('tasks', ?)", (FIRST_TASK_ID - 1,))

    def reset(self, keep=()):
        super().reset(keep)
        with self.lock:  # ids keep growing: a re-run must never find an old id reused
            if self.one("SELECT seq FROM sqlite_sequence WHERE name = 'tasks'") is None:
                self.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('tasks', ?)", (FIRST_TASK_ID - 1,))


class Progress(object):
    """What the clock says about a task right now."""

    def __init__(self, state, percent, stage, wants_work=False, message=""):
        self.state, self.percent, self.stage, self.wants_work, self.message = state, percent, stage, wants_work, message


def evaluate(row, now, step):
    if row["state"] in TERMINAL:
        return Progress(row["state"], row["final_progress"] or 0, row["final_stage"], message=row["message"] or "")
    stages, work_stage = TASK_TYPES[row["type"]]
    fraction = min(1.0, max(0.0, (now - row["created_at"]) / row["duration"])) if row["duration"] > 0 else 1.0
    percent = int(math.floor(fraction * 100 / step) * step) if step > 0 else int(fraction * 100)
    index = min(len(stages) - 1, int(fraction * len(stages)))
    if row["fail_stage"] and index >= stages.index(row["fail_stage"]):
        return Progress(FAILED, percent, row["fail_stage"], message=row["fail_message"])
    work_index = stages.index(work_stage)
    if index >= work_index and row["work_state"] != "done":
        # the task waits in its work stage until the work is done
        return Progress(RUNNING, min(percent, 99), work_stage, wants_work=row["work_state"] == "pending")
    if percent >= 100:
        return Progress(COMPLETED, 100, stages[-1])
    return Progress(RUNNING, percent, stages[index])


class Tasks(object):
    def __init__(self, store, clock, runtime, faults):
        self._store = store
        self._clock = clock
        self._runtime = runtime
        self._faults = faults
        self.on_create = None  # the worker's poke: a new task starts at once

    def _step(self):
        return self._runtime.get("progress_step")

    def create(self, task_type, parameters, session):
        now = self._clock.now()
        failure = self._faults.take_task_failure(task_type)
        with self._store.lock:
            self._store.insert("tasks", {
                "type": task_type, "state": RUNNING, "parameters": parameters, "created_at": now,
                "duration": float(self._runtime.get("task_seconds")), "work_state": "pending",
                "fail_stage": failure["stage"] if failure else None, "fail_message": failure["message"] if failure else None,
                "result": {}, "message": "", "session": session})
            task_id = self._store.one("SELECT last_insert_rowid() AS id")["id"]
        if self.on_create is not None:
            self.on_create()
        return self.get(task_id)

    def refresh(self, row):
        """Persist a terminal state the clock implies; the fresh row."""
        with self._store.lock:
            row = self._store.one("SELECT * FROM tasks WHERE id = ?", (row["id"],)) or row
            if row["state"] in TERMINAL:
                return row
            now = self._clock.now()
            progress = evaluate(row, now, self._step())
            if progress.state == RUNNING:
                return row
            changes = {"state": progress.state, "final_progress": progress.percent, "final_stage": progress.stage,
                       "completed_at": now, "message": progress.message or ""}
            self._store.update("tasks", "id", row["id"], changes)
            return dict(row, **changes)

    def get(self, task_id):
        """The task row (refreshed) or None."""
        row = self._store.one("SELECT * FROM tasks WHERE id = ?", (int(task_id),))
        return self.refresh(row) if row else None

    def all(self):
        return [self.refresh(r) for r in self._store.all("SELECT * FROM tasks ORDER BY id")]

    def running(self):
        return self._store.all("SELECT * FROM tasks WHERE state = ?", (RUNNING,))

    def claim_work(self, row):
        with self._store.lock:
            row = self.refresh(row)
            if row["state"] != RUNNING or not evaluate(row, self._clock.now(), self._step()).wants_work:
                return None
            self._store.update("tasks", "id", row["id"], {"work_state": "running"})
            return row

    def record_work(self, task_id, result=None, error=None):
        with self._store.lock:
            row = self._store.one("SELECT * FROM tasks WHERE id = ?", (task_id,))
            if row is None or row["state"] != RUNNING:
                return
            if error is None:
                self._store.update("tasks", "id", task_id, {"work_state": "done", "result": result or {}})
                return
            progress = evaluate(row, self._clock.now(), self._step())
            self._store.update("tasks", "id", task_id, {
                "work_state": "failed", "state": FAILED, "final_progress": progress.percent, "final_stage": TASK_TYPES[row["type"]][1],
                "completed_at": self._clock.now(), "message": error})

    def requeue_interrupted_work(self):
        self._store.execute("UPDATE tasks SET work_state = 'pending' WHERE work_state = 'running' AND state = ?", (RUNNING,))

    def cancel(self, task_id):
        """The canceled row; a finished task stays as it is."""
        with self._store.lock:
            row = self.get(task_id)
            if row is None or row["state"] in TERMINAL:
                return row
            progress = evaluate(row, self._clock.now(), self._step())
            changes = {"state": CANCELED, "final_progress": progress.percent, "final_stage": progress.stage,
                       "completed_at": self._clock.now(), "message": "The task was canceled."}
            self._store.update("tasks", "id", row["id"], changes)
            return dict(row, **changes)

    def progress(self, row):
        return evaluate(row, self._clock.now(), self._step())

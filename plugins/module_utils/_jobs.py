# -*- coding: utf-8 -*-
# Copyright: citrix_community.ips contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPS jobs: look-ups and the one job shape every module returns.

`shape()` is the only code that turns a service job into the collection's job dict, so
ips_job_info and every job module return the same keys.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import math

from ansible_collections.citrix_community.ips.plugins.module_utils._errors import IPSApiError, IPSError
from ansible_collections.citrix_community.ips.plugins.module_utils import _waiter
from ansible_collections.citrix_community.ips.plugins.module_utils import _wire

# The collection's normalised job states.
RUNNING = "running"
COMPLETE = "complete"
FAILED = "failed"
CANCELLED = "cancelled"
STATES = (RUNNING, COMPLETE, FAILED, CANCELLED)

_TYPE_FROM_WIRE = dict((name.json.lower(), option) for option, name in _wire.JOB_TYPES.items())


def state_of(status):
    """The service's status string -> one of STATES (unknown strings are terminal failures)."""
    status = str(status or "")
    if status in _wire.JOB_STATUS_RUNNING:
        return RUNNING
    if status in _wire.JOB_STATUS_COMPLETE:
        return COMPLETE
    if status.lower() in _wire.JOB_STATUS_CANCELLED:
        return CANCELLED
    return FAILED


def percent(value):
    """A progress percentage as a number: an int when whole (37), else one decimal (37.4); 0 when unreadable."""
    try:
        value = round(float(value), 1)
    except (TypeError, ValueError):
        return 0
    if math.isnan(value) or math.isinf(value):
        return 0
    return int(value) if value.is_integer() else value


def _field(raw, key, default=None):
    value = raw.get(_wire.JOB_FIELDS[key].json)
    return default if value is None else value


def shape(raw):
    """A service job -> the collection's job dict."""
    parameters = _field(raw, "parameters", {})
    additional = _field(raw, "additional_info", {})
    tags = parameters.get(_wire.JOB_COMMON_FIELDS["tags"].json) or {}
    wire_type = str(_field(raw, "type", ""))
    progress = percent(_field(raw, "progress", 0))
    status = _field(raw, "status", "")
    return {
        "id": _field(raw, "id"),
        "type": _TYPE_FROM_WIRE.get(wire_type.lower(), wire_type),
        "status": status,
        "state": state_of(status),
        "progress": progress,
        "stage": _field(raw, "stage"),
        "parameters": parameters,
        "artifacts": additional.get(_wire.JOB_FIELDS["artifacts"].json) or {},
        "error": _field(raw, "error"),
        "warnings": _field(raw, "warnings", []),
        "created_at": _field(raw, "created_at"),
        "updated_at": _field(raw, "updated_at"),
        "idempotency_key": tags.get(_wire.IDEMPOTENCY_TAG) if isinstance(tags, dict) else None,
        # what the job was submitted for: "publish" for the export job ips_publish submits, else the type
        "kind": (tags.get(_wire.KIND_TAG) if isinstance(tags, dict) else None) or _TYPE_FROM_WIRE.get(wire_type.lower(), wire_type),
    }


def get(client, job_id):
    """The shaped job, or None when the service does not know it (or forgot it after 24 h)."""
    try:
        return shape(client.call("job", path_params={"id": job_id}).data)
    except IPSApiError as err:
        if err.status == 404:
            return None
        raise


def matches(job, job_type=None, states=None, tags=None):
    """Whether a shaped job passes the filters of ips_job_info."""
    if job_type and job["type"] != job_type:
        return False
    if states and job["state"] not in states:
        return False
    if tags:
        have = job["parameters"].get(_wire.JOB_COMMON_FIELDS["tags"].json) or {}
        if any(have.get(k) != v for k, v in tags.items()):
            return False
    return True


def find(client, job_type=None, states=None, tags=None, limit=None):
    """Shaped jobs (newest first, as the service lists them) that pass the filters."""
    found = []
    for raw in client.iter_pages("jobs"):
        job = shape(raw)
        if matches(job, job_type, states, tags):
            found.append(job)
            if limit and len(found) >= limit:
                break
    return found


# --- submitting and waiting ---------------------------------------------------------------------


class JobFailed(IPSError):
    """The job ended in failure or was cancelled; the service's error is in the message."""

    def __init__(self, job):
        self.job = job
        self.job_id = job["id"]
        self.job_status = job["status"]
        self.progress = job["progress"]
        error = job["error"] or {}
        detail = (error.get("message") if isinstance(error, dict) else str(error)) or "the service gave no reason"
        super(JobFailed, self).__init__(
            "Job %s ended %s at %s%% (stage %s): %s" % (self.job_id, job["state"], self.progress, job["stage"] or "unknown", detail))


def idempotency_key(job_type, body):
    """A deterministic key for a job request: the same request gives the same key on every run.

    Tags are left out: they describe the job, they don't make it a different job.
    """
    tags_field = _wire.JOB_COMMON_FIELDS["tags"].json
    material = dict((k, v) for k, v in body.items() if k != tags_field)
    canonical = json.dumps([job_type, material], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def find_by_key(client, key):
    """The newest job carrying this idempotency key, or None."""
    for raw in client.iter_pages("jobs"):
        job = shape(raw)
        if job["idempotency_key"] == key:
            return job
    return None


def submit(client, job_type, body, dry_run=False):
    """POST the job. With dry_run the service only validates; returns its answer as sent."""
    query = {_wire.QUERY_DRY_RUN.json: "true"} if dry_run else None
    data = client.call(job_type, query=query, body=body).data
    return data if dry_run else shape(data)


def cancel(client, job_id):
    """Ask the service to cancel the job; returns the job as the service then reports it."""
    client.call("job_cancel", path_params={"id": job_id})
    return get(client, job_id)


def status_of(job):
    """What the waiter reports of a shaped job (progress lines, timeout errors)."""
    return _waiter.Status(job["id"], job["status"], job["progress"], job["stage"])


def wait(client, job, waiter):
    """Look at the job until it leaves RUNNING; returns the final shaped job.

    Raises the waiter's WaitTimeout (with the last job as `.job`, for the failed task's result)
    when the wait runs out. Transient HTTP failures are already retried by the client for GETs.
    """
    def look():
        latest = get(client, job["id"])
        if latest is None:
            raise IPSError("Job %s disappeared from the service while it was being watched (jobs are kept 24 h after they end)." % job["id"])
        return latest

    try:
        return waiter.until("Job", look, lambda j: j["state"] != RUNNING, status_of, first=job)
    except _waiter.WaitTimeout as err:
        err.job = err.last
        raise

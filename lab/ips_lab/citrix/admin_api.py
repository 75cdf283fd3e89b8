"""The /_lab/ admin API (header X-IPS-Lab-Admin): reset, config, faults, job failures, clock, inspection."""

import hmac
import re

from ..common.clock import iso
from ..common.errors import ApiError

ADMIN_HEADER = "X-IPS-Lab-Admin"


def _reset(lab, req):
    lab.reset()
    return 204, None, {}


def _get_config(lab, req):
    return 200, lab.runtime.all(), {}


def _put_config(lab, req):
    return 200, lab.runtime.update(req.json()), {}


def _add_fault(lab, req):
    return 201, {"id": lab.faults.add(req.json())}, {}


def _list_faults(lab, req):
    return 200, {"items": lab.faults.list()}, {}


def _clear_faults(lab, req):
    lab.faults.clear()
    return 204, None, {}


def _add_job_failure(lab, req):
    return 201, {"id": lab.jobs.add_failure(req.json())}, {}


def _add_daas_outcome(lab, req):
    return 201, {"id": lab.daas.jobs.add_outcome(req.json())}, {}


def _advance_clock(lab, req):
    body = req.json()
    seconds = body.get("advance_seconds") if isinstance(body, dict) else None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        raise ApiError(400, "The field 'advance_seconds' must be a number >= 0 (the clock never runs backwards).", field="advance_seconds")
    offset = lab.clock.advance(seconds)
    return 200, {"offset_seconds": offset, "now": iso(lab.clock.now())}, {}


def _requests(lab, req):
    return 200, {"items": lab.recorder.items()}, {}


def _clear_requests(lab, req):
    lab.recorder.clear()
    return 204, None, {}


def _raw_job(lab, req, ident):
    return 200, lab.jobs.raw(ident), {}


ROUTES = [
    ("POST", r"/_lab/reset", _reset),
    ("GET", r"/_lab/config", _get_config),
    ("PUT", r"/_lab/config", _put_config),
    ("POST", r"/_lab/faults", _add_fault),
    ("GET", r"/_lab/faults", _list_faults),
    ("DELETE", r"/_lab/faults", _clear_faults),
    ("POST", r"/_lab/job-failures", _add_job_failure),
    ("POST", r"/_lab/daas/job-outcomes", _add_daas_outcome),
    ("POST", r"/_lab/clock", _advance_clock),
    ("GET", r"/_lab/requests", _requests),
    ("DELETE", r"/_lab/requests", _clear_requests),
    ("GET", r"/_lab/jobs/(?P<ident>[^/]+)/raw", _raw_job),
]
_COMPILED = [(method, re.compile(pattern + r"/?\Z"), func) for method, pattern, func in ROUTES]


def dispatch(lab, req):
    given = req.headers.get(ADMIN_HEADER) or ""
    if not hmac.compare_digest(given.encode(), lab.config["admin_token"].encode()):
        raise ApiError(401, "The %s header is missing or wrong." % ADMIN_HEADER, field=ADMIN_HEADER)
    allowed = []
    for method, pattern, func in _COMPILED:
        match = pattern.match(req.route)
        if match and method == req.method:
            return func(lab, req, **match.groupdict())
        if match:
            allowed.append(method)
    if allowed:
        raise ApiError(405, "%s is not allowed on %s; allowed: %s." % (req.method, req.path, ", ".join(allowed)), field="method",
                       headers={"Allow": ", ".join(allowed)})
    raise ApiError(404, "There is no admin route %s %s." % (req.method, req.path), field="route")

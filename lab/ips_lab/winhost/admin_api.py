"""The Windows host's /_lab/ admin API (header X-IPS-Lab-Admin, JSON), like the other stand-ins':
reset, config, faults, clock, recorded calls, tasks, shells, the PVS farm."""

import hmac

from ..common.clock import iso
from ..common.errors import ApiError

ADMIN_HEADER = "X-IPS-Lab-Admin"


def _reset(host, body):
    host.reset()
    return 204, None


def _get_config(host, body):
    return 200, host.runtime.all()


def _put_config(host, body):
    return 200, host.runtime.update(body)


def _add_fault(host, body):
    if isinstance(body, dict) and body.get("action") == "expire_sessions":
        host.appliance.expire_sessions()
        return 200, {"id": None, "expired": True}
    if isinstance(body, dict) and body.get("action") == "drop_shells":
        dropped = len(host.shells.all())
        host.shells.clear()
        return 200, {"id": None, "dropped": dropped}
    return 201, {"id": host.faults.add(body)}


def _list_faults(host, body):
    return 200, {"items": host.faults.list()}


def _clear_faults(host, body):
    host.faults.clear()
    return 204, None


def _advance_clock(host, body):
    seconds = body.get("advance_seconds") if isinstance(body, dict) else None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        raise ApiError(400, "The field 'advance_seconds' must be a number >= 0 (the clock never runs backwards).", field="advance_seconds")
    offset = host.clock.advance(seconds)
    return 200, {"offset_seconds": offset, "now": iso(host.clock.now())}


def _calls(host, body):
    return 200, {"items": host.recorder.items()}


def _clear_calls(host, body):
    host.recorder.clear()
    return 204, None


def _tasks(host, body):
    items = []
    for row in host.tasks.all():
        progress = host.tasks.progress(row)
        items.append({"id": row["id"], "type": row["type"], "state": progress.state, "stage": progress.stage,
                      "percent": progress.percent, "message": progress.message, "parameters": row["parameters"],
                      "result": row["result"], "work_state": row["work_state"]})
    return 200, {"items": items}


def _shells(host, body):
    return 200, {"items": [{"id": s.id, "client": s.client, "pipelines": len(s.pipelines),
                            "connections": len(s.state.get("connections", []))} for s in host.shells.all()]}


def _pvs(host, body):
    return 200, host.pvs.state()


ROUTES = {
    ("POST", "/_lab/reset"): _reset,
    ("GET", "/_lab/config"): _get_config,
    ("PUT", "/_lab/config"): _put_config,
    ("POST", "/_lab/faults"): _add_fault,
    ("GET", "/_lab/faults"): _list_faults,
    ("DELETE", "/_lab/faults"): _clear_faults,
    ("POST", "/_lab/clock"): _advance_clock,
    ("GET", "/_lab/calls"): _calls,
    ("DELETE", "/_lab/calls"): _clear_calls,
    ("GET", "/_lab/requests"): _calls,  # the name LabAdmin.requests() uses for every stand-in
    ("DELETE", "/_lab/requests"): _clear_calls,
    ("GET", "/_lab/tasks"): _tasks,
    ("GET", "/_lab/shells"): _shells,
    ("GET", "/_lab/pvs"): _pvs,
}


def dispatch(host, method, path, headers, body):
    """(status, JSON body or None); ApiError for a bad call."""
    given = headers.get(ADMIN_HEADER) or ""
    if not hmac.compare_digest(given.encode(), host.config["admin_token"].encode()):
        raise ApiError(401, "The %s header is missing or wrong." % ADMIN_HEADER, field=ADMIN_HEADER)
    route = path.rstrip("/")
    func = ROUTES.get((method, route))
    if func is None:
        allowed = [m for (m, r) in ROUTES if r == route]
        if allowed:
            raise ApiError(405, "%s is not allowed on %s; allowed: %s." % (method, path, ", ".join(allowed)), field="method")
        raise ApiError(404, "There is no admin route %s %s." % (method, path), field="route")
    return func(host, body)

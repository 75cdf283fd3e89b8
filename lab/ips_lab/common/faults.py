"""Fault injection: HTTP fault rules (status, drop, slow) matched per request, kept in a stand-in's
store (common/store.py) so a restart keeps pending rules. The Citrix Cloud stand-in and the cloud
planes apply the same rules; job-failure rules are the Citrix Cloud stand-in's (citrix/jobs.py)."""

import json
import re
import uuid

from .errors import ApiError

ACTIONS = ("status", "drop", "slow")
RULE_KEYS = ("method", "path", "action", "status", "retry_after", "delay", "times")


def number_field(body, key, default, minimum):
    value = body.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise ApiError(400, "The fault field '%s' must be a number >= %s (got %s)." % (key, minimum, json.dumps(value)), field=key)
    return value


def times_of(body):
    """The rule's `times` (default 1): a whole number >= 1, else 400."""
    times = number_field(body, "times", 1, 1)
    if int(times) != times:
        raise ApiError(400, "The field 'times' must be a whole number >= 1.", field="times")
    return int(times)


class Faults(object):
    def __init__(self, store, extra_actions=()):
        """`extra_actions`: the stand-in's own actions beyond status, drop and slow (the EBS front's `lose`)."""
        self._store = store
        self._actions = ACTIONS + tuple(extra_actions)

    def add(self, body):
        if not isinstance(body, dict):
            raise ApiError(400, "A fault rule must be a JSON object.", field="body")
        unknown = [k for k in body if k not in RULE_KEYS]
        if unknown:
            raise ApiError(400, "The fault field '%s' is not known; allowed: %s." % (unknown[0], ", ".join(RULE_KEYS)), field=unknown[0])
        action = body.get("action")
        if action not in self._actions:
            raise ApiError(400, "The fault field 'action' must be one of %s." % ", ".join(self._actions), field="action")
        path = body.get("path", ".*")
        try:
            re.compile(path)
        except (re.error, TypeError) as exc:
            raise ApiError(400, "The fault field 'path' is not a valid regular expression: %s." % exc, field="path")
        method = str(body.get("method", "*")).upper()
        rule = {"method": method, "path": path, "action": action, "retry_after": number_field(body, "retry_after", None, 0),
                "delay": number_field(body, "delay", 1.0, 0), "status": None}
        if action == "status":
            status = number_field(body, "status", 503, 100)
            if int(status) != status or status > 599:
                raise ApiError(400, "The fault field 'status' must be an HTTP status code.", field="status")
            rule["status"] = int(status)
        fault_id = str(uuid.uuid4())
        self._store.insert("faults", {"id": fault_id, "rule": rule, "remaining": times_of(body)})
        return fault_id

    def clear(self):
        self._store.execute("DELETE FROM faults")

    def list(self):
        return [dict(r["rule"], id=r["id"], times=r["remaining"]) for r in self._store.all("SELECT * FROM faults ORDER BY seq")]

    def take(self, method, path):
        """The first rule matching this request, counted down (and gone at zero); None if none."""
        with self._store.lock:
            for row in self._store.all("SELECT * FROM faults ORDER BY seq"):
                rule = row["rule"]
                if rule["method"] not in ("*", method) or not re.search(rule["path"], path):
                    continue
                if row["remaining"] <= 1:
                    self._store.execute("DELETE FROM faults WHERE seq = ?", (row["seq"],))
                else:
                    self._store.update("faults", "seq", row["seq"], {"remaining": row["remaining"] - 1})
                return dict(rule, id=row["id"])
        return None

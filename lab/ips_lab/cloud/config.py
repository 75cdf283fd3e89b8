"""The lab's configuration: fixed keys from the config file, and the keys /_lab/config may change."""

import json

from . import rules
from .errors import ApiError


def is_number(value):
    """A JSON number (bool is not one)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# Keys the admin API may change at runtime: (check, what the check wants, for the 400 message).
MUTABLE = {
    "token_ttl": (lambda v: is_number(v) and v > 0, "a positive number"),
    "job_seconds": (lambda v: is_number(v) and v >= 0, "a non-negative number"),
    "retention_seconds": (lambda v: is_number(v) and v >= 0, "a non-negative number"),
    "progress_step": (lambda v: is_number(v) and 0 < v <= 100, "a number > 0 and <= 100"),
}
DEFAULTS = {"host": "127.0.0.1", "port": 0, "token_ttl": 3600, "job_seconds": 4, "progress_step": 1,
            "retention_seconds": rules.RETENTION_SECONDS, "smb": {},
            "moto_url": None, "azure": None, "gce": None}
REQUIRED = ("customer_id", "client_id", "client_secret", "admin_token", "resource_location_ids")


def load_config(config):
    """A config dict (from the JSON file or a test) with defaults filled in; ValueError if incomplete."""
    out = json.loads(json.dumps(DEFAULTS))
    out.update(config)
    missing = [k for k in REQUIRED if not out.get(k)]
    if missing:
        raise ValueError("lab config lacks: %s" % ", ".join(missing))
    if out["host"] not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the lab listens on loopback only (host %r)" % out["host"])
    given = {k: v for k, v in (out.get("smb") or {}).items() if v is not None}
    out["smb"] = dict({"host": "127.0.0.1", "port": 445}, **given)
    return out


class RuntimeConfig(object):
    """The mutable keys: defaults from the config file, overrides persisted in the store.

    `mutable` maps each key to (check, what the check wants); the Citrix Cloud stand-in's MUTABLE
    by default (the cloud planes pass their own).
    """

    def __init__(self, store, defaults, mutable=None):
        self._store = store
        self._mutable = MUTABLE if mutable is None else mutable
        self._defaults = {k: defaults[k] for k in self._mutable}

    def get(self, key):
        return self.all()[key]

    def all(self):
        return dict(self._defaults, **self._store.get_meta("config", {}))

    def update(self, changes):
        if not isinstance(changes, dict):
            raise ApiError(400, "The config body must be a JSON object.", field="body")
        for key, value in changes.items():
            if key not in self._mutable:
                raise ApiError(400, "The config key '%s' is not known; allowed: %s." % (key, ", ".join(sorted(self._mutable))),
                               field=key)
            check, wanted = self._mutable[key]
            if not check(value):
                raise ApiError(400, "The config key '%s' must be %s (got %s)." % (key, wanted, json.dumps(value)), field=key)
        with self._store.lock:
            self._store.set_meta("config", dict(self._store.get_meta("config", {}), **changes))
        return self.all()

    def reset(self):
        """Every key back to its default."""
        with self._store.lock:
            self._store.execute("DELETE FROM meta WHERE key = 'config'")

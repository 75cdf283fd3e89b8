"""Runtime settings of a stand-in: the keys its `/_lab/config` admin route reads and changes."""

import json

from .errors import ApiError


def is_number(value):
    """A JSON number (bool is not one)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class RuntimeConfig(object):
    """The keys `/_lab/config` may change while a stand-in runs: defaults from its config file,
    overrides persisted in its store (meta key "config").

    `mutable` maps each key to (check, what the check wants, for the 400 message): the Citrix Cloud
    stand-in's citrix.config.MUTABLE, a plane's own settings.
    """

    def __init__(self, store, defaults, mutable):
        self._store = store
        self._mutable = mutable
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

"""The Credential Wallet: create, list, get, replace, delete. Secrets are stored, never answered."""

import sqlite3

from ..common import rules
from ..common.clock import iso
from ..common.errors import ApiError, not_found
from .validation import validate_credential


def metadata(row):
    return {"id": row["id"], "type": row["type"], "state": "Ok", "createdAt": iso(row["created_at"]),
            "updatedAt": iso(row["updated_at"])}


class Wallet(object):
    def __init__(self, store, clock):
        self._store = store
        self._clock = clock

    def create(self, body):
        cred_id, cred_type, secrets = validate_credential(body)
        now = self._clock.now()
        row = {"id": cred_id, "type": cred_type, "secrets": secrets, "created_at": now, "updated_at": now}
        try:
            self._store.insert("credentials", row)
        except sqlite3.IntegrityError:
            raise ApiError(409, "A credential with id '%s' already exists." % cred_id, field="id")
        return metadata(row)

    def list(self, cred_type=None):
        if cred_type is not None and cred_type not in rules.CREDENTIAL_TYPES:
            raise ApiError(400, "The query parameter 'type' must be one of %s." % ", ".join(rules.CREDENTIAL_TYPES), field="type")
        rows = self._store.all("SELECT * FROM credentials ORDER BY created_at, id")
        return {"items": [metadata(r) for r in rows if cred_type in (None, r["type"])]}

    def _row(self, cred_id):
        row = self._store.one("SELECT * FROM credentials WHERE id = ?", (cred_id,))
        if row is None:
            raise not_found("credential", cred_id)
        return row

    def get(self, cred_id):
        return metadata(self._row(cred_id))

    def replace(self, cred_id, body):
        with self._store.lock:
            row = self._row(cred_id)
            cred_type, secrets = validate_credential(body, path_id=cred_id)[1:]
            # Strictly later than the last write, even within one clock tick.
            now = max(self._clock.now(), row["updated_at"] + 1e-6)
            self._store.update("credentials", "id", cred_id, {"type": cred_type, "secrets": secrets, "updated_at": now})
            return metadata(dict(row, type=cred_type, updated_at=now))

    def delete(self, cred_id):
        with self._store.lock:
            self._row(cred_id)
            self._store.execute("DELETE FROM credentials WHERE id = ?", (cred_id,))

    def type_of(self, cred_id):
        row = self._store.one("SELECT type FROM credentials WHERE id = ?", (cred_id,))
        return row["type"] if row else None

    def secrets_of(self, cred_id):
        """For the lab's own jobs (the export's SMB login) only; never part of an answer."""
        row = self._store.one("SELECT type, secrets FROM credentials WHERE id = ?", (cred_id,))
        return (row["type"], row["secrets"]) if row else (None, None)

"""A stand-in's persistent state: one sqlite file behind one lock, with the tables every stand-in
uses (meta: runtime settings and the lab clock's offset; faults: fault rules) plus its own
(the Citrix Cloud stand-in's jobs, credentials, ... in citrix/store.py). A restart keeps them all.
"""

import json
import sqlite3
import threading

BASE_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS faults (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, rule TEXT NOT NULL,
    remaining INTEGER NOT NULL);
"""
BASE_JSON_COLUMNS = ("rule",)


class Store(object):
    """Thread-safe access to one sqlite file; `lock` also serialises read-modify-write sequences.

    `schema` adds a stand-in's own tables; values of `json_columns` are stored as JSON text and
    read back decoded.
    """

    def __init__(self, path, schema="", json_columns=()):
        self.lock = threading.RLock()
        self._json_columns = frozenset(BASE_JSON_COLUMNS + tuple(json_columns))
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = self._row
        self._db.executescript(BASE_SCHEMA + schema)

    def _row(self, cursor, row):
        out = {}
        for column, value in zip(cursor.description, row):
            name = column[0]
            out[name] = json.loads(value) if name in self._json_columns and value is not None else value
        return out

    def close(self):
        with self.lock:
            self._db.close()

    def execute(self, sql, args=()):
        with self.lock:
            return self._db.execute(sql, [json.dumps(a) if isinstance(a, (dict, list)) else a for a in args])

    def all(self, sql, args=()):
        with self.lock:  # fetch under the lock too: the connection is shared by every thread
            return self.execute(sql, args).fetchall()

    def one(self, sql, args=()):
        with self.lock:
            return self.execute(sql, args).fetchone()

    # --- meta ----------------------------------------------------------------------------------

    def get_meta(self, key, default=None):
        row = self.one("SELECT value FROM meta WHERE key = ?", (key,))
        return json.loads(row["value"]) if row else default

    def set_meta(self, key, value):
        self.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    # --- rows ----------------------------------------------------------------------------------

    def insert(self, table, row):
        names = sorted(row)
        sql = "INSERT INTO %s (%s) VALUES (%s)" % (table, ", ".join(names), ", ".join("?" * len(names)))
        self.execute(sql, [row[n] for n in names])

    def update(self, table, key, key_value, changes):
        names = sorted(changes)
        sql = "UPDATE %s SET %s WHERE %s = ?" % (table, ", ".join("%s = ?" % n for n in names), key)
        self.execute(sql, [changes[n] for n in names] + [key_value])

    def reset(self, keep=()):
        """Forget every row except those of the `keep` tables and the clock (time never runs backwards)."""
        with self.lock:
            tables = [r["name"] for r in self.all("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
            for table in tables:
                if table not in keep and table != "meta":
                    self.execute("DELETE FROM %s" % table)
            self.execute("DELETE FROM meta WHERE key != 'clock_offset'")

"""The lab's persistent state: one sqlite file, <state-dir>/ips.sqlite, behind one lock.

Every table a restart must keep lives here: jobs, credentials, tokens (their hashes), config,
fault rules, job-failure rules and the lab clock's offset.
"""

import json
import sqlite3
import threading

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS credentials (
    id TEXT PRIMARY KEY, type TEXT NOT NULL, secrets TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (digest TEXT PRIMARY KEY, customer_id TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, type TEXT NOT NULL, status TEXT NOT NULL,
    parameters TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL, completed_at REAL,
    duration REAL NOT NULL, stages TEXT NOT NULL, work_stage TEXT, work_state TEXT, work_finished_at REAL,
    fail_stage TEXT, fail_code TEXT, fail_message TEXT,
    final_progress INTEGER, final_stage TEXT, artifacts TEXT NOT NULL, error TEXT, warnings TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS faults (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, rule TEXT NOT NULL,
    remaining INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS job_failures (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, type TEXT NOT NULL,
    stage TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL, remaining INTEGER NOT NULL);
"""

JSON_COLUMNS = ("parameters", "stages", "artifacts", "error", "warnings", "rule", "secrets")


def _row(cursor, row):
    out = {}
    for column, value in zip(cursor.description, row):
        name = column[0]
        out[name] = json.loads(value) if name in JSON_COLUMNS and value is not None else value
    return out


class Store(object):
    """Thread-safe access to ips.sqlite; `lock` also serialises read-modify-write sequences."""

    def __init__(self, path):
        self.lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = _row
        self._db.executescript(SCHEMA)

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

    def reset(self, keep=("tokens",)):
        """Forget everything except `keep` tables and the clock (time never runs backwards)."""
        with self.lock:
            for table in ("credentials", "jobs", "faults", "job_failures", "tokens"):
                if table not in keep:
                    self.execute("DELETE FROM %s" % table)
            self.execute("DELETE FROM meta WHERE key != 'clock_offset'")

"""The Citrix Cloud stand-in's persistent state: <state-dir>/ips.sqlite.

Every table a restart must keep lives here: jobs, credentials, tokens (their hashes), job-failure
rules, and the tables every stand-in has (common/store.py: config, fault rules, the lab clock's
offset).
"""

from ..common.store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS credentials (
    id TEXT PRIMARY KEY, type TEXT NOT NULL, secrets TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (digest TEXT PRIMARY KEY, customer_id TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, type TEXT NOT NULL, status TEXT NOT NULL,
    parameters TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL, completed_at REAL,
    duration REAL NOT NULL, stages TEXT NOT NULL, work_stage TEXT, work_state TEXT, work_finished_at REAL,
    fail_stage TEXT, fail_code TEXT, fail_message TEXT,
    final_progress INTEGER, final_stage TEXT, artifacts TEXT NOT NULL, error TEXT, warnings TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS job_failures (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, type TEXT NOT NULL,
    stage TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL, remaining INTEGER NOT NULL);
"""
JSON_COLUMNS = ("parameters", "stages", "artifacts", "error", "warnings", "secrets")


class IpsStore(Store):
    """ips.sqlite: the common tables plus the IPS ones; a reset keeps the tokens (and the clock)."""

    def __init__(self, path):
        super().__init__(path, SCHEMA, JSON_COLUMNS)

    def reset(self, keep=("tokens",)):
        super().reset(keep)

"""The DaaS stand-in's persistent state: <state-dir>/daas.sqlite (catalogs, image definitions and
versions, jobs, job-outcome rules, the resource cache). A reset re-seeds the site."""

from ..common.store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS catalogs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, name TEXT UNIQUE NOT NULL,
    data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS definitions (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, name TEXT UNIQUE NOT NULL,
    data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS versions (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, definition TEXT NOT NULL,
    number INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, type TEXT NOT NULL,
    catalog TEXT, parameters TEXT NOT NULL, effect TEXT NOT NULL, created_at REAL NOT NULL, duration REAL NOT NULL,
    outcome TEXT NOT NULL, message TEXT, status TEXT, ended_at REAL);
CREATE TABLE IF NOT EXISTS outcomes (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, type TEXT NOT NULL,
    status TEXT NOT NULL, message TEXT NOT NULL, remaining INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS resource_cache (key TEXT PRIMARY KEY, items TEXT NOT NULL, cached_at REAL NOT NULL);
"""
JSON_COLUMNS = ("data", "parameters", "effect", "items")


class DaasStore(Store):
    def __init__(self, path):
        super().__init__(path, SCHEMA, JSON_COLUMNS)

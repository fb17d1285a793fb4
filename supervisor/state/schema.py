"""The state database's tables, and bringing an older file up to them.

Tables are created if missing (`CREATE TABLE IF NOT EXISTS`), so a state file of an older holdemd
gains the newer tables (executors, placements) on open; a column added later is added with its
default. `meta.schema_version` guards against a file from an incompatible holdemd.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    dir TEXT NOT NULL,
    config TEXT,
    seed INTEGER NOT NULL,
    iters INTEGER,
    time_budget_s REAL,
    n_instances INTEGER NOT NULL,
    state TEXT NOT NULL,
    desired TEXT NOT NULL,
    phase TEXT NOT NULL,
    reason TEXT,
    merged TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    workers INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS instances (
    run_id TEXT NOT NULL REFERENCES runs(id),
    idx INTEGER NOT NULL,
    dir TEXT NOT NULL,
    seed INTEGER NOT NULL,
    target_iters INTEGER,
    state TEXT NOT NULL,
    desired TEXT NOT NULL,
    pid INTEGER,
    pid_start INTEGER,
    launches INTEGER NOT NULL DEFAULT 0,
    restarts INTEGER NOT NULL DEFAULT 0,
    iter INTEGER NOT NULL DEFAULT 0,
    last_checkpoint TEXT,
    last_checkpoint_iter INTEGER,
    reason TEXT,
    updated REAL NOT NULL,
    PRIMARY KEY (run_id, idx)
);
CREATE TABLE IF NOT EXISTS restarts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    t REAL NOT NULL,
    reason TEXT NOT NULL,
    exit_code INTEGER,
    resumed_from TEXT,
    counted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS run_executors (
    run_id TEXT PRIMARY KEY REFERENCES runs(id),
    spec TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS placements (
    run_id TEXT NOT NULL REFERENCES runs(id),
    idx INTEGER NOT NULL,
    executor TEXT NOT NULL,
    job_id TEXT,
    node TEXT,
    updated REAL NOT NULL,
    PRIMARY KEY (run_id, idx)
);
"""


def apply_schema(db: sqlite3.Connection, path: Path) -> None:
    """Create what is missing and check the version (raises RuntimeError for another schema)."""
    db.executescript(SCHEMA)
    columns = {r[1] for r in db.execute("PRAGMA table_info(runs)")}
    if "workers" not in columns:  # a database of a holdemd from before workers: every run had one
        db.execute("ALTER TABLE runs ADD COLUMN workers INTEGER NOT NULL DEFAULT 1")
    if "counted" not in {r[1] for r in db.execute("PRAGMA table_info(restarts)")}:
        # from before the crash-loop window was kept: its restarts start a fresh window
        db.execute("ALTER TABLE restarts ADD COLUMN counted INTEGER NOT NULL DEFAULT 0")
    db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    version = int(db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])
    if version != SCHEMA_VERSION:
        raise RuntimeError(f"{path}: schema version {version}, this holdemd knows {SCHEMA_VERSION}")

"""Persisted daemon state: SQLite in WAL mode, one file in the state dir.

Invariant: every change is committed (synchronous=FULL) before the daemon acts on it or
acknowledges it, so a SIGKILL at any moment loses nothing that was reported. Progress counters
are not written per event (that would be thousands of fsyncs a second); an instance's iteration is
persisted with each checkpoint, which is the only iteration a restart can resume from anyway.

A full disk or an I/O error: a transaction is all or nothing (SQLite), so the file is never
half-written. A failed instance/run update or restart record is kept in memory, shown by reads at
once, and written by the next write or `flush()` that succeeds; the daemon goes on meanwhile.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from supervisor.state.rows import (
    INSTANCE_COLUMNS,
    RUN_COLUMNS,
    InstanceRow,
    PlacementRow,
    RestartRow,
    RunRow,
    as_params,
)
from supervisor.state.schema import apply_schema

_DISK_ERRORS = frozenset({10, 13})  # SQLITE_IOERR, SQLITE_FULL (primary result codes)
MAX_PENDING_RESTARTS = 10_000
log = logging.getLogger("holdemd")


class StoreCorrupt(Exception):
    """The database file fails SQLite's integrity check (or is not a database at all)."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(f"state database {path} is damaged ({detail})")
        self.path = path
        self.detail = detail


class Store:
    """Thin typed access to the state database. Single-threaded: the daemon's event loop owns it.

    Opening runs `PRAGMA quick_check` (a few ms on our small database): a damaged file is refused
    with StoreCorrupt at start, instead of failing every later request.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, timeout=10.0)
        self._pending_runs: dict[str, dict[str, Any]] = {}
        self._pending_insts: dict[tuple[str, int], dict[str, Any]] = {}
        self._pending_restarts: list[tuple[RestartRow, int]] = []
        self.write_error: str | None = None  # why changes are waiting in memory, while they are
        try:
            self._open()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise StoreCorrupt(path, str(exc)) from None
        except StoreCorrupt:
            self._db.close()
            raise

    def _open(self) -> None:
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        problems = [r[0] for r in self._db.execute("PRAGMA quick_check(5)")]
        if problems != ["ok"]:
            raise StoreCorrupt(self.path, "; ".join(problems))
        apply_schema(self._db, self.path)

    def close(self) -> None:
        self._db.close()

    def _tx(self) -> _Tx:
        return _Tx(self._db)

    # runs -------------------------------------------------------------------------------------
    def create_run(self, run: RunRow, instances: list[InstanceRow]) -> None:
        """A run and all its instances appear atomically, or not at all."""
        with self._tx():
            self._db.execute(
                "INSERT INTO runs VALUES (:id,:dir,:config,:seed,:iters,:time_budget_s,:n_instances,"
                ":state,:desired,:phase,:reason,:merged,:created,:updated,:workers)",
                as_params(run),
            )
            for inst in instances:
                self._db.execute(
                    "INSERT INTO instances VALUES (:run_id,:idx,:dir,:seed,:target_iters,:state,:desired,"
                    ":pid,:pid_start,:launches,:restarts,:iter,:last_checkpoint,:last_checkpoint_iter,"
                    ":reason,:updated)",
                    as_params(inst),
                )

    def update_run(self, run_id: str, **changes: Any) -> None:
        bad = set(changes) - set(RUN_COLUMNS)
        if bad:
            raise ValueError(f"not a run column: {sorted(bad)}")
        self._pending_runs[run_id] = {**self._pending_runs.get(run_id, {}), **changes}
        self.flush()

    def _write_run(self, run_id: str, changes: dict[str, Any]) -> None:
        sets = ", ".join(f"{k}=?" for k in changes)
        self._db.execute(f"UPDATE runs SET {sets}, updated=? WHERE id=?", (*changes.values(), time.time(), run_id))

    def run(self, run_id: str) -> RunRow | None:
        row = self._db.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        return self._run_row(row) if row else None

    def runs(self) -> list[RunRow]:
        """All runs, newest first."""
        return [self._run_row(r) for r in self._db.execute("SELECT * FROM runs ORDER BY created DESC, id DESC")]

    def _run_row(self, row: tuple[Any, ...]) -> RunRow:
        run = RunRow(*row)
        pending = self._pending_runs.get(run.id)
        return replace(run, **pending) if pending else run

    # instances --------------------------------------------------------------------------------
    def update_instance(self, run_id: str, idx: int, **changes: Any) -> None:
        bad = set(changes) - set(INSTANCE_COLUMNS)
        if bad:
            raise ValueError(f"not an instance column: {sorted(bad)}")
        key = (run_id, idx)
        self._pending_insts[key] = {**self._pending_insts.get(key, {}), **changes}
        self.flush()

    def _write_instance(self, key: tuple[str, int], changes: dict[str, Any]) -> None:
        sets = ", ".join(f"{k}=?" for k in changes)
        self._db.execute(
            f"UPDATE instances SET {sets}, updated=? WHERE run_id=? AND idx=?", (*changes.values(), time.time(), *key)
        )

    def instance(self, run_id: str, idx: int) -> InstanceRow | None:
        row = self._db.execute("SELECT * FROM instances WHERE run_id=? AND idx=?", (run_id, idx)).fetchone()
        return self._instance_row(row) if row else None

    def instances(self, run_id: str) -> list[InstanceRow]:
        return [
            self._instance_row(r)
            for r in self._db.execute("SELECT * FROM instances WHERE run_id=? ORDER BY idx", (run_id,))
        ]

    # executors and placements (tables of their own, so older state files simply gain them) ---
    def set_run_executor(self, run_id: str, spec: dict[str, Any]) -> None:
        with self._tx():
            self._db.execute(
                "INSERT OR REPLACE INTO run_executors(run_id, spec) VALUES (?, ?)",
                (run_id, json.dumps(spec, sort_keys=True)),
            )

    def run_executor(self, run_id: str) -> dict[str, Any] | None:
        """The executor spec the run was created with; None for runs older than executors (local)."""
        row = self._db.execute("SELECT spec FROM run_executors WHERE run_id=?", (run_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def set_placement(self, row: PlacementRow) -> None:
        """Best effort, like set_restart_resumed_from: a placement is shown, never resumed from, and
        the next launch writes it again."""
        try:
            with self._tx():
                self._db.execute(
                    "INSERT OR REPLACE INTO placements(run_id, idx, executor, job_id, node, updated) "
                    "VALUES (?,?,?,?,?,?)",
                    (row.run_id, row.idx, row.executor, row.job_id, row.node, time.time()),
                )
        except sqlite3.OperationalError as exc:
            if (getattr(exc, "sqlite_errorcode", 0) & 0xFF) not in _DISK_ERRORS:
                raise

    def placement(self, run_id: str, idx: int) -> PlacementRow | None:
        row = self._db.execute(
            "SELECT run_id, idx, executor, job_id, node FROM placements WHERE run_id=? AND idx=?", (run_id, idx)
        ).fetchone()
        return PlacementRow(*row) if row else None

    def _instance_row(self, row: tuple[Any, ...]) -> InstanceRow:
        inst = InstanceRow(*row)
        pending = self._pending_insts.get((inst.run_id, inst.idx))
        return replace(inst, **pending) if pending else inst

    # writes that wait out a full disk ----------------------------------------------------------
    @property
    def unsaved(self) -> int:
        """Changes held in memory because the disk refused them."""
        return len(self._pending_runs) + len(self._pending_insts) + len(self._pending_restarts)

    def flush(self) -> bool:
        """Write every change held in memory in one transaction; False (all kept) if the disk refuses."""
        if not self.unsaved:
            return True
        try:
            with self._tx():
                for run_id, changes in self._pending_runs.items():
                    self._write_run(run_id, changes)
                for key, changes in self._pending_insts.items():
                    self._write_instance(key, changes)
                for row, restarts in self._pending_restarts:
                    self._insert_restart(row, restarts)
        except sqlite3.OperationalError as exc:
            if (getattr(exc, "sqlite_errorcode", 0) & 0xFF) not in _DISK_ERRORS:
                self._pending_runs.clear()  # not the disk: retrying would fail the same way for ever
                self._pending_insts.clear()
                self._pending_restarts.clear()
                raise
            if self.write_error is None:
                log.warning(
                    "state database %s refuses writes (%s): keeping changes in memory until it takes them",
                    self.path,
                    exc,
                )
            self.write_error = str(exc)
            return False
        self._pending_runs.clear()
        self._pending_insts.clear()
        self._pending_restarts.clear()
        if self.write_error is not None:
            log.info("state database %s takes writes again; held changes saved", self.path)
        self.write_error = None
        return True

    # restarts ---------------------------------------------------------------------------------
    def record_restart(self, row: RestartRow, restarts: int) -> int | None:
        """The restart log entry and the instance's counter change together; returns the entry's id
        (None if the disk refused it: it is then written later, with the next write that succeeds)."""
        if len(self._pending_restarts) < MAX_PENDING_RESTARTS:
            self._pending_restarts.append((row, restarts))
        if not self.flush():
            return None
        return self.last_restart_id(row.run_id, row.idx)

    def _insert_restart(self, row: RestartRow, restarts: int) -> None:
        self._db.execute(
            "INSERT INTO restarts(run_id, idx, t, reason, exit_code, resumed_from, counted) VALUES (?,?,?,?,?,?,?)",
            (row.run_id, row.idx, row.t, row.reason, row.exit_code, row.resumed_from, int(row.counted)),
        )
        self._db.execute(
            "UPDATE instances SET restarts=?, updated=? WHERE run_id=? AND idx=?",
            (restarts, time.time(), row.run_id, row.idx),
        )

    def set_restart_resumed_from(self, restart_id: int, checkpoint: str | None) -> None:
        """What the relaunch actually resumed from, as its `started` event reported it (best effort)."""
        if not self.flush():
            return
        try:
            with self._tx():
                self._db.execute("UPDATE restarts SET resumed_from=? WHERE id=?", (checkpoint, restart_id))
        except sqlite3.OperationalError as exc:
            if (getattr(exc, "sqlite_errorcode", 0) & 0xFF) not in _DISK_ERRORS:
                raise

    def forget_crashes(self, run_id: str, idx: int) -> None:
        """The operator gives the instance a new try: its restarts so far no longer count toward
        --max-restarts (best effort on a full disk, like set_restart_resumed_from)."""
        self._pending_restarts = [
            (replace(r, counted=False) if (r.run_id, r.idx) == (run_id, idx) else r, n)
            for r, n in self._pending_restarts
        ]
        try:
            with self._tx():
                self._db.execute("UPDATE restarts SET counted=0 WHERE run_id=? AND idx=?", (run_id, idx))
        except sqlite3.OperationalError as exc:
            if (getattr(exc, "sqlite_errorcode", 0) & 0xFF) not in _DISK_ERRORS:
                raise

    def last_restart_id(self, run_id: str, idx: int) -> int | None:
        row = self._db.execute("SELECT max(id) FROM restarts WHERE run_id=? AND idx=?", (run_id, idx)).fetchone()
        return row[0] if row and row[0] is not None else None

    def restarts(self, run_id: str, idx: int | None = None) -> list[RestartRow]:
        q = "SELECT run_id, idx, t, reason, exit_code, resumed_from, counted FROM restarts WHERE run_id=?"
        args: tuple[Any, ...] = (run_id,)
        if idx is not None:
            q += " AND idx=?"
            args += (idx,)
        return [
            RestartRow(run, i, t, reason, code, resumed, bool(counted))
            for run, i, t, reason, code, resumed, counted in self._db.execute(q + " ORDER BY id", args)
        ]

    def counted_restarts_since(self, run_id: str, idx: int, since: float) -> list[float]:
        """When the restarts that count toward --max-restarts happened (unix time, oldest first),
        those still held in memory by a full disk included: the crash-loop window a daemon resumes."""
        rows = self._db.execute(
            "SELECT t FROM restarts WHERE run_id=? AND idx=? AND counted AND t>=? ORDER BY t", (run_id, idx, since)
        )
        held = [r.t for r, _ in self._pending_restarts if (r.run_id, r.idx) == (run_id, idx) and r.counted]
        return sorted([t for (t,) in rows] + [t for t in held if t >= since])


class _Tx:
    """BEGIN IMMEDIATE ... COMMIT; the commit returns only once the WAL is on disk."""

    __slots__ = ("_db",)

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
                return
            except sqlite3.Error:
                self._rollback()  # e.g. SQLITE_FULL at commit: leave no transaction open
                raise
        self._rollback()

    def _rollback(self) -> None:
        if self._db.in_transaction:
            try:
                self._db.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # SQLite has rolled back already

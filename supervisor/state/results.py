"""What the daemon learns about its runs, kept apart from the control state: metric history,
evaluation ladders and prepare-phase estimates, in `<state dir>/results.sqlite3` (WAL).

The control database (store.py) holds what a restart needs to resume; this one holds what a person
looks at. Keeping them apart means a damaged or full results file never stops a run, and
`holdemd recover` (which rebuilds the control database) leaves the history alone.

History is written in batches: `observe` is called for every progress event (the daemon's hot
path) and only keeps a point in memory when the instance's sampling interval has passed; `flush`
commits the batch in one transaction (every few seconds, and before a `history` reply). Each
instance keeps at most `cap` points: when it passes the cap, every other stored point is dropped
(the first is kept) and the instance's interval doubles, so the points stay evenly spread over the
whole life of a run, however many days it lasts.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("holdemd")
DEFAULT_CAP = 4096  # points per instance
DEFAULT_INTERVAL_S = 1.0  # between kept points, until the first thinning
MAX_PENDING = 100_000  # points held in memory while the disk refuses them
_DISK_ERRORS = frozenset({10, 13})  # SQLITE_IOERR, SQLITE_FULL

_SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    run_id TEXT NOT NULL, idx INTEGER NOT NULL, t REAL NOT NULL, iter INTEGER NOT NULL, ips REAL NOT NULL,
    metrics TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_by_instance ON samples(run_id, idx, t);
CREATE TABLE IF NOT EXISTS sample_rates (
    run_id TEXT NOT NULL, idx INTEGER NOT NULL, interval_s REAL NOT NULL, PRIMARY KEY (run_id, idx)
);
CREATE TABLE IF NOT EXISTS evals (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, state TEXT NOT NULL, source TEXT NOT NULL,
    started REAL NOT NULL, finished REAL, error TEXT, ladder_path TEXT, ladder TEXT, pid INTEGER,
    pid_start INTEGER, auto INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS estimates (run_id TEXT PRIMARY KEY, doc TEXT NOT NULL, t REAL NOT NULL);
"""


@dataclass(slots=True)
class _Series:
    """One instance's sampling state (in memory; its interval is also stored)."""

    interval_s: float
    count: int  # points stored plus pending
    last_t: float  # time of the last kept point
    latest: tuple[float, int, float, Any] | None = None  # the newest event seen while not kept
    thin: bool = False


@dataclass(frozen=True, slots=True)
class EvalRow:
    id: int
    run_id: str
    state: str  # running | done | failed
    source: dict[str, Any]
    started: float
    finished: float | None
    error: str | None
    ladder_path: str | None
    ladder: dict[str, Any] | None
    pid: int | None
    pid_start: int | None
    auto: bool

    def to_status(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "source": self.source,
            "started": self.started,
            "finished": self.finished,
            "error": self.error,
            "ladder": self.ladder,
            "ladder_path": self.ladder_path,
            "automatic": self.auto,
        }


@dataclass
class Results:
    path: Path
    cap: int = DEFAULT_CAP
    interval_s: float = DEFAULT_INTERVAL_S
    _series: dict[tuple[str, int], _Series] = field(default_factory=dict)
    _pending: list[tuple[str, int, float, int, float, str]] = field(default_factory=list)
    _estimates: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    write_error: str | None = None

    def __post_init__(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), isolation_level=None, timeout=10.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self.flush()
        self._db.close()

    # history ----------------------------------------------------------------------------------
    def observe(self, ev: dict[str, Any]) -> None:
        """A progress event of instance `ev["instance"]`: keep it if its instance's interval has passed."""
        t = ev.get("t")
        if not isinstance(t, (int, float)):
            t = ev.get("t_recv") or time.time()
        key = (ev["run"], ev["instance"])
        series = self._series.get(key) or self._load(key)
        it = ev.get("iter")
        point = (float(t), it if isinstance(it, int) else 0, float(ev.get("ips") or 0.0), ev.get("metrics") or {})
        if t - series.last_t < series.interval_s:
            series.latest = point  # no copy: the event is not changed after it is published
            return
        metrics = json.dumps(point[3], separators=(",", ":"))
        series.latest = None
        series.last_t = float(t)
        series.count += 1
        if series.count > self.cap:
            series.thin = True
        if len(self._pending) < MAX_PENDING:
            self._pending.append((key[0], key[1], point[0], point[1], point[2], metrics))

    def _load(self, key: tuple[str, int]) -> _Series:
        row = self._db.execute("SELECT interval_s FROM sample_rates WHERE run_id=? AND idx=?", key).fetchone()
        count, last = self._db.execute("SELECT count(*), max(t) FROM samples WHERE run_id=? AND idx=?", key).fetchone()
        series = _Series(row[0] if row else self.interval_s, count, last if last is not None else float("-inf"))
        self._series[key] = series
        return series

    def flush(self) -> bool:
        """Commit the kept points (and thin the instances over the cap); False if the disk refuses."""
        thin = [k for k, s in self._series.items() if s.thin]
        if not self._pending and not thin:
            return True
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO samples(run_id, idx, t, iter, ips, metrics) VALUES (?,?,?,?,?,?)", self._pending
                )
                for key in thin:
                    self._thin(key)
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            if (getattr(exc, "sqlite_errorcode", 0) & 0xFF) not in _DISK_ERRORS:
                self._pending.clear()
                raise
            if self.write_error is None:
                log.warning("results database %s refuses writes (%s); keeping history points in memory", self.path, exc)
            self.write_error = str(exc)
            return False
        self._pending.clear()
        for key in thin:
            s = self._series[key]
            s.thin = False
            s.interval_s *= 2
            s.count = self._db.execute("SELECT count(*) FROM samples WHERE run_id=? AND idx=?", key).fetchone()[0]
        self.write_error = None
        return True

    def _thin(self, key: tuple[str, int]) -> None:
        """Drop every other point of one instance (the 2nd, 4th, ...; the first stays) and double its interval."""
        self._db.execute(
            "DELETE FROM samples WHERE rowid IN (SELECT rowid FROM (SELECT rowid, row_number() OVER "
            "(ORDER BY t, rowid) AS n FROM samples WHERE run_id=? AND idx=?) WHERE n % 2 = 0)",
            key,
        )
        self._db.execute(
            "INSERT OR REPLACE INTO sample_rates(run_id, idx, interval_s) VALUES (?,?,?)",
            (*key, self._series[key].interval_s * 2),
        )

    def history(self, run_id: str, idx: int, max_points: int) -> list[dict[str, Any]]:
        """Every stored point of an instance, oldest first, evenly down-sampled to max_points (the
        first and the newest are always in it), plus the newest event seen if it is not stored."""
        self.flush()
        rows = self._db.execute(
            "SELECT t, iter, ips, metrics FROM samples WHERE run_id=? AND idx=? ORDER BY t, rowid", (run_id, idx)
        ).fetchall()
        points = [{"t": t, "iter": it, "ips": ips, "metrics": m} for t, it, ips, m in rows]
        series = self._series.get((run_id, idx))
        if series is not None and series.latest is not None and (not rows or series.latest[0] > rows[-1][0]):
            t, it, ips, metrics = series.latest
            points.append({"t": t, "iter": it, "ips": ips, "metrics": metrics})
        if len(points) > max_points:
            n = len(points)
            points = [points[round(i * (n - 1) / (max_points - 1))] for i in range(max_points)]
        for p in points:  # decoded last: only the points sent
            if isinstance(p["metrics"], str):
                p["metrics"] = json.loads(p["metrics"])
        return points

    # evaluations ------------------------------------------------------------------------------
    def _write(self, sql: str, args: tuple[Any, ...]) -> int | None:
        """One best-effort statement (a full disk loses it, logged); returns lastrowid."""
        try:
            cur = self._db.execute(sql, args)
            return cur.lastrowid
        except sqlite3.OperationalError as exc:
            if (getattr(exc, "sqlite_errorcode", 0) & 0xFF) not in _DISK_ERRORS:
                raise
            log.warning("results database %s refused a write: %s", self.path, exc)
            return None

    def eval_started(self, run_id: str, source: dict[str, Any], auto: bool) -> int:
        rid = self._write(
            "INSERT INTO evals(run_id, state, source, started, auto) VALUES (?,?,?,?,?)",
            (run_id, "running", json.dumps(source), time.time(), int(auto)),
        )
        return rid if rid is not None else -1

    def eval_source(self, eval_id: int, source: dict[str, Any]) -> None:
        self._write("UPDATE evals SET source=? WHERE id=?", (json.dumps(source), eval_id))

    def eval_pid(self, eval_id: int, pid: int, pid_start: int | None) -> None:
        self._write("UPDATE evals SET pid=?, pid_start=? WHERE id=?", (pid, pid_start, eval_id))

    def eval_finished(
        self, eval_id: int, state: str, error: str | None, ladder: dict[str, Any] | None, ladder_path: str | None
    ) -> None:
        self._write(
            "UPDATE evals SET state=?, finished=?, error=?, ladder=?, ladder_path=?, pid=NULL, "
            "pid_start=NULL WHERE id=?",
            (state, time.time(), error, json.dumps(ladder) if ladder is not None else None, ladder_path, eval_id),
        )

    def evals(self, run_id: str | None = None, state: str | None = None) -> list[EvalRow]:
        """Evaluations, newest first (of one run and/or in one state)."""
        q = "SELECT * FROM evals WHERE 1=1"
        args: list[str] = []
        if run_id is not None:
            q, args = q + " AND run_id=?", [*args, run_id]
        if state is not None:
            q, args = q + " AND state=?", [*args, state]
        out = []
        for r in self._db.execute(q + " ORDER BY id DESC", args):
            out.append(
                EvalRow(
                    r[0],
                    r[1],
                    r[2],
                    json.loads(r[3]),
                    r[4],
                    r[5],
                    r[6],
                    r[7],
                    json.loads(r[8]) if r[8] else None,
                    r[9],
                    r[10],
                    bool(r[11]),
                )
            )
        return out

    # estimates --------------------------------------------------------------------------------
    def set_estimate(self, run_id: str, doc: dict[str, Any]) -> None:
        self._write(
            "INSERT OR REPLACE INTO estimates(run_id, doc, t) VALUES (?,?,?)", (run_id, json.dumps(doc), time.time())
        )

        self._estimates[run_id] = doc

    def estimate(self, run_id: str) -> dict[str, Any] | None:
        """Read once per run, then from memory (status asks for it on every call)."""
        if run_id not in self._estimates:
            row = self._db.execute("SELECT doc FROM estimates WHERE run_id=?", (run_id,)).fetchone()
            self._estimates[run_id] = json.loads(row[0]) if row else None
        return self._estimates[run_id]

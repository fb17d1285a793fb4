"""What a storm of faults must not cost (issue 27), on a real holdemd with the contract-speaking fake
worker: a left-behind instance that is stopped (SIGSTOP) or hung, restart counts across daemon
restarts, and run ids that select nothing. Every wait is on an event or bounded by a deadline."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from sv_harness import FAKE_WORKER, HoldemD, write_config

from supervisor.state.store import RestartRow, Store

QUICK = ["--backoff-base", "0.05", "--backoff-cap", "0.2", "--tensorboard-interval", "0.5"]


def proc_state(pid: int) -> str | None:
    """The one-letter state of /proc/PID/stat, None once the process is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0].decode()
    except OSError:
        return None
    return None if state == "Z" else state


async def wait_gone(pid: int, timeout: float) -> None:
    """Return once pid is gone (or a zombie); fail after timeout."""
    deadline = time.monotonic() + timeout
    while proc_state(pid) is not None:
        assert time.monotonic() < deadline, f"pid {pid} still there after {timeout} s ({proc_state(pid)})"
        await asyncio.sleep(0.02)


def crash_restarts(d: HoldemD) -> int:
    with sqlite3.connect(d.state / "holdemd.sqlite3") as db:
        return db.execute("SELECT count(*) FROM restarts WHERE exit_code = 3").fetchone()[0]


async def test_restart_counts_survive_a_daemon_restart(tmp_path: Path) -> None:
    """--max-restarts counts the crashes of the window whatever happens to the daemon: an instance
    that crash-loops through a daemon SIGKILL is failed after 4 restarts in all, not 4 per daemon."""
    args = ["--backoff-base", "1", "--backoff-cap", "1", "--max-restarts", "4", "--restart-window", "600"]
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_MODE": "crash"}, args=args)
    try:
        await d.start("--instances", "1", "--config", str(write_config(tmp_path / "c.yaml")), "--iters", "1000")
        await d.wait_until(lambda s: s["instances"][0]["restarts"] >= 2, what="two restarts")
        await d.kill9()
        before = crash_restarts(d)
        assert 2 <= before < 4
        await d.start()
        st = await d.wait_until(lambda s: s["instances"][0]["state"] == "failed", what="failed")
        assert crash_restarts(d) == 4
        assert st["instances"][0]["reason"].startswith("failed: 4 restarts within 600s"), st["instances"][0]
    finally:
        await d.stop()


def test_a_state_file_from_before_the_window_keeps_its_restarts_uncounted(tmp_path: Path) -> None:
    path = tmp_path / "holdemd.sqlite3"
    with sqlite3.connect(path) as db:  # the restarts table as an older holdemd made it
        db.execute(
            "CREATE TABLE restarts (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, idx INTEGER NOT NULL,"
            " t REAL NOT NULL, reason TEXT NOT NULL, exit_code INTEGER, resumed_from TEXT)"
        )
        db.execute(
            "INSERT INTO restarts(run_id, idx, t, reason, exit_code) VALUES ('r', 0, ?, 'exit code 1', 1)", (1.0,)
        )
    store = Store(path)
    assert store.counted_restarts_since("r", 0, 0.0) == []
    store.record_restart(RestartRow("r", 0, 5.0, "exit code 1", 1, None, counted=True), restarts=2)
    store.record_restart(RestartRow("r", 0, 6.0, "restart requested", None, None), restarts=3)
    store.close()
    again = Store(path)  # what the next daemon reads
    assert again.counted_restarts_since("r", 0, 0.0) == [5.0]
    assert [r.counted for r in again.restarts("r", 0)] == [False, True, False]
    again.forget_crashes("r", 0)  # the operator's resume: a new try
    assert again.counted_restarts_since("r", 0, 0.0) == []
    again.close()

"""What a storm of faults must not cost (issue 27), on a real holdemd with the contract-speaking fake
worker: a left-behind instance that is stopped (SIGSTOP) or hung, restart counts across daemon
restarts, and run ids that select nothing. Every wait is on an event or bounded by a deadline."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import time
from pathlib import Path

from sv_harness import FAKE_WORKER, HoldemD, instance_pids, write_config

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


async def test_a_sigstopped_orphan_is_continued_and_stops_with_its_checkpoint(tmp_path: Path) -> None:
    """The storm's frozen process outlived three daemon restarts (SIGTERM without SIGCONT waited out
    the 120 s --stop-timeout each time): now it is gone within seconds, having checkpointed."""
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_IPS": "300", "FAKE_SURVIVE_EPIPE": "1"}, args=QUICK)
    try:
        config = str(write_config(tmp_path / "c.yaml"))
        await d.start("--instances", "1", "--config", config, "--iters", "10000000")
        st = await d.wait_until(lambda s: instance_pids(s) and s["instances"][0]["last_checkpoint"], what="running")
        [pid] = instance_pids(st)
        await d.kill9()
        os.kill(pid, signal.SIGSTOP)
        while proc_state(pid) != "T":
            await asyncio.sleep(0.01)
        t0 = time.monotonic()
        await d.start()  # --stop-timeout is its default, 120 s
        await wait_gone(pid, timeout=60)
        took = time.monotonic() - t0
        st = await d.wait_until(
            lambda s: instance_pids(s) not in ([], [pid]) and s["instances"][0]["state"] == "running", what="relaunched"
        )
        print(f"SIGSTOPped orphan gone {took:.2f} s after the new daemon started")
        assert took < 30
        with sqlite3.connect(d.state / "holdemd.sqlite3") as db:
            [(reason,)] = db.execute("SELECT reason FROM restarts").fetchall()
        assert reason == f"holdemd restarted; orphan pid {pid} stopped"
        log = (Path(st["instances"][0]["dir"]) / "train.log").read_text()
        assert log.index("stopped orphan pid") < log.rindex("resumed from iteration")
    finally:
        await d.stop()


async def test_a_hung_orphan_is_killed_after_the_heartbeat_timeout_and_status_says_so(tmp_path: Path) -> None:
    """A left-behind instance that neither trains nor answers SIGTERM: no sign of life within the
    heartbeat timeout means SIGKILL, as for a child of our own; meanwhile status names it."""
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_MODE": "hang"}, args=[*QUICK, "--heartbeat-timeout", "5"])
    pid = 0
    try:
        config = str(write_config(tmp_path / "c.yaml"))
        await d.start("--instances", "1", "--config", config, "--iters", "10000000")
        st = await d.wait_until(lambda s: instance_pids(s), what="a hung child")  # no progress: starting
        [pid] = instance_pids(st)
        log = Path(st["instances"][0]["dir"]) / "train.log"
        while f"fake worker pid {pid}" not in (log.read_text() if log.exists() else ""):
            await asyncio.sleep(0.02)  # its one stderr line is out: nothing more it writes can fail
        await d.kill9()
        del d.env["FAKE_MODE"]  # its relaunch trains
        t0 = time.monotonic()
        await d.start()
        st = await d.wait_until(
            lambda s: s["instances"][0]["state"] == "stopping" and str(pid) in (s["instances"][0]["reason"] or ""),
            what="status naming the left-behind pid",
            timeout=30,
        )
        inst = st["instances"][0]
        assert inst["pid"] == pid and "left behind" in inst["reason"], inst
        await wait_gone(pid, timeout=60)
        took = time.monotonic() - t0
        print(f"hung orphan gone {took:.2f} s after the new daemon started (heartbeat timeout 5 s)")
        assert 5 <= took < 20
        await d.wait_until(lambda s: instance_pids(s) not in ([], [pid]), what="relaunched")
    finally:
        await d.stop()
        if proc_state(pid) and str(tmp_path) in Path(f"/proc/{pid}/cmdline").read_text(errors="replace"):
            os.kill(pid, signal.SIGKILL)  # a hung orphan that this test saw survive: not left behind


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


# Every method that takes a run, with the other parameters it needs to get as far as choosing one.
TAKES_A_RUN: list[tuple[str, dict[str, object]]] = [
    ("run.stop", {}),
    ("run.resume", {}),
    ("instance.restart", {"index": 0}),
    ("run.merge", {}),
    ("status", {}),
    ("history", {}),
    ("logs.tail", {}),
    ("strategy", {"range": True}),
    ("run.eval", {}),
    ("subscribe", {}),
]


async def test_an_empty_run_id_selects_no_run(tmp_path: Path) -> None:
    """ "" is a prefix of every run id: it stopped the only run. Now every method refuses it, naming
    the parameter, over the real socket, and the run goes on."""
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_IPS": "300"}, args=QUICK)
    try:
        await d.start("--instances", "1", "--config", str(write_config(tmp_path / "c.yaml")), "--iters", "10000000")
        await d.wait_until(lambda s: s["instances"][0]["state"] == "running", what="running")
        reader, writer = await asyncio.open_unix_connection(str(d.sock))
        for n, (method, params) in enumerate(TAKES_A_RUN):
            request = {"id": n, "method": method, "params": {"run": "", **params}}
            writer.write(json.dumps(request).encode() + b"\n")
            reply = json.loads(await asyncio.wait_for(reader.readline(), 30))
            assert reply["id"] == n and "result" not in reply, (method, reply)
            error = reply["error"]
            assert error["code"] == "invalid_params" and re.search("['\"]run['\"]", error["message"]), (method, reply)
        writer.close()
        st = await d.status()
        assert st["state"] == "running" and st["instances"][0]["state"] == "running"
    finally:
        await d.stop()

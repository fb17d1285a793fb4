"""The daemon's own writes on a full disk (a real tmpfs, filled): child log lines are dropped and
counted, not raised inside event-loop callbacks; the instances back off with "disk full" and are
never failed for it; the daemon answers throughout; and the run finishes by itself once space
returns, with a note in each log of what was dropped. Needs root (mount -t tmpfs)."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sv_harness import FAKE_WORKER, HoldemD, fill, tmpfs, write_config

FAST = [
    "--heartbeat-timeout",
    "20",
    "--backoff-base",
    "0.05",
    "--backoff-cap",
    "0.3",
    "--stop-timeout",
    "20",
    "--tensorboard-interval",
    "0.2",
    "--low-space-mb",
    "4",
]


@pytest.fixture
def small_fs(tmp_path: Path):
    with tmpfs(tmp_path / "fs", "16m") as mnt:
        yield mnt


async def test_a_full_disk_is_waited_out_and_the_daemon_answers_throughout(small_fs: Path, tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_IPS": "1500"}, args=FAST)
    d.state, d.runs = small_fs / "state", small_fs / "runs"
    try:
        await d.start("--instances", "2", "--config", str(write_config(tmp_path / "c.yaml")), "--iters", "24000")
        await d.wait_until(
            lambda s: all(i["state"] == "running" and i["last_checkpoint"] for i in s["instances"]),
            what="running with checkpoints",
        )
        filler = fill(small_fs)
        st = await d.wait_until(
            lambda s: all("disk full" in (i["reason"] or "") for i in s["instances"]),
            what="both instances backing off on the full disk",
            timeout=60,
        )
        assert st["state"] == "running"
        deadline = time.monotonic() + 60
        while True:  # everything answers, fast, while the disk stays full and log lines are dropped
            t0 = time.monotonic()
            res = await d.call("status")
            tail = await d.call("logs.tail", {"index": 0, "lines": 5})
            assert time.monotonic() - t0 < 2.0 and tail["lines"]
            assert all(i["state"] in ("backoff", "starting", "running") for i in res["runs"][0]["instances"])
            if res["daemon"]["log_lines_dropped"] >= 5:  # the logs' last pages have filled up too
                break
            assert time.monotonic() < deadline, "no log line was ever dropped"
            await asyncio.sleep(0.1)
        daemon = res["daemon"]
        assert daemon["disk"][0]["free_bytes"] < 4 << 20
        assert any(w.startswith("low disk space") for w in daemon["warnings"]), daemon["warnings"]
        shown = subprocess.run(
            [sys.executable, "-m", "supervisor.ctl", "--socket", str(d.sock), "status"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert shown.returncode == 0 and shown.stdout.startswith("warning: low disk space")
        assert "disk full" in shown.stdout

        filler.unlink()
        st = await d.wait_until(
            lambda s: s["state"] in ("done", "failed"), what="run done after space returned", timeout=120
        )
        assert st["state"] == "done" and sum(i["iter"] for i in st["instances"]) == 24000
        assert all(i["state"] == "done" for i in st["instances"])
        res = await d.call("status")
        assert not res["daemon"]["warnings"] and res["daemon"]["unsaved_changes"] == 0
        logs = [(Path(i["dir"]) / "train.log").read_text() for i in st["instances"]]
        assert any("log line(s) dropped here: No space left on device" in log for log in logs)
    finally:
        await d.stop()
    with sqlite3.connect(d.state / "holdemd.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert any("disk full" in r[0] for r in db.execute("SELECT reason FROM restarts"))


async def test_stop_and_resume_answer_while_the_disk_is_full(small_fs: Path, tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_IPS": "1500"}, args=FAST)
    d.state, d.runs = small_fs / "state", small_fs / "runs"
    try:
        await d.start("--instances", "2", "--config", str(write_config(tmp_path / "c.yaml")), "--iters", "24000")
        await d.wait_until(lambda s: all(i["last_checkpoint"] for i in s["instances"]), what="checkpoints")
        filler = fill(small_fs)
        await d.wait_until(
            lambda s: any("disk full" in (i["reason"] or "") for i in s["instances"]), what="disk full seen", timeout=60
        )
        ctl = [sys.executable, "-m", "supervisor.ctl", "--socket", str(d.sock)]
        stop = subprocess.run([*ctl, "stop"], capture_output=True, text=True, timeout=60)
        assert stop.returncode == 0 and "stopped" in stop.stdout.splitlines()[0], stop.stderr
        filler.unlink()
        resume = subprocess.run([*ctl, "resume"], capture_output=True, text=True, timeout=60)
        assert resume.returncode == 0, resume.stderr
        st = await d.wait_until(lambda s: s["state"] in ("done", "failed"), what="resumed run done", timeout=120)
        assert st["state"] == "done" and sum(i["iter"] for i in st["instances"]) == 24000
    finally:
        await d.stop()

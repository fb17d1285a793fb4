"""A damaged state database: refused at start in one line that names the file and the cure, and
`holdemd recover` rebuilds the state from the run folders so the runs go on. Real SQLite files,
damaged two ways: garbage over the whole file, and one bad page in the middle."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sv_harness import FAKE_WORKER, HoldemD, write_config

FAST = ["--heartbeat-timeout", "20", "--backoff-base", "0.05", "--backoff-cap", "0.2", "--stop-timeout", "20"]


def garbage_over_the_file(db: Path) -> None:
    db.write_bytes(os.urandom(db.stat().st_size))


def one_bad_page_mid_file(db: Path) -> None:
    with sqlite3.connect(db) as con:
        page = con.execute("PRAGMA page_size").fetchone()[0]
        root = con.execute("SELECT rootpage FROM sqlite_master WHERE name='instances'").fetchone()[0]
    con.close()
    pages = db.stat().st_size // page
    assert 1 < root < pages  # a page in the middle, not the header page
    with open(db, "r+b") as f:
        f.seek((root - 1) * page)
        f.write(os.urandom(page))


@pytest.mark.parametrize("damage", [garbage_over_the_file, one_bad_page_mid_file], ids=["garbage", "bad-page"])
async def test_a_damaged_database_is_refused_in_one_line_and_recover_rebuilds_it(tmp_path: Path, damage) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_IPS": "1000"}, args=FAST)
    try:
        await d.start("--instances", "2", "--config", str(write_config(tmp_path / "c.yaml")), "--iters", "8000")
        st = await d.wait_until(lambda s: all(i["last_checkpoint"] for i in s["instances"]), what="checkpoints")
        run_id = st["id"]
        d.signal(signal.SIGTERM)
        assert await d.wait_exit(60) == 0
        db = d.state / "holdemd.sqlite3"
        assert not db.with_name(db.name + "-wal").exists()  # everything is in the main file
        damage(db)

        refused = subprocess.run(d.argv(), capture_output=True, text=True, timeout=60)
        assert refused.returncode == 1
        assert len(refused.stderr.splitlines()) == 1, refused.stderr
        assert str(db) in refused.stderr and "holdemd recover" in refused.stderr

        rec = subprocess.run(
            [
                sys.executable,
                "-m",
                "supervisor.daemon",
                "recover",
                "--state-dir",
                str(d.state),
                "--runs-root",
                str(d.runs),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert rec.returncode == 0, rec.stderr
        assert f"run {run_id}" in rec.stdout and "moved holdemd.sqlite3 aside" in rec.stdout
        assert list(d.state.glob("holdemd.sqlite3.corrupt-*"))  # kept, not deleted

        await d.start()  # resumes the rebuilt run from its checkpoints
        st = await d.wait_until(lambda s: s.get("state") in ("done", "failed"), run=run_id, what="rebuilt run done")
        assert st["state"] == "done" and sum(i["iter"] for i in st["instances"]) == 8000
    finally:
        await d.stop()

"""A full disk during a run, on a real tmpfs: the workers fail to write and are retried ("disk full",
never failed for it), the daemon answers throughout, and once space is freed the run completes by
itself, bit-identical to an undisturbed run with the same seed. Needs root (mount -t tmpfs)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "supervisor"))
from sv_harness import (
    REAL_WORKER,
    HoldemD,
    fill,
    final_checkpoint_hashes,
    finished,
    leduc_config,
    tmpfs,
)
from test_e2e_daemon import ARGS


@pytest.fixture
def small_fs(tmp_path: Path):
    with tmpfs(tmp_path / "fs", "64m") as mnt:
        yield mnt


async def timed_status(d: HoldemD) -> tuple[float, dict]:
    t0 = time.monotonic()
    res = await d.call("status")
    return time.monotonic() - t0, res


@pytest.mark.slow
async def test_a_full_disk_mid_run_is_waited_out_and_changes_nothing(small_fs: Path, tmp_path: Path) -> None:
    cfg = leduc_config(tmp_path / "leduc.yaml", every=100_000)
    iters, seed = 2 * 1_500_000, 13
    d = HoldemD(tmp_path / "full", REAL_WORKER, args=[*ARGS, "--low-space-mb", "16"])
    d.state, d.runs = small_fs / "state", small_fs / "runs"  # the database and the run folders on the small disk
    latencies: list[float] = []
    try:
        await d.start("--instances", "2", "--config", str(cfg), "--iters", str(iters), "--seed", str(seed))
        st = await d.wait_until(
            lambda s: all(i["state"] == "running" and i["last_checkpoint"] for i in s["instances"]),
            what="running with checkpoints",
            timeout=180,
        )
        filler = fill(small_fs)
        assert os.statvfs(small_fs).f_bavail == 0

        # Both workers fail their next checkpoint and back off with the reason; none is ever failed.
        st = await d.wait_until(
            lambda s: (
                all(i["state"] != "running" or i["restarts"] for i in s["instances"])
                and any("disk full" in (i["reason"] or "") for i in s["instances"])
            ),
            what="disk full seen",
            timeout=120,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # the daemon answers throughout
            took, res = await timed_status(d)
            latencies.append(took)
            run = res["runs"][0]
            assert run["state"] == "running" and all(i["state"] != "failed" for i in run["instances"])
            await asyncio.sleep(0.25)
        warnings = res["daemon"]["warnings"]
        assert any(w.startswith("low disk space") for w in warnings), warnings
        assert max(latencies) < 2.0, latencies

        filler.unlink()
        st = await d.wait_until(finished, what="run done after space returned", timeout=300)
        assert st["state"] == "done", st
        full_hashes = final_checkpoint_hashes(Path(st["dir"]))
        res = await d.call("status")
        assert res["daemon"]["unsaved_changes"] == 0 and not any(
            "state not saved" in w for w in res["daemon"]["warnings"]
        )
    finally:
        await d.stop()
    with sqlite3.connect(d.state / "holdemd.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        reasons = [r[0] for r in db.execute("SELECT reason FROM restarts")]
    assert any("disk full" in r for r in reasons), reasons
    calm_d = HoldemD(tmp_path / "calm", REAL_WORKER, args=ARGS)
    try:
        await calm_d.start("--instances", "2", "--config", str(cfg), "--iters", str(iters), "--seed", str(seed))
        calm = await calm_d.wait_until(finished, what="undisturbed run done", timeout=300)
    finally:
        await calm_d.stop()
    assert calm["state"] == "done"
    assert sum(h["iteration"] for h in full_hashes.values()) == iters
    assert full_hashes == final_checkpoint_hashes(Path(calm["dir"]))
    print(f"status latency while the disk was full: {len(latencies)} calls, max {max(latencies) * 1000:.0f} ms")

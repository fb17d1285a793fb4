"""A real hold'em run seen through the daemon: the prepare phase's estimate, `strategy` answered by
`holdem strategy --json` in a subprocess (the daemon keeps serving meanwhile), and the evaluation
ladder run by the daemon when the run is done, stored, shown in status, and kept across restarts.

The abstraction is the small one of the holdem tests; its card buckets are the session's (the
`hunl_build` fixture), which the daemon finds through $HOLDEM_BUCKETS.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "supervisor"))
from sv_harness import PY, REAL_WORKER, HoldemD, ProtocolError

ARGS = ["--backoff-base", "0.05", "--backoff-cap", "0.5", "--stop-timeout", "60", "--startup-timeout", "300"]
LADDER = ["--eval-hands", "40", "--eval-lbr-hands", "40", "--eval-workers", "1"]


def small_hunl(path: Path) -> Path:
    path.write_text(
        "game: hunl\nalgorithm: es-mccfr\niterations: 100000000\n"
        "cfr: {averaging: linear, linear_regrets: true}\n"
        "checkpoint: {every_iterations: 0, every_seconds: 2, keep: 2}\n"
        "metrics: {progress_interval_s: 0.2, exploitability_every_s: 0}\n"
        "hunl:\n  bet_sizes: {preflop: [1.0], flop: [1.0], turn: [1.0], river: [1.0]}\n"
        "  max_raises: {preflop: 2, flop: 1, turn: 1, river: 1}\n"
        "  buckets: {preflop: 169, flop: 8, turn: 8, river: 8}\n"
    )
    return path


def daemon(root: Path, *args: str) -> HoldemD:
    return HoldemD(root, REAL_WORKER, args=[*ARGS, *args])


async def train_briefly(d: HoldemD, cfg: Path, seconds: int = 6) -> dict:
    await d.start("--instances", "1", "--config", str(cfg), "--time-budget", str(seconds), "--seed", "11")
    return await d.wait_until(lambda s: s.get("state") in ("done", "failed"), timeout=400, what="run done")


# 65 s of the suite's 11 min (CI must stay under 15); the ladder test below trains through holdemd too
@pytest.mark.slow
async def test_estimate_and_strategy_of_a_trained_holdem_run(hunl_build, tmp_path: Path) -> None:
    d = daemon(tmp_path / "d", "--no-auto-eval", "--estimate-sample", "1")
    try:
        st = await train_briefly(d, small_hunl(tmp_path / "hunl.yaml"))
        assert st["state"] == "done", st
        est = st["estimate"]
        assert est["error"] is None and est["sampled"] is True, est
        assert est["infosets"] > 1000 and est["memory_bytes_per_instance"] > 2**20
        assert est["iterations_per_s"] > 0 and est["estimated_iterations"] > 0
        assert est["report"]["speed"]["time_budget_s"] == 6

        grid = await d.call("strategy", {"run": st["id"], "range": True})
        assert grid["format"] == "holdem-strategy" and grid["kind"] == "range"
        assert grid["source"] == {"kind": "merged", "path": st["merged"], "instance": None}
        assert len(grid["grid"]) == 13 and all(len(row) == 13 for row in grid["grid"])
        assert grid["grid"][0][0]["hand"] == "AA" and grid["grid"][0][1]["hand"] == "AKs"
        for cell in (grid["grid"][0][0], grid["grid"][12][0]):
            assert abs(sum(cell["probabilities"]) - 1) < 1e-4
        first = grid["actions"][1]["action"]  # a line of the tree to walk: the button's first call or raise
        hand = await d.call("strategy", {"run": st["id"], "hand": "AsKd", "history": first, "source": "latest"})
        assert hand["kind"] == "hand" and hand["hand"] == "AsKd" and hand["history"].startswith(first)
        assert hand["source"]["kind"] == "checkpoint" and hand["source"]["instance"] == 0
        assert hand["source"]["path"] == str(
            Path(st["dir"]) / "instances" / "0" / "checkpoints" / f"{hand['iteration']:012d}"
        )  # the one holdem read
        assert abs(sum(a["probability"] for a in hand["actions"]) - 1) < 1e-4

        with pytest.raises(ProtocolError) as err:
            await d.call("strategy", {"run": st["id"], "hand": "AsXx"})
        assert err.value.code == "invalid_params" and "--hand" in err.value.message
        with pytest.raises(ProtocolError) as err:
            await d.call("strategy", {"run": st["id"], "range": True, "history": "q"})
        assert err.value.code == "invalid_params" and "history" in err.value.message
        for params in ({"range": True, "hand": "AsKd"}, {}, {"range": "yes"}, {"hand": "AsKd", "source": "best"}):
            with pytest.raises(ProtocolError) as err:
                await d.call("strategy", {"run": st["id"], **params})
            assert err.value.code == "invalid_params"

        # holdem strategy runs in a subprocess: the daemon answers others meanwhile
        slow = asyncio.create_task(d.call("strategy", {"run": st["id"], "range": True}))
        await asyncio.sleep(0.2)  # the request is in: its holdem process is starting (numpy, numba, buckets)
        t0 = time.monotonic()
        assert (await d.call("status"))["runs"] and not slow.done()
        assert time.monotonic() - t0 < 1.0
        assert (await slow)["kind"] == "range"

        out = subprocess.run(
            [PY, "-m", "supervisor.ctl", "--socket", str(d.sock), "strategy", st["id"], "--range"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0 and out.stdout.splitlines()[3].startswith("AA "), out.stdout + out.stderr
        out = subprocess.run(
            [PY, "-m", "supervisor.ctl", "--socket", str(d.sock), "status", st["id"]],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "estimate: " in out.stdout and "infosets" in out.stdout, out.stdout
    finally:
        await d.stop()


async def test_the_ladder_runs_when_a_holdem_run_is_done_and_is_kept_across_restarts(
    hunl_build, tmp_path: Path
) -> None:
    d = daemon(tmp_path / "d", *LADDER, "--estimate-sample", "0")
    try:
        st = await train_briefly(d, small_hunl(tmp_path / "hunl.yaml"))
        assert st["state"] == "done", st
        run = st["id"]
        assert st["eval"]["state"] == "running" and st["eval"]["source"]["kind"] == "merged"
        with pytest.raises(ProtocolError) as err:
            await d.call("run.eval", {"run": run})
        assert err.value.code == "conflict"
        st = await d.wait_until(lambda s: s["eval"]["state"] != "running", run, timeout=300, what="ladder done")
        ev = st["eval"]
        assert ev["state"] == "done" and ev["error"] is None and ev["finished"] >= ev["started"], ev
        ladder = ev["ladder"]
        assert ladder["format"] == "holdem-ladder" and ladder["lbr"]["hands"] == 40
        assert json.loads(Path(ev["ladder_path"]).read_text()) == ladder
        assert Path(ev["ladder_path"]).parent == Path(st["dir"]) / "eval"
        tb = list((Path(st["dir"]) / "tensorboard").glob("events.out.tfevents.*"))
        assert any(b"eval/lbr_fc_mbb" in f.read_bytes() for f in tb)

        await d.kill9()
        await d.start()
        again = await d.status(run)
        assert again["eval"]["ladder"] == ladder and again["estimate"]["infosets"] > 0

        res = await d.call("run.eval", {"run": run, "source": "latest"})
        assert res["started"] is True and res["source"]["kind"] == "checkpoint"
        pid = await eval_pid(d.state / "results.sqlite3")
        await d.kill9()  # while the ladder runs: the next daemon must not show it running for ever
        await d.start()
        st = await d.status(run)
        assert st["eval"]["state"] == "failed" and "interrupted" in st["eval"]["error"]
        await gone(pid)  # and its ladder process was killed, not left burning a core
    finally:
        await d.stop()


async def gone(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return
        except FileNotFoundError:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"evaluation process {pid} is still alive")


async def eval_pid(db: Path, timeout: float = 30.0) -> int:
    """The pid of the running evaluation, once the daemon has recorded it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sqlite3.connect(db) as con:
            row = con.execute("SELECT pid FROM evals WHERE state='running' AND pid IS NOT NULL").fetchone()
        if row:
            return int(row[0])
        await asyncio.sleep(0.1)
    raise AssertionError("no running evaluation recorded its pid")

"""holdemd end to end with the real `holdem train` on Leduc: a 4-instance run, a hang, SIGTERM,
and chaos (SIGKILLs of instances and of the daemon) against an undisturbed run with the same seed.

Determinism is the worker's promise (resumed == uninterrupted, bit for bit); what these tests show
is that the supervisor keeps it: same seeds, same targets, resumes from the right checkpoint, and
never lets two processes train the same instance.
"""

from __future__ import annotations

import functools
import os
import random
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "supervisor"))
from sv_harness import (
    REAL_WORKER,
    REAL_WORKER_NICE,
    REPO,
    HoldemD,
    final_checkpoint_hashes,
    finished,
    leduc_config,
)

ARGS = [
    "--backoff-base",
    "0.05",
    "--backoff-cap",
    "0.5",
    "--max-restarts",
    "100",
    "--stop-timeout",
    "60",
    "--heartbeat-timeout",
    "60",
    "--tensorboard-interval",
    "1",
]


def all_running(st: dict) -> bool:
    return bool(st.get("instances")) and all(i["state"] == "running" for i in st["instances"])


def dead(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


async def run_undisturbed(root: Path, cfg: Path, iters: int, seed: int) -> dict:
    d = HoldemD(root, REAL_WORKER, args=ARGS)
    try:
        await d.start("--instances", "4", "--config", str(cfg), "--iters", str(iters), "--seed", str(seed))
        return await d.wait_until(finished, what="undisturbed run done", timeout=240)
    finally:
        await d.stop()


async def test_a_4_instance_leduc_run_completes_and_sums_exactly(tmp_path: Path) -> None:
    st = await run_undisturbed(tmp_path / "d", REPO / "configs" / "leduc.yaml", 40_001, 5)
    assert st["state"] == "done", st
    run = Path(st["dir"])
    hashes = final_checkpoint_hashes(run)
    assert [hashes[k]["iteration"] for k in range(4)] == [10_001, 10_000, 10_000, 10_000]
    assert sum(h["iteration"] for h in hashes.values()) == 40_001
    assert sum(i["iter"] for i in st["instances"]) == 40_001
    assert (run / "merged").is_dir() and any((run / "merged").iterdir())
    assert st["merged"] == str(run / "merged")
    assert all((run / "instances" / str(k) / "train.log").stat().st_size > 0 for k in range(4))
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))


async def test_a_sigstopped_worker_is_killed_by_the_heartbeat_and_resumed(tmp_path: Path) -> None:
    cfg = leduc_config(tmp_path / "leduc.yaml")
    d = HoldemD(tmp_path / "d", REAL_WORKER, args=[*ARGS, "--heartbeat-timeout", "5", "--startup-timeout", "120"])
    try:
        await d.start("--instances", "2", "--config", str(cfg), "--iters", "3000000", "--seed", "3")
        st = await d.wait_until(
            lambda s: all_running(s) and s["instances"][0]["last_checkpoint"],
            what="instance 0 running with a checkpoint",
            timeout=120,
        )
        victim = st["instances"][0]["pid"]
        os.kill(victim, signal.SIGSTOP)
        # running again: its relaunch has reported what it resumed from
        st = await d.wait_until(
            lambda s: s["instances"][0]["restarts"] >= 1 and s["instances"][0]["state"] == "running",
            what="hang detected and relaunched",
            timeout=60,
        )
        assert dead(victim)
        with sqlite3.connect(d.state / "holdemd.sqlite3") as db:
            reason, resumed_from = db.execute("SELECT reason, resumed_from FROM restarts WHERE idx=0").fetchone()
        assert "heartbeat" in reason and resumed_from and "checkpoints" in resumed_from
        st = await d.wait_until(finished, what="run done", timeout=180)
        assert st["state"] == "done"
        assert sum(h["iteration"] for h in final_checkpoint_hashes(Path(st["dir"])).values()) == 3_000_000
    finally:
        await d.stop()


async def test_sigterm_lets_workers_checkpoint_then_the_daemon_exits_0(tmp_path: Path) -> None:
    cfg = leduc_config(tmp_path / "leduc.yaml", every=10_000_000)  # only the SIGTERM checkpoint
    d = HoldemD(tmp_path / "d", REAL_WORKER_NICE, args=ARGS)
    try:
        await d.start("--instances", "2", "--config", str(cfg), "--iters", "40000000", "--seed", "4")
        st = await d.wait_until(all_running, what="running", timeout=120)
        pids = [i["pid"] for i in st["instances"]]
        d.signal(signal.SIGTERM)
        assert await d.wait_exit(90) == 0
        assert all(dead(p) for p in pids)
        for inst in st["instances"]:
            ckpts = list((Path(inst["dir"]) / "checkpoints").glob("[0-9]*"))
            assert ckpts, "a SIGTERMed worker writes its checkpoint before exiting"
        with sqlite3.connect(d.state / "holdemd.sqlite3") as db:
            assert {r[0] for r in db.execute("SELECT state FROM instances")} == {"stopped"}
            assert all(r[0] for r in db.execute("SELECT last_checkpoint FROM instances"))
    finally:
        await d.stop()


async def chaos(tmp_path: Path, iters: int, instance_kills: int, daemon_kills: int) -> None:
    """SIGKILL random running instances and the daemon; the result must equal the calm run's."""
    cfg = leduc_config(tmp_path / "leduc.yaml", every=200_000)
    seed = 20261122
    rng = random.Random(seed)
    d = HoldemD(tmp_path / "chaos", REAL_WORKER, args=ARGS)
    daemon_kill_at = {instance_kills * (j + 1) // (daemon_kills + 1) for j in range(daemon_kills)}
    killed: list[int] = []
    try:
        await d.start("--instances", "4", "--config", str(cfg), "--iters", str(iters), "--seed", str(seed))
        for n in range(instance_kills):
            st = await d.wait_until(
                lambda s: (
                    finished(s) or any(i["state"] == "running" and i["pid"] not in killed for i in s["instances"])
                ),
                what="a running instance to kill",
                timeout=120,
            )
            assert not finished(st), f"the run finished after only {n} kills; make it longer"
            victim = rng.choice([i for i in st["instances"] if i["state"] == "running" and i["pid"] not in killed])
            os.kill(victim["pid"], signal.SIGKILL)
            killed.append(victim["pid"])
            if n in daemon_kill_at:
                old = [i["pid"] for i in st["instances"] if i["pid"]]
                await d.kill9()
                await d.start()
                # every instance relaunched (pid known and new) or finished: the orphans were dealt with
                await d.wait_until(functools.partial(_relaunched, old), what="new workers", timeout=60)
                assert all(dead(p) for p in old), "an orphan of the killed daemon survived"
        st = await d.wait_until(finished, what="chaos run done", timeout=300)
        assert st["state"] == "done", st
        restarts = sum(i["restarts"] for i in st["instances"])
        assert restarts >= instance_kills
        chaos_hashes = final_checkpoint_hashes(Path(st["dir"]))
    finally:
        await d.stop()
    calm = await run_undisturbed(tmp_path / "calm", cfg, iters, seed)
    assert calm["state"] == "done"
    calm_hashes = final_checkpoint_hashes(Path(calm["dir"]))
    assert sum(h["iteration"] for h in chaos_hashes.values()) == iters
    assert chaos_hashes == calm_hashes


@pytest.mark.slow  # 25 s; in CI the kills are covered by test_train's SIGKILL/resume and the W = 2 storm
async def test_chaos_light_kills_change_nothing(tmp_path: Path) -> None:
    await chaos(tmp_path, iters=4 * 2_000_000, instance_kills=6, daemon_kills=1)


@pytest.mark.slow
async def test_chaos_20_instance_kills_and_2_daemon_kills_change_nothing(tmp_path: Path) -> None:
    await chaos(tmp_path, iters=4 * 8_000_000, instance_kills=20, daemon_kills=2)


def _relaunched(old_pids: list[int], status: dict[str, Any]) -> bool:
    """Every instance runs under a pid none of ``old_pids`` had, or is done."""
    return all((i["pid"] and i["pid"] not in old_pids) or i["state"] == "done" for i in status["instances"])

"""holdemd on a real (single-node, private) Slurm cluster with the real `holdem train` on Leduc:
the same run through srun and locally ends bit-identical; SIGTERM checkpoints and leaves no job;
a SIGKILLed daemon leaves no step training; a second worker on a busy instance folder is refused;
scancelled steps and a daemon SIGKILL change nothing in the result.

The cluster (munged, slurmctld, slurmd with 2 CPUs, all in a temp folder) is started once for the
module and stopped afterwards; without root or the Slurm packages these tests skip, saying why.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from slurm_cluster import SlurmCluster, unavailable
from sv_harness import (
    PY,
    REAL_WORKER,
    REPO,
    HoldemD,
    final_checkpoint_hashes,
    finished,
    leduc_config,
)

# One private cluster at a time on this machine: every test of this module runs on one xdist worker.
pytestmark = pytest.mark.xdist_group("slurm")

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
SLURM = ["--executor", "slurm"]


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory):
    why = unavailable()
    if why:
        pytest.skip(why)
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm"), cpus=2, kill_wait_s=10).start()
    try:
        yield cluster
    finally:
        cluster.stop()


def all_running_placed(st: dict) -> bool:
    return bool(st.get("instances")) and all(
        i["state"] == "running" and i["node"] and i["job_id"] for i in st["instances"]
    )


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def worker_pids(instance_dir: str) -> list[int]:
    """Pids of `holdem train` processes (not sruns) on this instance folder: the node is this host."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        args = [a.decode(errors="replace") for a in argv]
        if (
            "train" in args
            and "srun" not in Path(args[0]).name
            and alive(int(proc.name))
            and any(a == "--instance-dir" and b == instance_dir for a, b in zip(args, args[1:]))
        ):
            pids.append(int(proc.name))
    return pids


def ours(jobs: list[str], run_id: str) -> list[str]:
    return [j for j in jobs if f"holdem-{run_id}" in j]


async def one_run(
    root: Path, cfg: Path, iters: int, seed: int, env: dict[str, str], args: list[str], instances: int = 2
) -> dict:
    d = HoldemD(root, REAL_WORKER, env=env, args=[*ARGS, *args])
    try:
        await d.start("--instances", str(instances), "--config", str(cfg), "--iters", str(iters), "--seed", str(seed))
        return await d.wait_until(finished, what="run done", timeout=240)
    finally:
        await d.stop()


async def test_a_slurm_run_completes_merges_and_equals_the_local_run(slurm: SlurmCluster, tmp_path: Path) -> None:
    cfg = leduc_config(tmp_path / "leduc.yaml", every=200_000)
    iters, seed = 2 * 600_000 + 1, 11
    d = HoldemD(tmp_path / "slurm", REAL_WORKER, env=slurm.env, args=[*ARGS, *SLURM])
    try:
        await d.start("--instances", "2", "--config", str(cfg), "--iters", str(iters), "--seed", str(seed))
        st = await d.wait_until(lambda s: finished(s) or all_running_placed(s), what="placed", timeout=120)
        running = slurm.squeue()
        st = await d.wait_until(finished, what="slurm run done", timeout=240)
        out = subprocess.run(
            [PY, "-m", "supervisor.ctl", "--socket", str(d.sock), "status"], capture_output=True, text=True, timeout=60
        )
        js = subprocess.run(
            [PY, "-m", "supervisor.ctl", "--socket", str(d.sock), "status", "--json"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        await d.stop()
    assert st["state"] == "done", st
    assert st["executor"]["name"] == "slurm"
    run = Path(st["dir"])
    # every instance ran as its own job, named after run and index, on the cluster's node
    names = {line.split()[1] for line in running}
    assert {f"holdem-{st['id']}-0", f"holdem-{st['id']}-1"} <= names, running
    for inst in st["instances"]:
        assert inst["executor"] == "slurm" and inst["job_id"].isdigit() and inst["node"] == slurm.host
        assert f"slurm job {inst['job_id']} on {slurm.host}" in out.stdout
    inst = json.loads(js.stdout)["runs"][0]["instances"][0]
    assert {"executor", "job_id", "node"} <= inst.keys()
    assert yaml.safe_load((run / "run.yaml").read_text())["executor"]["name"] == "slurm"
    with sqlite3.connect(d.state / "holdemd.sqlite3") as db:
        assert json.loads(db.execute("SELECT spec FROM run_executors").fetchone()[0])["name"] == "slurm"
        assert {r[0] for r in db.execute("SELECT executor FROM placements")} == {"slurm"}
    assert (run / "merged" / "policy.json").exists()
    assert ours(slurm.wait_queue_empty(15), st["id"]) == []
    slurm_hashes = final_checkpoint_hashes(run)

    local = await one_run(tmp_path / "local", cfg, iters, seed, {}, [])
    assert local["state"] == "done" and local["executor"]["name"] == "local"
    assert all(i["executor"] == "local" and i["job_id"] is None for i in local["instances"])
    assert slurm_hashes == final_checkpoint_hashes(Path(local["dir"]))
    merged = [json.loads((Path(r) / "merged" / "policy.json").read_text()) for r in (run, local["dir"])]
    assert merged[0] == merged[1]


async def test_sigterm_reaches_every_worker_which_checkpoints_and_no_job_stays(
    slurm: SlurmCluster, tmp_path: Path
) -> None:
    cfg = leduc_config(tmp_path / "leduc.yaml", every=100_000_000)  # only the SIGTERM checkpoint
    d = HoldemD(tmp_path / "d", REAL_WORKER, env=slurm.env, args=[*ARGS, *SLURM])
    try:
        await d.start("--instances", "2", "--config", str(cfg), "--iters", "400000000", "--seed", "4")
        st = await d.wait_until(
            lambda s: all_running_placed(s) and all(i["iter"] > 0 for i in s["instances"]),
            what="training on slurm",
            timeout=120,
        )
        d.signal(signal.SIGTERM)
        assert await d.wait_exit(90) == 0
        # the daemon waited for the queue: nothing of this run is left in it
        assert ours(slurm.squeue(), st["id"]) == []
        for inst in st["instances"]:
            log = (Path(inst["dir"]) / "train.log").read_text()
            assert "stopped at iteration" in log, log[-2000:]  # the worker's own SIGTERM handling
            assert list((Path(inst["dir"]) / "checkpoints").glob("[0-9]*")), "SIGTERM writes a checkpoint"
        with sqlite3.connect(d.state / "holdemd.sqlite3") as db:
            assert {r[0] for r in db.execute("SELECT state FROM instances")} == {"stopped"}
    finally:
        await d.stop()


async def test_a_sigkilled_daemon_leaves_no_step_training_and_a_busy_folder_refuses_a_second_worker(
    slurm: SlurmCluster, tmp_path: Path
) -> None:
    cfg = leduc_config(tmp_path / "leduc.yaml", every=1_000_000)
    d = HoldemD(tmp_path / "d", REAL_WORKER, env=slurm.env, args=[*ARGS, *SLURM])
    try:
        await d.start("--instances", "1", "--config", str(cfg), "--iters", "5000000", "--seed", "9")
        st = await d.wait_until(all_running_placed, what="running on slurm", timeout=120)
        inst = st["instances"][0]
        # a second worker on the same folder, also through Slurm, is refused by the folder's lock (exit 3)
        second = subprocess.run(
            [
                "srun",
                "--job-name=intruder",
                "--ntasks=1",
                "--",
                *REAL_WORKER,
                "train",
                "--config",
                str(Path(st["dir"]) / "config.yaml"),
                "--instance-dir",
                inst["dir"],
                "--iters",
                "5000000",
                "--seed",
                "1",
                "--events",
                "jsonl",
                "--resume",
            ],
            env={**os.environ, **slurm.env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 3, second.stderr[-2000:]
        assert len(worker_pids(inst["dir"])) == 1
        workers = worker_pids(inst["dir"])
        t0 = time.monotonic()
        await d.kill9()
        while (any(alive(p) for p in workers) or ours(slurm.squeue(), st["id"])) and time.monotonic() - t0 < 30:
            await asyncio.sleep(0.05)
        gone_s = time.monotonic() - t0
        assert not any(alive(p) for p in workers), "the orphan step kept training"
        assert ours(slurm.squeue(), st["id"]) == []
        assert gone_s < 15, gone_s
        (tmp_path / "orphan_bound_s.txt").write_text(f"{gone_s:.2f}\n")
        await d.start()
        st = await d.wait_until(finished, what="run done after the daemon came back", timeout=240)
        assert st["state"] == "done", st
        assert final_checkpoint_hashes(Path(st["dir"]))[0]["iteration"] == 5_000_000
    finally:
        await d.stop()
    assert ours(slurm.wait_queue_empty(15), st["id"]) == []


def test_an_unwritable_runs_root_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    d = HoldemD(tmp_path / "d", REAL_WORKER)
    argv = d.argv(["--executor", "slurm"])
    argv[argv.index("--runs-root") + 1] = str(blocker / "runs")
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=REPO)
    assert out.returncode == 2
    assert f"runs root {blocker / 'runs'} is not writable" in out.stderr


async def chaos_over_slurm(
    slurm: SlurmCluster, tmp_path: Path, iters: int, scancels: int, daemon_kills: int = 1, instances: int = 2
) -> dict:
    """`scancel` random running instance jobs, SIGKILL the daemon once; the result must equal the
    undisturbed local run's, and the queue must be empty at the end."""
    cfg = leduc_config(tmp_path / "leduc.yaml", every=300_000)
    seed = 20261202
    rng = random.Random(seed)
    d = HoldemD(tmp_path / "chaos", REAL_WORKER, env=slurm.env, args=[*ARGS, *SLURM])
    cancelled: list[str] = []
    env = {**os.environ, **slurm.env}
    try:
        await d.start("--instances", str(instances), "--config", str(cfg), "--iters", str(iters), "--seed", str(seed))
        kill_at = {scancels * (j + 1) // (daemon_kills + 1) for j in range(daemon_kills)}
        for n in range(scancels):
            st = await d.wait_until(
                lambda s: (
                    finished(s)
                    or any(
                        i["state"] == "running" and i["job_id"] not in cancelled and i["last_checkpoint"]
                        for i in s["instances"]
                    )
                ),
                what="a running job to cancel",
                timeout=180,
            )
            assert not finished(st), f"the run finished after only {n} scancels; make it longer"
            victim = rng.choice(
                [
                    i
                    for i in st["instances"]
                    if i["state"] == "running" and i["job_id"] not in cancelled and i["last_checkpoint"]
                ]
            )
            subprocess.run(["scancel", victim["job_id"]], env=env, check=True, timeout=30)
            cancelled.append(victim["job_id"])
            if n in kill_at:
                await d.kill9()
                await d.start()
        st = await d.wait_until(finished, what="chaos run done", timeout=400)
        assert st["state"] == "done", st
        with sqlite3.connect(d.state / "holdemd.sqlite3") as db:
            reasons = [r[0] for r in db.execute("SELECT reason FROM restarts")]
    finally:
        await d.stop()
    assert sum(i["restarts"] for i in st["instances"]) >= scancels, reasons
    assert ours(slurm.wait_queue_empty(15), st["id"]) == []
    chaos_hashes = final_checkpoint_hashes(Path(st["dir"]))
    calm = await one_run(tmp_path / "calm", cfg, iters, seed, {}, [], instances)
    assert sum(h["iteration"] for h in chaos_hashes.values()) == iters
    assert chaos_hashes == final_checkpoint_hashes(Path(calm["dir"]))
    return {"restarts": reasons}


async def test_chaos_5_scancels_and_a_daemon_sigkill_change_nothing(slurm: SlurmCluster, tmp_path: Path) -> None:
    out = await chaos_over_slurm(slurm, tmp_path, iters=2 * 4_000_000, scancels=5)
    print(json.dumps(out, indent=1))


@pytest.mark.slow
async def test_chaos_4_instances_queued_on_2_cpus_15_scancels_and_2_daemon_sigkills(
    slurm: SlurmCluster, tmp_path: Path
) -> None:
    """Two of the four jobs wait in the queue (PENDING) while two run; cancels hit running ones."""
    out = await chaos_over_slurm(slurm, tmp_path, iters=4 * 6_000_000, scancels=15, daemon_kills=2, instances=4)
    print(json.dumps(out, indent=1))


@pytest.mark.slow
async def test_a_hung_worker_on_a_node_is_killed_through_slurm_and_resumed(slurm: SlurmCluster, tmp_path: Path) -> None:
    """SIGSTOP the worker on its node: the heartbeat lapses, holdemd SIGKILLs srun and scancels the job
    (the stopped task cannot act on anything else), and the instance resumes from its checkpoint."""
    cfg = leduc_config(tmp_path / "leduc.yaml", every=500_000)
    d = HoldemD(
        tmp_path / "d",
        REAL_WORKER,
        env=slurm.env,
        args=[*ARGS, *SLURM, "--heartbeat-timeout", "5", "--startup-timeout", "120"],
    )
    try:
        await d.start("--instances", "1", "--config", str(cfg), "--iters", "4000000", "--seed", "5")
        st = await d.wait_until(
            lambda s: all_running_placed(s) and s["instances"][0]["last_checkpoint"],
            what="running with a checkpoint",
            timeout=120,
        )
        inst = st["instances"][0]
        [victim] = worker_pids(inst["dir"])
        os.kill(victim, signal.SIGSTOP)
        st = await d.wait_until(lambda s: s["instances"][0]["restarts"] >= 1, what="hang caught", timeout=60)
        t0 = time.monotonic()
        while alive(victim) and time.monotonic() - t0 < 30:
            await asyncio.sleep(0.05)
        assert not alive(victim), "the stopped worker survived its job"
        st = await d.wait_until(finished, what="run done", timeout=240)
        assert st["state"] == "done" and st["instances"][0]["job_id"] != inst["job_id"]
        with sqlite3.connect(d.state / "holdemd.sqlite3") as db:
            assert "heartbeat" in db.execute("SELECT reason FROM restarts").fetchone()[0]
    finally:
        await d.stop()
    assert ours(slurm.wait_queue_empty(15), st["id"]) == []

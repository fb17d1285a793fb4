"""A storm of faults on a seeded leduc-es run under holdemd with default flags (issue 27's final check):
instance SIGKILLs, daemon SIGKILLs (each restarted with the same command) and one SIGSTOP of an
instance left stopped across a daemon kill. It must end bit-identical to the same run left alone,
and a daemon kill must cost no iteration done before it beyond the last checkpoint interval.

The storm run and the undisturbed reference run side by side (two private daemons), so the CPU
lock is held once; the arrays do not depend on timing, and the per-kill figures are in iterations
next to the iterations of one checkpoint interval at the time of the kill (the fastest instance's rate).

Schedule (seeded): the kills and daemon kills in a shuffled order with a random gap between them;
each instance kill takes a random running instance. Default flags fail an instance after more than
`--max-restarts` (5) counted exits within `--restart-window` (600 s), a SIGKILL from outside
included (docs/supervisor.md), so an instance is only killed while it has fewer than 5 counted
exits in the last window plus a margin: 30 kills of 3 instances take more than 10 minutes, and the
default target (600M iterations, about 15 minutes beside the reference on 2 cores) outlasts them.
A daemon kill waits until every instance runs; its `reached` is each instance's iteration in the
last status before the kill, `resumed_from` the checkpoint its relaunch by the next daemon resumed
(the restarts table), and discarded = max(0, reached - resumed_from).

    flock -x /tmp/holdem-cpu.lock .venv/bin/python benchmarks/storm.py [--seed 1] [--iters 600000000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from holdem.config import load_config  # noqa: E402
from supervisor.config import Tuning  # noqa: E402
from supervisor.protocol import Client, DaemonUnavailable  # noqa: E402

WINDOW_MARGIN_S = 10.0  # kept clear of the crash-loop window's edge (the daemon times a restart after our kill)
Status = dict[str, Any]


class Daemon:
    """One private holdemd (state, runs, socket under `root`), started and restarted with one command."""

    def __init__(self, root: Path, config: Path, instances: int, iters: int, seed: int) -> None:
        self.root, self.sock, self.db = root, root / "holdemd.sock", root / "state" / "holdemd.sqlite3"
        root.mkdir(parents=True)
        self.argv = [
            *(sys.executable, "-m", "supervisor.daemon", "start"),
            *("--state-dir", str(root / "state"), "--runs-root", str(root / "runs"), "--socket", str(self.sock)),
            *("--instances", str(instances), "--config", str(config), "--iters", str(iters), "--seed", str(seed)),
            *("--workers", "1"),
        ]
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self, timeout: float = 120.0) -> None:
        with open(self.root / "holdemd.out", "ab") as out:
            self.proc = subprocess.Popen(self.argv, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                await self.call("ping")
                return
            except DaemonUnavailable:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError((self.root / "holdemd.out").read_text()[-3000:]) from None
                await asyncio.sleep(0.1)

    async def call(self, method: str) -> dict[str, Any]:
        async with Client(self.sock, connect_timeout=5, call_timeout=60) as c:
            return await c.call(method, {})

    async def status(self) -> Status:
        runs = (await self.call("status"))["runs"]
        return runs[0] if runs else {}

    async def wait(self, pred: Any, what: str, timeout: float = 3600.0) -> Status:
        deadline = time.monotonic() + timeout
        while not pred(st := await self.status()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: {json.dumps(st)}")
            await asyncio.sleep(0.2)
        return st

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(300)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def restarts(self, run_id: str) -> list[tuple[int, float, str, str | None, int]]:
        """(instance, time, reason, resumed_from, counted) of every restart, oldest first."""
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30) as db:
            q = "SELECT idx, t, reason, resumed_from, counted FROM restarts WHERE run_id=? ORDER BY id"
            return db.execute(q, (run_id,)).fetchall()


def all_running(st: Status) -> bool:
    return bool(st.get("instances")) and all(i["state"] == "running" and i["pid"] for i in st["instances"])


def finished(st: Status) -> bool:
    return st.get("state") in ("done", "failed")


def iteration_of(checkpoint: str | None) -> int:
    return int(Path(checkpoint).name) if checkpoint else 0


def ours(pid: int, root: Path) -> bool:
    """The pid is still a process of this benchmark (its command line names our temp folder)."""
    try:
        return str(root) in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


@dataclass
class Storm:
    """What the storm did and what each fault cost."""

    kills: list[dict[str, Any]] = field(default_factory=list)  # instance, reached, t
    daemon_kills: list[dict[str, Any]] = field(default_factory=list)
    sigstops: int = 0


async def wait_seconds(d: Daemon, seconds: float) -> Status:
    """Sleep, then the status (the run may have finished meanwhile)."""
    await asyncio.sleep(seconds)
    return await d.status()


async def kill_instance(d: Daemon, rng: random.Random, tuning: Tuning, storm: Storm) -> bool:
    """SIGKILL a random running instance that the crash-loop policy would not fail for it; False if
    the run is over. Waits while no instance is eligible."""
    while True:
        st = await d.status()
        if finished(st):
            return False
        since = time.time() - tuning.restart_window_s - WINDOW_MARGIN_S
        counted = [r[0] for r in d.restarts(st["id"]) if r[4] and r[1] > since]
        ok = [
            i
            for i in st["instances"]
            if i["state"] == "running" and i["pid"] and counted.count(i["index"]) < tuning.max_restarts
        ]
        if ok:
            inst = rng.choice(ok)
            if ours(inst["pid"], d.root):
                os.kill(inst["pid"], signal.SIGKILL)
                storm.kills.append({"instance": inst["index"], "reached": inst["iter"], "t": time.time()})
                return True
        await asyncio.sleep(0.5)


async def kill_daemon(d: Daemon, rng: random.Random, every_s: float, sigstop: bool, storm: Storm, t0: float) -> bool:
    """SIGKILL holdemd once every instance runs (after SIGSTOPping one, if asked), restart it with
    the same command and note what each instance had reached and what it resumed from."""
    st = await d.wait(lambda s: all_running(s) or finished(s), "every instance running")
    if finished(st):
        return False
    stopped = None
    if sigstop:
        stopped = rng.choice(st["instances"])
        os.kill(stopped["pid"], signal.SIGSTOP)
        storm.sigstops += 1
        await asyncio.sleep(rng.uniform(2.0, 8.0))
    st = await d.status()
    reached = {i["index"]: i["iter"] for i in st["instances"]}
    ips = max(i["ips"] for i in st["instances"])  # the run's rate: a just relaunched instance shows 0
    left = [i["pid"] for i in st["instances"]]
    d.kill9()
    t_kill = time.time()
    at_s = time.monotonic() - t0
    await asyncio.sleep(rng.uniform(1.0, 5.0))  # the left-behind instances train on meanwhile
    t_start = time.monotonic()
    await d.start()
    st = await d.wait(all_running, "relaunched after the daemon kill")
    relaunch_s = time.monotonic() - t_start
    gone = [pid for pid in left if not ours(pid, d.root)]
    rows = [r for r in d.restarts(st["id"]) if r[1] > t_kill and r[2].startswith("holdemd restarted")]
    resumed = {r[0]: iteration_of(r[3]) for r in rows}
    storm.daemon_kills.append(
        {
            "at_s": round(at_s, 1),
            "sigstopped_instance": stopped["index"] if stopped else None,
            "reached": reached,
            "resumed_from": resumed,
            "discarded": {k: max(0, reached[k] - resumed.get(k, 0)) for k in reached},
            "checkpoint_interval_iters": round(ips * every_s),
            "left_behind_gone": len(gone) == len(left),
            "relaunched_s": round(relaunch_s, 1),
        }
    )
    return True


async def run_storm(d: Daemon, args: argparse.Namespace, every_s: float) -> tuple[Storm, Status]:
    rng = random.Random(args.seed)
    tuning = Tuning()
    events = ["instance"] * args.instance_kills + ["daemon"] * args.daemon_kills
    rng.shuffle(events)
    stop_at = rng.randrange(args.daemon_kills) if args.daemon_kills and args.sigstop else -1
    storm = Storm()
    t0 = time.monotonic()
    await d.start()
    await d.wait(all_running, "every instance running")
    for event in events:
        if finished(await wait_seconds(d, rng.uniform(args.gap_min, args.gap_max))):
            break
        if event == "instance":
            more = await kill_instance(d, rng, tuning, storm)
        else:
            more = await kill_daemon(d, rng, every_s, len(storm.daemon_kills) == stop_at, storm, t0)
        if not more:
            break
    return storm, await d.wait(finished, "the storm run to finish")


def instance_kill_losses(d: Daemon, run_id: str, storm: Storm) -> list[int]:
    """Iterations each instance kill discarded: reached - the checkpoint its relaunch resumed from
    (the kills of an instance and its counted restarts, in order)."""
    rows = [r for r in d.restarts(run_id) if r[4]]
    lost = []
    for k in sorted({k["instance"] for k in storm.kills}):
        kills = [k_["reached"] for k_ in storm.kills if k_["instance"] == k]
        resumed = [iteration_of(r[3]) for r in rows if r[0] == k]
        lost += [max(0, a - b) for a, b in zip(kills, resumed, strict=False)]
    return lost


def arrays(folder: Path) -> dict[str, np.ndarray]:
    return {str(p.relative_to(folder)): np.load(p, allow_pickle=False) for p in sorted(folder.rglob("*.npy"))}


def final_checkpoint(instance_dir: Path) -> Path:
    return max((p for p in (instance_dir / "checkpoints").iterdir() if p.name.isdigit()), key=lambda p: p.name)


def compare(a: Status, b: Status) -> list[str]:
    """What differs between two finished runs: the merged blueprint and each instance's final
    checkpoint, array by array (dtype, shape and every bit); empty when bit-identical."""
    pairs = [(Path(a["merged"] or "-"), Path(b["merged"] or "-"), "merged")]
    for i, j in zip(a["instances"], b["instances"], strict=True):
        ca, cb = final_checkpoint(Path(i["dir"])), final_checkpoint(Path(j["dir"]))
        if ca.name != cb.name:
            return [f"instance {i['index']}: final checkpoint {ca.name} vs {cb.name}"]
        pairs.append((ca, cb, f"instance {i['index']} checkpoint {ca.name}"))
    diffs = []
    for fa, fb, what in pairs:
        xa, xb = arrays(fa), arrays(fb)
        if not xa or xa.keys() != xb.keys():
            diffs.append(f"{what}: arrays {sorted(xa)} vs {sorted(xb)}")
            continue
        for name in xa:
            x, y = xa[name], xb[name]
            if x.dtype != y.dtype or x.shape != y.shape or x.tobytes() != y.tobytes():
                diffs.append(f"{what}/{name} differs")
    return diffs


def summary(values: list[int]) -> dict[str, float | int | None]:
    return {"max": max(values, default=None), "mean": round(statistics.fmean(values), 1) if values else None}


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    config = Path(args.config).absolute()
    every_s = float(load_config(config).checkpoint.every_seconds)
    root = Path(tempfile.mkdtemp(prefix="holdem-storm-"))
    storm_d = Daemon(root / "storm", config, args.instances, args.iters, args.seed)
    alone_d = Daemon(root / "alone", config, args.instances, args.iters, args.seed)
    load_before = os.getloadavg()
    try:
        t_alone = time.monotonic()
        await alone_d.start()
        alone_task = asyncio.create_task(alone_d.wait(finished, "the undisturbed run to finish"))
        t_storm = time.monotonic()
        storm, st = await run_storm(storm_d, args, every_s)
        storm_s = time.monotonic() - t_storm
        alone = await alone_task
        alone_s = time.monotonic() - t_alone
        lost = instance_kill_losses(storm_d, st["id"], storm)
        rows = storm_d.restarts(st["id"])
    finally:
        storm_d.stop()
        alone_d.stop()
    diffs = compare(st, alone) if st.get("state") == alone.get("state") == "done" else ["a run did not finish"]
    per_kill = [v for k in storm.daemon_kills for v in k["discarded"].values()]
    within = all(v <= k["checkpoint_interval_iters"] for k in storm.daemon_kills for v in k["discarded"].values())
    return {
        "seed": args.seed,
        "config": str(config.relative_to(REPO) if config.is_relative_to(REPO) else config),
        "instances": args.instances,
        "workers": 1,
        "iters": args.iters,
        "daemon_flags": "default",
        "checkpoint_every_s": every_s,
        "schedule": {
            "instance_kills": len(storm.kills),
            "daemon_kills": len(storm.daemon_kills),
            "sigstops": storm.sigstops,
            "planned": [args.instance_kills, args.daemon_kills, int(args.sigstop and args.daemon_kills > 0)],
            "gap_s": [args.gap_min, args.gap_max],
            "complete": (len(storm.kills), len(storm.daemon_kills), storm.sigstops)
            == (args.instance_kills, args.daemon_kills, int(args.sigstop and args.daemon_kills > 0)),
        },
        "daemon_kills": storm.daemon_kills,
        "discarded_per_daemon_kill": {**summary(per_kill), "within_checkpoint_interval": within},
        "discarded_per_instance_kill": summary(lost),
        "restarts": {"total": len(rows), "counted": sum(r[4] for r in rows)},
        "final_state": {"storm": st.get("state"), "undisturbed": alone.get("state"), "reason": st.get("reason")},
        "bit_identical": not diffs,
        "differences": diffs,
        "wall_s": {"storm": round(storm_s, 1), "undisturbed_alongside": round(alone_s, 1)},
        "load": {"before": load_before, "after": os.getloadavg()},
        "root": str(root),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default=str(REPO / "configs" / "leduc-es.yaml"))
    p.add_argument("--instances", type=int, default=3)
    p.add_argument("--iters", type=int, default=600_000_000, help="total, split over the instances")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--instance-kills", type=int, default=30)
    p.add_argument("--daemon-kills", type=int, default=3)
    p.add_argument("--no-sigstop", dest="sigstop", action="store_false")
    p.add_argument("--gap-min", type=float, default=1.0, help="seconds between two faults, at least")
    p.add_argument("--gap-max", type=float, default=8.0)
    result = asyncio.run(main_async(p.parse_args()))
    print(json.dumps(result))
    held = result["discarded_per_daemon_kill"]["within_checkpoint_interval"] and result["schedule"]["complete"]
    return 0 if result["bit_identical"] and held else 1


if __name__ == "__main__":
    sys.exit(main())

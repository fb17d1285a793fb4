"""Scaling of one instance's worker threads: prints one JSON object.

`--part scaling` (default): for hunl-default and leduc-es, back to back in one process, node visits
per wall second of the ES-MCCFR solver with W = 1 and W = 2 workers on one shared set of tables after
a warm-up, the ratio W=2 / W=1 and the W=2 figure per core; then the time of one Leduc iteration of
each full-traversal solver and of one exact best response, which says whether threads could pay there.

`--part convergence --workers W`: the wall time for Leduc ES (each of --seeds) to reach --target
exploitability, measured every --check-every iterations outside the timed part, giving up after
--limit seconds. One W per invocation, so each stays within a few minutes of a quiet machine:

    flock -x -w 900 /tmp/holdem-cpu.lock .venv/bin/python benchmarks/worker_scaling.py [--seconds 10]
    flock -x -w 900 /tmp/holdem-cpu.lock .venv/bin/python benchmarks/worker_scaling.py --part convergence --workers 1
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import yaml

from holdem.evaluation.exploitability import exploitability
from holdem.games import load_game
from holdem.games.hunl.game import load_hunl
from holdem.solver.solver import Solver, SolverSettings

REPO = Path(__file__).resolve().parents[1]


def _load(name: str, root: Path):
    if name == "hunl-default":
        section = yaml.safe_load((REPO / "configs" / "hunl-default.yaml").read_text())["hunl"]
        game = load_hunl(section, root)
        for table in (game.buckets.flop, game.buckets.turn, game.buckets.river, game.buckets.board5_id):
            int(table.reshape(-1)[:: 4096 // table.itemsize].sum())  # fault every page in once
        return game
    return load_game("leduc")


def speed(game, workers: int, seconds: float, chunk: int) -> dict:
    solver = Solver(game, SolverSettings("es-mccfr"), seed=1, workers=workers)
    solver.run(chunk)  # compile (cached) and warm the caches
    iters = visits = 0
    cpu0, t0 = time.process_time(), time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        visits += solver.run(chunk)
        iters += chunk
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    solver.close()
    return {
        "workers": workers,
        "node_visits_per_s": round(visits / wall),
        "iterations_per_s": round(iters / wall),
        "cpu_per_wall": round(cpu / wall, 2),
    }


def time_to_target(workers: int, seed: int, target: float, check_every: int, limit_s: float) -> dict:
    """Seconds of training until exploitability <= target; also when 4x and 2x the target were first met."""
    game = load_game("leduc")
    solver = Solver(game, SolverSettings("es-mccfr"), seed=seed, workers=workers)
    trained = 0.0
    expl = float("inf")
    first: dict[str, list[float]] = {}
    while expl > target and trained < limit_s:
        t0 = time.perf_counter()
        solver.run(check_every)
        trained += time.perf_counter() - t0
        expl = exploitability(game, solver.average_strategy()).exploitability
        for goal in (4 * target, 2 * target, target):
            if expl <= goal and f"{goal:g}" not in first:
                first[f"{goal:g}"] = [round(trained, 2), solver.iteration]
    solver.close()
    return {
        "workers": workers,
        "seed": seed,
        "seconds": round(trained, 2),
        "iterations": solver.iteration,
        "exploitability": expl,
        "reached": expl <= target,
        "first_reached_s_iters": first,
    }


def full_sweep_seconds() -> dict:
    game = load_game("leduc")
    out = {}
    for alg in ("cfr", "cfr+", "dcfr"):
        solver = Solver(game, SolverSettings(alg), seed=0)
        solver.run(10)
        t0 = time.perf_counter()
        solver.run(2_000)
        out[alg] = round((time.perf_counter() - t0) / 2_000 * 1e6, 1)
    policy = solver.average_strategy()
    exploitability(game, policy)
    t0 = time.perf_counter()
    for _ in range(200):
        exploitability(game, policy)
    return {"leduc_us_per_iteration": out, "leduc_best_response_us": round((time.perf_counter() - t0) / 200 * 1e6, 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", choices=["scaling", "convergence"], default="scaling")
    p.add_argument("--seconds", type=float, default=10.0, help="scaling: timed seconds per (game, W)")
    p.add_argument("--workers", type=int, default=1, help="convergence: worker threads")
    p.add_argument("--seeds", type=int, nargs="+", default=[2], help="convergence: solver seeds, one run each")
    p.add_argument("--target", type=float, default=1e-3, help="convergence: exploitability to reach")
    p.add_argument("--check-every", type=int, default=1_000_000, help="convergence: iterations between checks")
    p.add_argument("--limit", type=float, default=170.0, help="convergence: give up after this many seconds")
    p.add_argument(
        "--buckets-root",
        type=Path,
        default=Path(os.environ.get("HOLDEM_BUCKETS", Path.home() / ".cache/holdem/buckets")),
    )
    args = p.parse_args()
    result: dict = {"cores": os.cpu_count(), "load_before": os.getloadavg()}
    if args.part == "convergence":
        runs = [time_to_target(args.workers, seed, args.target, args.check_every, args.limit) for seed in args.seeds]
        result["leduc_es_to_target"] = runs
        # the crossing of a noisy falling curve varies a lot from seed to seed: the median says more than one
        result["median_seconds"] = float(np.median([r["seconds"] for r in runs]))
        result["median_iterations"] = float(np.median([r["iterations"] for r in runs]))
        result["load_after"] = os.getloadavg()
        print(json.dumps(result))
        return
    for name, chunk in (("hunl-default", 20_000), ("leduc-es", 50_000)):
        game = _load(name, args.buckets_root)
        runs = [speed(game, w, args.seconds, chunk) for w in (1, 2)]
        one, two = runs
        result[name] = {
            "w1": one,
            "w2": two,
            "speedup": round(two["node_visits_per_s"] / one["node_visits_per_s"], 3),
            "w2_node_visits_per_s_per_core": round(two["node_visits_per_s"] / 2),
        }
    result["full_traversal"] = full_sweep_seconds()
    result["load_after"] = os.getloadavg()
    print(json.dumps(result))


if __name__ == "__main__":
    main()

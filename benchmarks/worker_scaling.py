"""Scaling of one instance's worker threads (issue 10): prints one JSON object.

For hunl-default and leduc-es, back to back in one process: node visits per wall second of the
ES-MCCFR solver with W = 1 and W = 2 workers on one shared set of tables, after a warm-up, the ratio
W=2 / W=1, and the W=2 figure per core. Then (unless --no-convergence) the wall time for Leduc ES to
reach an exploitability of 1e-3 with W = 1 and W = 2 (exploitability measured every --check-every
iterations, outside the timed part), and the time of one Leduc sweep of each full-traversal solver,
which says whether threads could pay there. Run it on a quiet machine:

    flock -x -w 900 /tmp/holdem-cpu.lock .venv/bin/python benchmarks/worker_scaling.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

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
    return {"workers": workers, "node_visits_per_s": round(visits / wall), "iterations_per_s": round(iters / wall),
            "cpu_per_wall": round(cpu / wall, 2)}


def time_to_target(workers: int, target: float, check_every: int, limit_s: float) -> dict:
    game = load_game("leduc")
    solver = Solver(game, SolverSettings("es-mccfr"), seed=2, workers=workers)
    solver.run(10)
    solver = Solver(game, SolverSettings("es-mccfr"), seed=2, workers=workers)
    trained = 0.0
    expl = float("inf")
    while expl > target and trained < limit_s:
        t0 = time.perf_counter()
        solver.run(check_every)
        trained += time.perf_counter() - t0
        expl = exploitability(game, solver.average_strategy()).exploitability
    solver.close()
    return {"workers": workers, "seconds": round(trained, 2), "iterations": solver.iteration,
            "exploitability": expl, "reached": expl <= target}


def full_sweep_seconds() -> dict:
    game = load_game("leduc")
    out = {}
    for alg in ("cfr", "cfr+", "dcfr"):
        solver = Solver(game, SolverSettings(alg), seed=0)
        solver.run(10)
        t0 = time.perf_counter()
        solver.run(2_000)
        out[alg] = round((time.perf_counter() - t0) / 2_000 * 1e6, 1)
    return {"leduc_us_per_iteration": out}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=10.0, help="timed seconds per (game, W)")
    p.add_argument("--no-convergence", action="store_true", help="skip the Leduc time-to-1e-3 part")
    p.add_argument("--check-every", type=int, default=20_000)
    p.add_argument("--buckets-root", type=Path,
                   default=Path(os.environ.get("HOLDEM_BUCKETS", Path.home() / ".cache/holdem/buckets")))
    args = p.parse_args()
    result: dict = {"cores": os.cpu_count(), "load_before": os.getloadavg()}
    for name, chunk in (("hunl-default", 20_000), ("leduc-es", 50_000)):
        game = _load(name, args.buckets_root)
        runs = [speed(game, w, args.seconds, chunk) for w in (1, 2)]
        one, two = runs
        result[name] = {"w1": one, "w2": two,
                        "speedup": round(two["node_visits_per_s"] / one["node_visits_per_s"], 3),
                        "w2_node_visits_per_s_per_core": round(two["node_visits_per_s"] / 2)}
    if not args.no_convergence:
        runs = [time_to_target(w, 1e-3, args.check_every, 300.0) for w in (1, 2)]
        result["leduc_es_to_1e-3"] = {"w1": runs[0], "w2": runs[1],
                                      "w2_over_w1": round(runs[1]["seconds"] / runs[0]["seconds"], 3)}
    result["full_traversal"] = full_sweep_seconds()
    result["load_after"] = os.getloadavg()
    print(json.dumps(result))


if __name__ == "__main__":
    main()

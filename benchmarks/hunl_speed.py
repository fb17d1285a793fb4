"""Hold'em training speed on one core: prints one JSON object.

For configs/quickstart.yaml and configs/hunl-default.yaml: iterations/s and node visits/s of the
sampled ES-MCCFR kernel after a warm-up, the instance's resident memory (bucket tables are mmapped
and shared between instances, so they are reported apart), and 7-card evaluations/s. Then a real
`holdem train` instance on hunl-default for --instance-seconds: its iterations per second of training
should match the kernel's; a gap means the loop around the kernel costs time.

    .venv/bin/python benchmarks/hunl_speed.py [--seconds 10] [--instance-seconds 30] [--buckets-root DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import yaml

from holdem.cards import random_hands
from holdem.evaluator import evaluate_batch
from holdem.games.hunl.game import load_hunl
from holdem.solver.solver import Solver, SolverSettings

REPO = Path(__file__).resolve().parents[1]


def measure(config: str, root: Path, seconds: float) -> dict:
    section = yaml.safe_load((REPO / "configs" / config).read_text())["hunl"]
    game = load_hunl(section, root)
    solver = Solver(game, SolverSettings("es-mccfr"), seed=1)
    # Fault in every page of the mmapped bucket tables first: a long run pays those faults once, and
    # timing them would make the result depend on what the page cache held before.
    for table in (game.buckets.flop, game.buckets.turn, game.buckets.river, game.buckets.board5_id):
        int(table.reshape(-1)[:: 4096 // table.itemsize].sum())
    solver.run(2_000)  # compile and warm the caches
    iters = visits = 0
    cpu0 = time.process_time()
    while time.process_time() - cpu0 < seconds:
        visits += solver.run(20_000)
        iters += 20_000
    cpu = time.process_time() - cpu0
    bucket_bytes = sum(a.nbytes for a in (game.buckets.flop, game.buckets.turn, game.buckets.river))
    return {
        "config": config,
        "iterations_per_cpu_s": round(iters / cpu),
        "node_visits_per_cpu_s": round(visits / cpu),
        "table_bytes": 2 * solver.regrets.nbytes,
        "bucket_bytes_shared": bucket_bytes,
        "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def measure_instance(config: str, root: Path, seconds: float) -> dict:
    """A real `holdem train` for `seconds`: iterations per wall second of training, everything included
    (progress metrics, checkpoint), which the kernel figure above does not see."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "instance"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "holdem.cli",
                "train",
                "--config",
                str(REPO / "configs" / config),
                "--instance-dir",
                str(folder),
                "--time-budget",
                f"{seconds:g}",
                "--buckets-root",
                str(root),
            ],
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        manifest = json.loads(max((folder / "checkpoints").glob("*/manifest.json")).read_text())
    return {
        "config": config,
        "instance_seconds": manifest["elapsed_s"],
        "instance_iterations": manifest["iteration"],
        "instance_iterations_per_s": round(manifest["iteration"] / manifest["elapsed_s"]),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument(
        "--instance-seconds",
        type=float,
        default=30.0,
        help="also train a real hunl-default instance this long (0: skip)",
    )
    p.add_argument(
        "--buckets-root",
        type=Path,
        default=Path(os.environ.get("HOLDEM_BUCKETS", Path.home() / ".cache/holdem/buckets")),
    )
    args = p.parse_args()
    hands = random_hands(5_000_000, 7, 1)
    evaluate_batch(hands[:10])
    cpu0 = time.process_time()
    evaluate_batch(hands)
    evals = len(hands) / (time.process_time() - cpu0)
    out = {
        "benchmark": "hunl_speed",
        "load_average": os.getloadavg(),
        "evaluations_per_cpu_s": round(evals),
        "configs": [measure(c, args.buckets_root, args.seconds) for c in ("quickstart.yaml", "hunl-default.yaml")],
    }
    if args.instance_seconds > 0:
        out["instance"] = measure_instance("hunl-default.yaml", args.buckets_root, args.instance_seconds)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

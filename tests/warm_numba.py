"""Compile, once, the numba kernels nearly every process of the suite needs, before the xdist workers start.

On a fresh checkout numba's cache is empty: importing holdem compiles the hand evaluator's tables (about
8 s of CPU) and the first Leduc and Kuhn trainings compile the solver (about 10 s). Left to the tests,
each worker's collection and each of the many `holdem train` processes that start in the first
seconds compile them again, side by side; compiled here first, every later process reads the cache.
With a warm cache this takes about two seconds.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The sampled (ES-MCCFR) and the full-traversal (CFR+) solvers: the two every game starts with.
CONFIGS = (REPO / "configs" / "leduc-es.yaml", REPO / "configs" / "leduc.yaml")


def warm() -> None:
    """Import holdem, then run a few iterations of each solver, two processes side by side."""
    subprocess.run([sys.executable, "-c", "import holdem.evaluator"], cwd=REPO, check=True)
    with tempfile.TemporaryDirectory(prefix="warm-numba-") as tmp:
        trainings = [
            subprocess.Popen(
                [sys.executable, "-m", "holdem", "train", "--config", str(cfg), "--instance-dir", f"{tmp}/{k}"]
                + ["--iters", "20"],
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for k, cfg in enumerate(CONFIGS)
        ]
        for proc, cfg in zip(trainings, CONFIGS):
            _, err = proc.communicate(timeout=600)
            if proc.returncode != 0:  # the tests that train will say what is wrong, in their own words
                print(
                    f"warm_numba: training {cfg.name} exited {proc.returncode}: {err.decode()[-500:]}", file=sys.stderr
                )


if __name__ == "__main__":
    warm()

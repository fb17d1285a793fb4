"""Before a run: a short timed sample of training, and what it says about the budget (`holdem tree`).

The sample trains a throwaway solver on the config's own game and settings for a few seconds, after a
warm-up that loads the compiled kernels. It measures the first iterations of a run: while the strategy
is still near uniform, a sampled opponent raises often and hands run long, so these iterations are the
slowest of the run (several times slower than later ones; the measurement is in docs/decisions.md).
The time estimated for a budget is therefore an
upper bound, the iterations for a time budget a lower one. The budget is split as the daemon splits it
(instance k gets ceil(N / n) at most), and instances beyond the cores share them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from holdem.abstraction.buckets import MissingBuckets
from holdem.config import TrainConfig
from holdem.games.hunl.game import load_hunl
from holdem.instance.loop import settings_from_config
from holdem.solver.solver import Solver


@dataclass(frozen=True, slots=True)
class SpeedSample:
    seconds: float
    iterations: int

    @property
    def ips(self) -> float:
        return self.iterations / self.seconds if self.seconds > 0 else 0.0


def sample_speed(cfg: TrainConfig, buckets_root: Path, seconds: float, seed: int = 0) -> SpeedSample:
    """Iterations per second of one single-worker instance of `cfg`; MissingBuckets if not built."""
    game = load_hunl(cfg.hunl, buckets_root, build_if_missing=False)
    solver = Solver(game, settings_from_config(cfg), seed=seed)
    solver.run(64)  # loads (or compiles) the kernels; not timed
    done, chunk = 0, 256
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        solver.run(chunk)
        done += chunk
        chunk = min(chunk * 2, max(256, int(done / max(elapsed, 1e-3) * 0.25)))  # about 4 checks a second
    return SpeedSample(time.perf_counter() - started, done)


def speed_report(
    cfg: TrainConfig,
    buckets_root: Path,
    seconds: float,
    iters: int | None,
    time_budget_s: float | None,
    instances: int,
    cores: int,
    build_command: str = "holdem buckets build --config FILE",
) -> dict[str, Any]:
    """The `speed` entry of `holdem tree --json`: the sample and the time (or iterations) of the budget.
    ``build_command`` builds the missing bucket set, in the caller's own words."""
    try:
        sample = sample_speed(cfg, buckets_root, seconds)
    except MissingBuckets:
        return {
            "skipped": f"no bucket set is built for this abstraction yet: `{build_command}` builds it "
            "(the sample trains on it)"
        }
    share = max(1.0, instances / max(cores, 1))  # instances beyond the cores take turns
    out: dict[str, Any] = {
        "sample_s": round(sample.seconds, 3),
        "iterations": sample.iterations,
        "iterations_per_s": round(sample.ips, 1),
        "instances": instances,
        "cores": cores,
        "target_iters": None,
        "time_budget_s": time_budget_s,
        "estimated_seconds": None,
        "estimated_iterations": None,
    }
    if time_budget_s is not None:
        out["estimated_seconds"] = time_budget_s
        out["estimated_iterations"] = int(sample.ips / share * time_budget_s * instances)
    else:
        target = iters if iters is not None else cfg.iterations
        out["target_iters"] = target
        out["estimated_seconds"] = (
            round(math.ceil(target / instances) / (sample.ips / share), 1) if sample.ips else None
        )
    return out


def describe_speed(speed: dict[str, Any]) -> str:
    if "skipped" in speed:
        return f"speed: not sampled ({speed['skipped']})"
    line = (
        f"speed: {speed['iterations_per_s']:,.0f} it/s per instance ({speed['iterations']:,} iterations in a "
        f"{speed['sample_s']:.1f} s sample of a run's first, slowest iterations)"
    )
    n, cores = speed["instances"], speed["cores"]
    where = f"{n} instance{'s' if n != 1 else ''} on {cores} core{'s' if cores != 1 else ''}"
    if speed["time_budget_s"] is not None:
        iterations = speed["estimated_iterations"]
        return line + f"; {speed['time_budget_s']:,.0f} s with {where}: at least about {iterations:,} iterations"
    seconds = speed["estimated_seconds"]
    return line + (
        f"; {speed['target_iters']:,} iterations with {where}: at most about {_duration(seconds)}"
        if seconds is not None
        else ""
    )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"

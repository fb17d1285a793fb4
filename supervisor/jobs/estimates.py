"""The prepare phase's estimate of a hold'em run, from `holdem tree --json` (a subprocess).

Twice per prepare phase: before `holdem prepare` without a sample (the tree's infosets and memory,
a second or two), and after it, when the card buckets exist, with a timed training sample
(`--estimate-sample`, default 3 s) that gives iterations/s and the time the run's budget will take.
Both are stored in the results database, so the estimate survives a daemon restart; an estimate
that fails is stored with its error and never stops the run. Kuhn and Leduc runs have none.
"""

from __future__ import annotations

import time
from typing import Any

from supervisor.config import DaemonConfig
from supervisor.jobs.blueprints import HoldemFailed, run_game, run_holdem
from supervisor.state.results import Results

TREE_TIMEOUT_S = 120.0  # the sample itself, numba loading its kernels, and a loaded machine


def summarize(report: dict[str, Any], sampled: bool) -> dict[str, Any]:
    """The figures a status line shows, beside holdem tree's whole report."""
    speed = report.get("speed")
    if not isinstance(speed, dict):
        speed = {}
    return {
        "infosets": report.get("infosets"),
        "memory_bytes_per_instance": report.get("private_bytes_per_instance"),
        "memory_bytes_all_instances": report.get("memory_bytes_all_instances"),
        "bucket_bytes_shared": report.get("bucket_bytes_shared"),
        "iterations_per_s": speed.get("iterations_per_s"),
        "estimated_seconds": speed.get("estimated_seconds"),
        "estimated_iterations": speed.get("estimated_iterations"),
        "sample_skipped": speed.get("skipped"),
        "sampled": sampled and "iterations_per_s" in speed,
        "error": None,
        "t": time.time(),
        "report": report,
    }


async def estimate_run(cfg: DaemonConfig, results: Results, run: Any, sampled: bool) -> None:
    """Run `holdem tree` for a hold'em run and store what it says (or why it could not)."""
    if run_game(run.dir) != "hunl":
        return
    row = run.row
    argv = [
        *cfg.worker_cmd,
        "tree",
        "--config",
        str(run.ctx.config_path),
        "--json",
        "--instances",
        str(row.n_instances),
        "--sample-s",
        f"{cfg.tuning.estimate_sample_s if sampled else 0:g}",
    ]
    if row.iters is not None:
        argv += ["--iters", str(row.iters)]
    elif row.time_budget_s is not None:
        argv += ["--time-budget", f"{row.time_budget_s:g}"]
    try:
        doc = summarize(await run_holdem(argv, TREE_TIMEOUT_S + cfg.tuning.estimate_sample_s), sampled)
    except HoldemFailed as exc:
        doc = {"error": exc.message, "t": time.time()}
    except TimeoutError:
        doc = {"error": f"holdem tree did not answer within {TREE_TIMEOUT_S:g}s", "t": time.time()}
    previous = results.estimate(run.id)
    if doc.get("error") and previous and not previous.get("error"):
        previous = {**previous, "sample_error": doc["error"]}  # keep the tree's figures; say the sample failed
        results.set_estimate(run.id, previous)
        return
    results.set_estimate(run.id, doc)

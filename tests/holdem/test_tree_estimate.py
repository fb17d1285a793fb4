"""`holdem tree`'s timed sample: it trains the config for real for a moment and turns the speed into the
time of the budget (or the iterations of a time budget), split over instances as the daemon splits it."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import yaml
from holdem_proc import REPO, SMALL_HUNL


def tree(*args: object) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "holdem", "tree", *map(str, args), "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_sample_estimates_the_time_of_an_iteration_budget_split_over_instances(hunl_buckets, tmp_path):
    root, _ = hunl_buckets
    cfg = tmp_path / "small.yaml"
    cfg.write_text(yaml.safe_dump({"game": "hunl", "algorithm": "es-mccfr", "iterations": 90_000, "hunl": SMALL_HUNL}))
    speed = tree("--config", cfg, "--buckets-root", root, "--sample-s", 0.5, "--instances", 3)["speed"]
    assert speed["iterations"] > 0 and speed["sample_s"] >= 0.5 and speed["target_iters"] == 90_000
    share = max(1.0, 3 / speed["cores"])  # three instances on the machine's cores
    assert math.isclose(
        speed["estimated_seconds"], 30_000 * share / speed["iterations_per_s"], rel_tol=1e-3, abs_tol=0.05
    )  # rounded to 0.1 s
    budget = tree("--config", cfg, "--buckets-root", root, "--sample-s", 0.3, "--time-budget", 60)["speed"]
    assert budget["target_iters"] is None and budget["estimated_seconds"] == 60.0
    assert math.isclose(budget["estimated_iterations"], budget["iterations_per_s"] * 60, rel_tol=1e-3, abs_tol=60)


def test_without_a_bucket_set_the_sample_is_skipped_and_says_why(tmp_path):
    cfg = tmp_path / "small.yaml"
    cfg.write_text(yaml.safe_dump({"game": "hunl", "algorithm": "es-mccfr", "hunl": SMALL_HUNL}))
    report = tree("--config", cfg, "--buckets-root", tmp_path / "empty", "--sample-s", 1)
    assert "holdem buckets build" in report["speed"]["skipped"] and report["infosets"] > 0
    assert "speed" not in tree("--config", cfg, "--buckets-root", tmp_path / "empty", "--sample-s", 0)

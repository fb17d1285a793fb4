"""Hand evaluator speed on one core: 7-card evaluations/s in a jitted batch loop, and the time to rank
every one of the 133,784,560 seven-card hands.

Run (from the repository root)::

    .venv/bin/python benchmarks/evaluator_speed.py               # 10 million hands, 5 repeats (~15 s)
    .venv/bin/python benchmarks/evaluator_speed.py --hands 20000000 --repeats 9

It prints one JSON object (``"schema": 1``). How it measures, and why:

* One core: NUMBA_NUM_THREADS=1, and ``evaluate_batch`` is a plain serial loop.
* The hands are dealt before any clock starts (``random_hands``, uint8, seeded), and every kernel is
  compiled (or loaded from numba's cache) on a small batch first. So the rate is the evaluator alone:
  read 7 cards, rank, write one int32.
* Each pass ranks all N hands; ``evals_per_s`` is the best pass (the least disturbed by other work on
  the machine), ``evals_per_s_median`` the median. ``cpu_share`` is process CPU time over wall time
  across the passes; below ~0.95 the machine was busy and the rates are pessimistic (see
  ``load_average``), and ``evals_per_cpu_s`` (hands over process CPU time) is the steadier figure.
  ``int64_cards`` repeats the best-of measure with int64 card arrays, the other
  layout a caller might use.
* ``enumeration`` times ``category_counts(7)``: all C(52, 7) hands, each ranked from scratch by the
  same kernel, with the category counts checked against the exact ones.
* ``targets`` are the evaluator's goals (50 million evaluations/s on one core, the exact 7-card
  category counts) and say whether each holds in this run.
"""

from __future__ import annotations

import os

os.environ["NUMBA_NUM_THREADS"] = "1"  # before numba is imported: the benchmark is one core

import argparse
import json
import statistics
import sys
import time
from typing import Any

import numpy as np
from machine import machine

from holdem.cards import random_hands
from holdem.evaluator import category_counts, evaluate_batch

SCHEMA = 1
EXACT_7 = [23294460, 58627800, 31433400, 6461620, 6180020, 4047644, 3473184, 224848, 41584]
TARGET_EVALS_PER_S = 50e6


def timed_passes(hands: np.ndarray, repeats: int) -> dict[str, Any]:
    evaluate_batch(hands[:1000])  # compile or load from the cache
    rates = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(repeats):
        t = time.perf_counter()
        evaluate_batch(hands)
        rates.append(hands.shape[0] / (time.perf_counter() - t))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {
        "evals_per_s": round(max(rates)),
        "evals_per_s_median": round(statistics.median(rates)),
        "evals_per_cpu_s": round(hands.shape[0] * repeats / cpu),
        "ns_per_eval": round(1e9 / max(rates), 2),
        "passes": repeats,
        "cpu_share": round(cpu / wall, 3),
    }


def enumeration() -> dict[str, Any]:
    category_counts(5)  # compile or load from the cache
    cpu0, t = time.process_time(), time.perf_counter()
    counts = category_counts(7).tolist()
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu0
    return {
        "hands": sum(counts),
        "seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "evals_per_s": round(sum(counts) / wall),
        "cpu_share": round(cpu / wall, 3),
        "counts": counts,
        "counts_exact": counts == EXACT_7,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hands", type=int, default=10_000_000, help="random 7-card hands per pass")
    parser.add_argument("--repeats", type=int, default=5, help="timed passes over the hands")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "benchmark": "evaluator_speed",
        "machine": machine("numba", "numpy"),
        "load_average": {"start": [round(x, 2) for x in os.getloadavg()]},
    }
    t = time.perf_counter()
    hands = random_hands(args.hands, 7, args.seed)
    report["hands"] = {
        "n": args.hands,
        "cards": 7,
        "dtype": str(hands.dtype),
        "seed": args.seed,
        "deal_seconds": round(time.perf_counter() - t, 2),
    }
    report["batch"] = timed_passes(hands, args.repeats)
    report["int64_cards"] = timed_passes(hands.astype(np.int64), max(1, args.repeats // 2))
    report["enumeration"] = enumeration()
    report["targets"] = {
        "evals_per_s_ge_50M": report["batch"]["evals_per_s"] >= TARGET_EVALS_PER_S,
        "exact_7_card_category_counts": report["enumeration"]["counts_exact"],
    }
    report["load_average"]["end"] = [round(x, 2) for x in os.getloadavg()]
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0 if all(report["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())

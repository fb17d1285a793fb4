"""Time per searched decision and search iterations per decision, W = 1 and W = 2: prints one JSON object.

The search agent plays duplicate hands against the blueprint it searches with until `--decisions`
postflop decisions have been searched at `--ms` each; every decision's wall time counts everything
(subgame construction, leaf values, gadget values, solving). Issue 9's target: p50 and p99 within
the budget + 10% over 1,000 decisions, with `--workers` threads. Then the first `--scaling-decisions`
of those spots are searched again, each with 1 thread and with `--workers` back to back (the same
spot, hand and history; load drifts hit both): the ratio of mean iterations per decision (target
>= 1.7 with 2). Spots differ a lot in size, so only the same spots give a ratio.
Run it alone on the machine (under the exclusive CPU lock):

    flock -x /tmp/holdem-cpu.lock .venv/bin/python benchmarks/search_latency.py --blueprint DIR
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np
from search_common import REPO, buckets_root, duplicate, ensure_blueprint, load_average

from holdem.blueprint.hunl import load_blueprint
from holdem.play.agents import BlueprintAgent
from holdem.play.search_agent import SearchAgent, SearchConfig
from holdem.search.solve import SolveOptions
from holdem.search.spot import Spot, parse_spot

WARM_UP = (("AsKd", "Qh7c2s", "r300c/"), ("7s2d", "Qh7c2s9d", "r300c/cc/r337"), ("AhAd", "Kh9c4s2d3c", "cc/cc/cc/r150"))


class RecordingSearch(SearchAgent):
    """The search agent, keeping every spot it searched afresh (to replay with other thread counts)."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.spots: list[Spot] = []

    def _search_act(self, state, rng):
        before = len(self.decisions)
        action = super()._search_act(state, rng)
        if self.decisions[before].resolved:
            h = self.hand
            hole = tuple(self.cards[h.deal, 2 * h.seat : 2 * h.seat + 2].tolist())
            self.spots.append(Spot(hole, tuple(self.board(state.street)), tuple(h.history), state))
        return action


def agent_for(bp, ms: float, workers: int, card_removal: bool) -> RecordingSearch:
    # from the flop: every kind of subgame (depth-limited flop and turn, the exact river) is timed
    agent = RecordingSearch(
        bp, SearchConfig(SolveOptions(ms=ms, workers=workers), leaf_card_removal=card_removal, first_street=1)
    )
    for spot in WARM_UP:  # every kernel compiled (or read from numba's cache) before the clock runs
        agent.decide(parse_spot(bp.game.abstraction.rules, *spot), random.Random(0))
    agent.decisions.clear()
    agent.spots.clear()
    return agent


def run(bp, ms: float, workers: int, decisions: int, seed: int, card_removal: bool = False) -> tuple[dict, list[Spot]]:
    """Latency over ``decisions`` searched decisions in play against the blueprint, and their spots."""
    agent = agent_for(bp, ms, workers, card_removal)
    rules = bp.game.abstraction.rules
    chunk = 0
    while sum(d.resolved for d in agent.decisions) < decisions:
        duplicate(agent, BlueprintAgent(bp), rules, seed + 1000 * chunk, 1e9, 20)
        chunk += 1
    searched = [d for d in agent.decisions if d.resolved][:decisions]
    reused = [d.seconds * 1000.0 for d in agent.decisions if not d.resolved]
    out = {
        "workers": workers,
        **stats(searched, ms),
        "reused_decisions": len(reused),
        "reused_p99_ms": round(float(np.percentile(reused, 99)), 2) if reused else None,
    }
    return out, agent.spots[:decisions]


def replay(bp, ms: float, workers: int, spots: list[Spot], card_removal: bool) -> tuple[dict, dict]:
    """Each spot searched with one thread, then with ``workers``, back to back."""
    one, many = agent_for(bp, ms, 1, card_removal), agent_for(bp, ms, workers, card_removal)
    for spot in spots:
        for agent in (one, many):
            agent.decide(spot, random.Random(0))
    return stats(one.decisions, ms), stats(many.decisions, ms)


def stats(searched: list, ms: float) -> dict:
    t = np.array([d.seconds for d in searched]) * 1000.0
    it = np.array([d.iterations for d in searched])
    by_street = {
        s: float(np.mean([d.iterations for d in searched if d.street == s]))
        for s in (1, 2, 3)
        if any(d.street == s for d in searched)
    }
    return {
        "decisions": len(searched),
        "budget_ms": ms,
        "p50_ms": round(float(np.percentile(t, 50)), 2),
        "p99_ms": round(float(np.percentile(t, 99)), 2),
        "max_ms": round(float(t.max()), 2),
        "within_budget_plus_10pct": bool(np.percentile(t, 99) <= 1.1 * ms),
        "iterations_mean": round(float(it.mean()), 1),
        "iterations_p50": float(np.percentile(it, 50)),
        "iterations_by_street": {k: round(v, 1) for k, v in by_street.items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blueprint", type=Path, help="blueprint folder (default: train quickstart for --train-minutes)")
    ap.add_argument("--train-minutes", type=float, default=5.0)
    ap.add_argument("--ms", type=float, default=100.0)
    ap.add_argument("--decisions", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scaling-decisions", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--leaf-card-removal", choices=["on", "off"], default="off")
    args = ap.parse_args()
    removal = args.leaf_card_removal == "on"
    path = ensure_blueprint(args.blueprint, args.train_minutes, REPO / "configs" / "quickstart.yaml")
    bp = load_blueprint(path, buckets_root())
    load_before = load_average()
    started = time.time()
    latency, spots = run(bp, args.ms, args.workers, args.decisions, args.seed, removal)
    one, many = replay(bp, args.ms, args.workers, spots[: args.scaling_decisions], removal)
    ratio = {s: round(many["iterations_by_street"][s] / v, 3) for s, v in one["iterations_by_street"].items()}
    print(
        json.dumps(
            {
                "benchmark": "search_latency",
                "blueprint": str(path),
                "iteration": bp.iteration,
                "leaf_card_removal": removal,
                "latency": latency,
                "same_spots": {"w1": one, f"w{args.workers}": many},
                "iteration_ratio": round(many["iterations_mean"] / one["iterations_mean"], 3),
                "iteration_ratio_by_street": ratio,
                "load_before": load_before,
                "load_after": load_average(),
                "seconds": round(time.time() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()

"""Does a search's solution beat the blueprint, judged on leaf values it did not see? Prints one JSON object.

The search agent (from the flop, `--ms` a decision, `--workers` threads) plays against the blueprint
until it has searched `--spots` spots on each street. Each spot's solution is judged in its own
subgame against the blueprint (its strategy mapped onto the subgame, continuing with the blueprint
at the leaves): what it gains there over the blueprint itself, in mbb per searched spot,

* `in_sample`: on the leaf tables the search solved (what the search believes it gains);
* `out_of_sample`: on tables from `--judge-deals` independent deals (what it gains, up to their noise);
* `noise_free`: a solution of the same iterations on the judge's tables, judged on a second judge's
  (what a search with near-exact leaves could gain).

The river has no leaves, so its three figures are one, exact. Flop and turn figures far below their
in-sample ones mean the search fits the noise of its Monte Carlo leaves (docs/decisions.md).

    flock -x /tmp/holdem-cpu.lock .venv/bin/python benchmarks/search_leaf_noise.py --blueprint DIR
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import time
from pathlib import Path

import numpy as np
from search_common import REPO, buckets_root, duplicate, ensure_blueprint, load_average

from holdem.blueprint.hunl import load_blueprint
from holdem.games.tree import DECISION, LEAF
from holdem.play.agents import BlueprintAgent
from holdem.play.search_agent import SearchAgent, SearchConfig, _Solution
from holdem.search.hunl_leaves import leaf_tables
from holdem.search.solve import SolveOptions, expected_value, gadget_values, solve
from holdem.search.spot import parse_spot
from holdem.search.subgame import Subgame
from holdem.stats import mean_interval

STREETS = {1: "flop", 2: "turn", 3: "river"}


class KeepingSearch(SearchAgent):
    """The search agent, keeping every solution it searched afresh."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.kept: list[_Solution] = []

    def _solve(self, state, started):
        sol = super()._solve(state, started)
        self.kept.append(sol)
        return sol


def searcher_only(sub: Subgame, mine: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """A strategy in slot layout: the searcher's decisions from ``mine``, the other's from ``theirs``."""
    out = theirs.copy()
    for n in np.flatnonzero((sub.kind == DECISION) & (sub.player == sub.searcher)).tolist():
        sub.node_strategy(out, n)[:] = sub.node_strategy(mine, n)
    return out


def blueprint_after_leaves(sub: Subgame, strategy: np.ndarray) -> np.ndarray:
    """The other player's choice at every leaf set to continuation 0, the blueprint's."""
    out = strategy.copy()
    for n in np.flatnonzero(sub.kind == DECISION).tolist():
        if int(sub.kind[sub.children[sub.child_start[n]]]) == LEAF:
            view = sub.node_strategy(out, n)
            view[:] = 0.0
            view[:, 0] = 1.0
    return out


def gain(sub: Subgame, solution: np.ndarray, blueprint: np.ndarray, ranges, big_blind: int) -> float:
    """mbb the searcher's part of ``solution`` gains over the blueprint's against the blueprint, in ``sub``."""
    s = sub.searcher
    r = tuple(x / x.sum() for x in ranges)
    played = expected_value(sub, searcher_only(sub, solution, blueprint), s, r)
    return (played - expected_value(sub, blueprint, s, r)) * 1000.0 / big_blind


def judge(agent: KeepingSearch, sol, judge_deals: int, workers: int, big_blind: int) -> dict:
    g, sub = sol.game, sol.game.sub
    bp = blueprint_after_leaves(sub, agent.blueprint_strategy(g))
    out = {"in_sample": gain(sub, sol.result.average, bp, sol.ranges, big_blind)}
    if not (sub.kind == LEAF).any():
        return {**out, "out_of_sample": out["in_sample"], "noise_free": out["in_sample"]}
    hands = sub.hands if agent.config.leaf_checkdown else None
    judges = [
        dataclasses.replace(
            sub,
            leaves=leaf_tables(
                agent.game,
                agent.blueprint.policy,
                sol.board,
                sub.searcher,
                g.leaves,
                judge_deals,
                seed,
                None,
                workers,
                hands,
            ),
        )
        for seed in (10_007, 20_011)
    ]
    out["out_of_sample"] = gain(judges[0], sol.result.average, bp, sol.ranges, big_blind)
    alt = gadget_values(judges[0], agent.blueprint_strategy(g), sol.ranges[sub.searcher], workers)
    clean = solve(
        judges[0], sol.ranges, alt, dataclasses.replace(agent.config.solve, ms=None, iterations=sol.result.iterations)
    )
    out["noise_free"] = gain(judges[1], clean.average, bp, sol.ranges, big_blind)
    return out


def mean_and_interval(xs: list[float]) -> dict:
    mean, half = mean_interval(xs)
    return {"mean": round(mean, 1), "ci95": [round(mean - half, 1), round(mean + half, 1)]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blueprint", type=Path, help="blueprint folder (default: train quickstart for --train-minutes)")
    ap.add_argument("--train-minutes", type=float, default=5.0)
    ap.add_argument("--ms", type=float, default=100.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--spots", type=int, default=30, help="searched spots a street")
    ap.add_argument("--judge-deals", type=int, default=30_000)
    ap.add_argument("--leaf-checkdown", choices=["on", "off"], default="off")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    path = ensure_blueprint(args.blueprint, args.train_minutes, REPO / "configs" / "quickstart.yaml")
    bp = load_blueprint(path, buckets_root())
    rules = bp.game.abstraction.rules
    config = SearchConfig(
        SolveOptions(ms=args.ms, workers=args.workers), first_street=1, leaf_checkdown=args.leaf_checkdown == "on"
    )
    agent = KeepingSearch(bp, config)
    warm_up = parse_spot(rules, "AsKd", "Qh7c2s", "r300c/")
    agent.decide(warm_up, random.Random(0))  # every kernel compiled (or read from numba's cache)
    agent.kept.clear()
    load_before = load_average()
    started = time.time()
    by_street: dict[int, list] = {1: [], 2: [], 3: []}
    chunk = 0
    while min(len(v) for v in by_street.values()) < args.spots:
        duplicate(agent, BlueprintAgent(bp), rules, args.seed + 1000 * chunk, 1e9, 10)
        chunk += 1
        for sol in agent.kept:
            street = sol.game.states[0].street
            if len(by_street[street]) < args.spots:
                by_street[street].append(sol)
        agent.kept.clear()
    report = {}
    for street, sols in by_street.items():
        judged = [judge(agent, sol, args.judge_deals, args.workers, rules.big_blind) for sol in sols]
        report[STREETS[street]] = {
            "spots": len(sols),
            "iterations_mean": round(float(np.mean([s.result.iterations for s in sols])), 1),
            **{k: mean_and_interval([j[k] for j in judged]) for k in ("in_sample", "out_of_sample", "noise_free")},
        }
    print(
        json.dumps(
            {
                "benchmark": "search_leaf_noise",
                "blueprint": str(path),
                "iteration": bp.iteration,
                "search_ms": args.ms,
                "workers": args.workers,
                "leaf_deals": config.leaf_deals,
                "judge_deals": args.judge_deals,
                "leaf_checkdown": config.leaf_checkdown,
                "mbb_per_searched_spot": report,
                "load_before": load_before,
                "load_after": load_average(),
                "seconds": round(time.time() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()

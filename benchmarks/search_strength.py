"""Does search make a blueprint stronger? Duplicate matches under a clock: prints one JSON object.

1. the blueprint with search (`--ms` a decision, `--workers` threads) against the same blueprint
   without it: the goal is a 95% interval above 0;
2. each of them against `oddsizes` (bets 0.37, 0.8 and 1.7 pot, off every tree), on the same deals and
   seed, so the two results and their per-deal difference compare search with translation.

Each deal is played twice with seats swapped (as `holdem match`, with common random numbers: both
hands of a deal draw the same numbers, so a deal where search and blueprint play alike cancels);
intervals are 1.96 standard errors of the per-deal mean. The first match runs `--minutes`, search
against oddsizes `--oddsizes-minutes`, and the blueprint against oddsizes exactly the deals search
played there. The reference measurement is the default config trained 30 min on 2 cores and as many
hands as 60 min allow; without `--blueprint` this trains quickstart for `--train-minutes`.

    flock -x /tmp/holdem-cpu.lock .venv/bin/python benchmarks/search_strength.py --blueprint DIR [--per-deal FILE.npz]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from search_common import REPO, buckets_root, duplicate, ensure_blueprint, load_average, summary

from holdem.blueprint.hunl import load_blueprint
from holdem.cli.search_flags import STREETS
from holdem.play.agents import BlueprintAgent, OddSizesBot
from holdem.play.search_agent import SearchAgent, SearchConfig
from holdem.search.solve import SolveOptions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blueprint", type=Path)
    ap.add_argument("--train-minutes", type=float, default=5.0)
    ap.add_argument("--config", type=Path, default=REPO / "configs" / "quickstart.yaml")
    ap.add_argument("--minutes", type=float, default=60.0, help="search against the blueprint")
    ap.add_argument("--oddsizes-minutes", type=float, default=20.0, help="search against oddsizes")
    ap.add_argument("--max-hands", type=int, default=1_000_000)
    ap.add_argument("--ms", type=float, default=100.0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--search-from",
        choices=STREETS,
        default="river",
        help="the first street searched (default river, as `holdem play --search`)",
    )
    ap.add_argument("--leaf-checkdown", choices=["on", "off"], default="off")
    ap.add_argument("--per-deal", type=Path, help="also save every deal's result (chips, A's view) to this .npz")
    args = ap.parse_args()
    path = ensure_blueprint(args.blueprint, args.train_minutes, args.config)
    bp = load_blueprint(path, buckets_root())
    rules = bp.game.abstraction.rules
    config = SearchConfig(
        SolveOptions(ms=args.ms, workers=args.workers),
        first_street=STREETS.index(args.search_from) + 1,
        leaf_checkdown=args.leaf_checkdown == "on",
    )
    deals = args.max_hands // 2
    load_before = load_average()
    started = time.time()
    head = duplicate(
        SearchAgent(bp, config, "search"), BlueprintAgent(bp, "blueprint"), rules, args.seed, args.minutes * 60.0, deals
    )
    searched = SearchAgent(bp, config, "search")
    odd_search = duplicate(searched, OddSizesBot(), rules, args.seed + 1, args.oddsizes_minutes * 60.0, deals)
    n = len(odd_search["per_deal"])
    odd_plain = duplicate(BlueprintAgent(bp, "blueprint"), OddSizesBot(), rules, args.seed + 1, 1e9, n)
    diff = summary(np.array(odd_search["per_deal"]) - np.array(odd_plain["per_deal"]), rules.big_blind)
    ms = [d.seconds * 1000 for d in searched.decisions if d.resolved]
    per_deal = {
        name: np.array(r.pop("per_deal"))
        for name, r in (
            ("search_vs_blueprint", head),
            ("search_vs_oddsizes", odd_search),
            ("blueprint_vs_oddsizes", odd_plain),
        )
    }
    if args.per_deal is not None:
        np.savez(args.per_deal, **per_deal)  # type: ignore[arg-type]  # (mypy matches **per_deal to allow_pickle)
    print(
        json.dumps(
            {
                "benchmark": "search_strength",
                "blueprint": str(path),
                "iteration": bp.iteration,
                "search_ms": args.ms,
                "workers": args.workers,
                "search_from": args.search_from,
                "leaf_checkdown": args.leaf_checkdown,
                "search_vs_blueprint": head,
                "search_vs_oddsizes": odd_search,
                "blueprint_vs_oddsizes": odd_plain,
                "search_minus_blueprint_vs_oddsizes": diff,
                "decision_ms_p50_p99": [round(float(np.percentile(ms, q)), 1) for q in (50, 99)] if ms else None,
                "load_before": load_before,
                "load_after": load_average(),
                "seconds": round(time.time() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()

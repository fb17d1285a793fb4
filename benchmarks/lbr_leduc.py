"""Local best response against the exact best response on Leduc, for five blueprints of different
quality (uniform, CFR 10 to 10,000 iterations), as one JSON object (chips per hand, Leduc's own units).

    .venv/bin/python benchmarks/lbr_leduc.py [--hands 400000]

For each: the exact exploitability and per-seat best-response values, LBR's exact value per seat for
fc and fcpa (``lbr_reference.exact_lbr``: every deal and blueprint action enumerated), and the sampled
figure of ``holdem lbr`` (fcpa) with its 95% interval.
"""

from __future__ import annotations

import argparse
import json

from holdem.evaluation import lbr_kernels as K
from holdem.evaluation.exploitability import exploitability, uniform_policy
from holdem.evaluation.lbr import LbrSettings, leduc_target, local_best_response
from holdem.evaluation.lbr_reference import exact_lbr
from holdem.games import load_game
from holdem.solver.solver import Solver, SolverSettings


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--hands", type=int, default=400_000)
    args = p.parse_args()
    game = load_game("leduc")
    blueprints = {"uniform": uniform_policy(game)}
    for iters in (10, 100, 1000, 10000):
        solver = Solver(game, SolverSettings("cfr"), seed=0)
        solver.run(iters)
        blueprints[f"cfr-{iters}"] = solver.average_strategy()
    rows = []
    for name, policy in blueprints.items():
        e = exploitability(game, policy)
        fc, fcpa = exact_lbr(game, policy, K.VARIANT_FC), exact_lbr(game, policy, K.VARIANT_FCPA)
        sampled = local_best_response(leduc_target(game, policy, name), LbrSettings("fcpa", args.hands, seed=0))
        rows.append(
            {
                "blueprint": name,
                "exploitability": round(e.exploitability, 6),
                "best_response_per_seat": [round(v, 6) for v in e.best_response_values],
                "lbr_fc_exact": round(sum(fc) / 2, 6),
                "lbr_fcpa_exact": round(sum(fcpa) / 2, 6),
                "lbr_fcpa_exact_per_seat": [round(v, 6) for v in fcpa],
                "lbr_fcpa_share_of_exploitability": round(sum(fcpa) / 2 / e.exploitability, 4),
                "lbr_fcpa_sampled": round(sampled.value, 6),
                "lbr_fcpa_sampled_ci95": [round(x, 6) for x in sampled.ci95],
                "sampled_hands_per_s": round(sampled.hands / sampled.seconds),
            }
        )
    print(json.dumps({"benchmark": "lbr_leduc", "unit": "chips/hand", "hands": args.hands, "blueprints": rows}))


if __name__ == "__main__":
    main()

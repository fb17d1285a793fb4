"""holdemd start's options for what the daemon learns about runs: history, evaluation ladder, strategy
and the prepare-phase estimate (kept apart so parser.py stays about the daemon itself)."""

from __future__ import annotations

import argparse
from typing import Any

from supervisor.config import Tuning


def add_results_options(s: argparse.ArgumentParser, d: Tuning) -> None:
    g = s.add_argument_group("history, evaluation and estimates", "see docs/supervisor.md")
    g.add_argument(
        "--history-interval",
        type=float,
        default=d.history_interval_s,
        metavar="S",
        help="keep an instance's progress in its history at most this often; the interval doubles "
        "each time the history is thinned (default: %(default)gs)",
    )
    g.add_argument(
        "--history-points",
        type=int,
        default=d.history_cap,
        metavar="N",
        help="history points kept per instance: past it every other point is dropped (default: %(default)s)",
    )
    g.add_argument(
        "--eval-hands",
        type=int,
        default=d.eval_hands,
        metavar="N",
        help="evaluation ladder: hands per bot match (default: %(default)s)",
    )
    g.add_argument(
        "--eval-lbr-hands",
        type=int,
        default=d.eval_lbr_hands,
        metavar="N",
        help="evaluation ladder: LBR-fc hands (default: %(default)s)",
    )
    g.add_argument(
        "--eval-workers",
        type=int,
        default=d.eval_workers,
        metavar="N",
        help="evaluation ladder: LBR threads, 0: every core (default: %(default)s)",
    )
    g.add_argument("--eval-seed", type=int, default=d.eval_seed, help="evaluation ladder: seed (default: %(default)s)")
    g.add_argument(
        "--eval-nice",
        type=int,
        default=d.eval_nice,
        metavar="N",
        help="niceness of the evaluation ladder (default: %(default)s)",
    )
    g.add_argument(
        "--eval-timeout",
        type=float,
        default=d.eval_timeout_s,
        metavar="S",
        help="an evaluation that takes longer is killed and failed (default: %(default)gs)",
    )
    g.add_argument(
        "--no-auto-eval",
        action="store_true",
        help="do not run the ladder on a hold'em run's merged blueprint when the run is done",
    )
    g.add_argument(
        "--strategy-timeout",
        type=float,
        default=d.strategy_timeout_s,
        metavar="S",
        help="longest wait for one `holdem strategy` answer (default: %(default)gs)",
    )
    g.add_argument(
        "--estimate-sample",
        type=float,
        default=d.estimate_sample_s,
        metavar="S",
        help="after the prepare phase, time a training sample this long to estimate it/s and the "
        "budget's time (holdem tree --sample-s), 0: no sample (default: %(default)gs)",
    )


def results_tuning(args: argparse.Namespace) -> dict[str, Any]:
    """The Tuning fields of these options."""
    for name in ("eval_hands", "eval_lbr_hands", "history_points"):
        if getattr(args, name) < 2:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 2")
    return {
        "history_interval_s": args.history_interval,
        "history_cap": max(16, args.history_points),
        "eval_hands": args.eval_hands,
        "eval_lbr_hands": args.eval_lbr_hands,
        "eval_workers": args.eval_workers,
        "eval_seed": args.eval_seed,
        "eval_nice": args.eval_nice,
        "eval_timeout_s": args.eval_timeout,
        "auto_eval": not args.no_auto_eval,
        "strategy_timeout_s": args.strategy_timeout,
        "estimate_sample_s": args.estimate_sample,
    }

"""holdemd start's options for what the daemon learns about runs (kept here so daemon.py stays about
start-up and signals)."""

from __future__ import annotations

import argparse
from typing import Any

from .config import Tuning


def add_results_options(s: argparse.ArgumentParser, d: Tuning) -> None:
    g = s.add_argument_group("history", "see docs/supervisor.md")
    g.add_argument("--history-interval", type=float, default=d.history_interval_s, metavar="S",
                   help="keep an instance's progress in its history at most this often; the interval doubles "
                        "each time the history is thinned (default: %(default)gs)")
    g.add_argument("--history-points", type=int, default=d.history_cap, metavar="N",
                   help="history points kept per instance: past it every other point is dropped (default: %(default)s)")


def results_tuning(args: argparse.Namespace) -> dict[str, Any]:
    """The Tuning fields of these options."""
    return {"history_interval_s": args.history_interval, "history_cap": max(16, args.history_points)}

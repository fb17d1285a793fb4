"""The flags of real-time search shared by `holdem play`, `match` and `export`, and what they build:
the search agent's config, the solver's options, the searched policy of a small game. Split from
cli.py (which parses and dispatches); the search package is imported only when a search is asked for.
"""

from __future__ import annotations

import argparse
import sys
import time

STREETS = ("flop", "turn", "river")
SEARCHED = "its decisions from the --search-from street on (default: the river); the blueprint plays before"


def search_options(parser: argparse.ArgumentParser, default_ms: float | None = 100.0) -> None:
    """Flags of real-time search (holdem/search); without --search-ms and --search-iters, a search runs
    1000 iterations (``default_ms`` None) or spends ``default_ms``."""
    limit = f"{default_ms:g} ms" if default_ms else "1000 iterations"
    parser.add_argument("--search-ms", type=float, default=None, help=f"time per search (default: {limit})")
    parser.add_argument("--search-iters", type=int, default=None, help="iterations per search (first limit wins)")
    parser.add_argument("--search-workers", type=int, default=1, help="numba threads per search")
    parser.add_argument(
        "--search-gadget",
        choices=["resolve", "maxmargin", "none"],
        default="resolve",
        help="how the opponent enters a subgame (none: unsafe)",
    )
    parser.add_argument(
        "--search-sizes",
        default=None,
        metavar="F,F,...",
        help="pot fractions the searcher bets and raises (default: the training config's "
        "search.bet_sizes per street, else the blueprint's)",
    )
    parser.add_argument(
        "--search-from",
        choices=STREETS,
        default="river",
        help="hold'em: the first street searched, the blueprint playing before it (default river: "
        "flop and turn searches at 100 ms lose to the blueprint, docs/decisions.md)",
    )
    parser.set_defaults(search_default_ms=default_ms)


def search_config(args: argparse.Namespace):
    """SearchConfig of the hold'em search agent (raises ValueError naming a bad flag)."""
    from holdem.play.search_agent import SearchConfig

    sizes = None
    if args.search_sizes:
        try:
            fractions = tuple(float(x) for x in args.search_sizes.split(","))
        except ValueError:
            raise ValueError(
                f"--search-sizes: expected pot fractions like 0.5,1,2, got {args.search_sizes!r}"
            ) from None
        if not all(0 < f <= 100 for f in fractions):
            raise ValueError(f"--search-sizes: pot fractions must be in (0, 100], got {args.search_sizes!r}")
        sizes = (fractions,) * 4
    return SearchConfig(solve_options(args), bet_sizes=sizes, first_street=STREETS.index(args.search_from) + 1)


def search_summary(args: argparse.Namespace) -> str:
    """'search from the river on (100 ms a decision)': what the searching side does, for a person."""
    options = solve_options(args)
    limits = ([f"{options.ms:g} ms"] if options.ms else []) + (
        [f"{options.iterations} iterations"] if options.iterations else []
    )
    return f"search from the {args.search_from} on ({' or '.join(limits)} a decision)"


def solve_options(args: argparse.Namespace):
    from holdem.search.solve import SolveOptions

    ms, iters = args.search_ms, args.search_iters
    if ms is None and iters is None:
        ms, iters = args.search_default_ms, (None if args.search_default_ms else 1000)
    return SolveOptions(iterations=iters, ms=ms, workers=args.search_workers, gadget=args.search_gadget)


def searched(loaded, args: argparse.Namespace):
    """The policy search plays at every infoset of a small game, in place of the blueprint."""
    import dataclasses

    from holdem.blueprint.policy import PolicyError
    from holdem.search.small import searched_policy

    if loaded.game.name not in ("kuhn", "leduc"):
        raise PolicyError(f"export --search writes whole policies of Kuhn and Leduc, not {loaded.game.name!r}")
    started = time.perf_counter()
    policy, count = searched_policy(loaded.game, loaded.policy, solve_options(args))
    print(f"{count} searches in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return dataclasses.replace(loaded, policy=policy, strategy_sum=None)

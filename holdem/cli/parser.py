"""The ``holdem`` command line: every subcommand, its flags and their defaults, and the bucket store's
folder, resolved once here from the flags and the environment (nothing deeper reads the environment)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from holdem import version
from holdem.cli.search_flags import SEARCHED, search_options

CORES = len(os.sched_getaffinity(0))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="holdem", description="Poker blueprint training by Monte Carlo CFR.")
    p.add_argument("--version", action="version", version=f"holdem {version()}")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="run one solver instance (W worker threads on shared tables)")
    t.add_argument(
        "--config",
        type=Path,
        help="training config (YAML), e.g. configs/leduc.yaml (default with --resume: the config the "
        "instance's newest checkpoint was trained with)",
    )
    t.add_argument("--instance-dir", required=True, type=Path, help="the instance folder (checkpoints, tensorboard)")
    goal = t.add_mutually_exclusive_group()
    goal.add_argument(
        "--iters",
        type=int,
        help="total iterations of this instance, a resume continues to it (default: the config's iterations)",
    )
    goal.add_argument("--time-budget", type=float, metavar="SECONDS", help="total training seconds")
    t.add_argument("--seed", type=int, help="RNG seed (default: the config's seed)")
    t.add_argument(
        "--workers",
        type=int,
        metavar="W",
        help="worker threads on the instance's shared tables (default: the config's workers, 1)",
    )
    t.add_argument("--resume", action="store_true", help="continue from the newest verified checkpoint")
    t.add_argument("--events", choices=["jsonl"], help="stdout becomes the JSON Lines event stream")
    buckets_root_option(t)

    pr = sub.add_parser("prepare", help="build what a config needs before training (nothing for Kuhn/Leduc)")
    pr.add_argument("--config", required=True, type=Path, help="training config (YAML)")
    pr.add_argument("--events", choices=["jsonl"], help="stdout becomes the JSON Lines event stream")
    buckets_root_option(pr)

    cc = sub.add_parser("check-config", help="validate a config as train and prepare would, building nothing")
    cc.add_argument("config", type=Path, help="training config (YAML)")
    cc.add_argument(
        "--json", action="store_true", help='one JSON object: {"ok", "game", ...} or {"ok", "key", "message"}'
    )

    b = sub.add_parser("buckets", help="hold'em card buckets")
    bsub = b.add_subparsers(dest="buckets_command", required=True)
    bb = bsub.add_parser("build", help="build the bucket set a config needs (reused if already built)")
    bb.add_argument("--config", required=True, type=Path, help="a hold'em training config (YAML)")
    bb.add_argument("--out", type=Path, help="bucket store folder (default: --buckets-root)")
    bb.add_argument("--events", choices=["jsonl"], help="stdout becomes the JSON Lines event stream")
    buckets_root_option(bb)

    e = sub.add_parser("eval", help="evaluate a policy (instance folder, checkpoint, merged folder, policy.json)")
    e.add_argument("path", type=Path, help="instance folder, checkpoint folder, merged folder or policy.json")
    e.add_argument("--exploitability", action="store_true", help="exact exploitability (Kuhn, Leduc)")
    e.add_argument("--ladder", action="store_true", help="hold'em: bots, LBR-fc and the sanity probes")
    e.add_argument("--hands", type=int, default=4_000, help="--ladder: hands per bot match")
    e.add_argument("--lbr-hands", type=int, default=4_000, help="--ladder: LBR hands")
    e.add_argument("--seed", type=int, default=0, help="--ladder: seed of the matches and LBR")
    e.add_argument("--workers", type=int, default=CORES, help=f"--ladder: LBR threads (default: every core, {CORES})")
    e.add_argument("--json", action="store_true", help="one JSON object on stdout")
    buckets_root_option(e)

    x = sub.add_parser("export", help="write the average strategy with readable infoset keys")
    x.add_argument("path", type=Path, help="instance folder, checkpoint folder or merged folder")
    x.add_argument("--out", required=True, type=Path, help="the JSON file to write")
    x.add_argument("--search", action="store_true", help="write what search plays at every infoset (Kuhn, Leduc)")
    search_options(x, default_ms=None)
    buckets_root_option(x)

    tr = sub.add_parser("tree", help="report the betting tree of a hold'em config: nodes, infosets, memory")
    tr.add_argument("--config", required=True, type=Path, help="a hold'em training config (YAML)")
    tr.add_argument("--instances", type=int, default=1, help="count the memory of this many instances")
    tr.add_argument("--json", action="store_true", help="one JSON object on stdout")
    tr.add_argument(
        "--sample-s",
        type=float,
        default=3.0,
        metavar="SECONDS",
        help="train this long to estimate iterations/s and the budget's time (0: skip)",
    )
    tr.add_argument("--iters", type=int, help="the budget to estimate (default: the config's iterations)")
    tr.add_argument("--time-budget", type=float, metavar="SECONDS", help="estimate the iterations of this budget")
    buckets_root_option(tr)

    m = sub.add_parser("merge", help="merge instances' strategies into one blueprint")
    m.add_argument("instance_dirs", nargs="+", type=Path, help="instance folders (each one's newest checkpoint)")
    m.add_argument("--out", required=True, type=Path, help="the merged folder to write")
    m.add_argument("--events", choices=["jsonl"], help="stdout becomes the JSON Lines event stream")
    buckets_root_option(m)

    ma = sub.add_parser("match", help="play two hold'em policies or bots against each other on duplicate deals")
    ma.add_argument("a", help="a blueprint (instance, checkpoint or merged folder) or random, call, raise-pot")
    ma.add_argument("b", help="the opponent, same forms as A")
    ma.add_argument("--hands", type=int, default=10_000, help="hands to play, two per duplicate deal")
    ma.add_argument("--seed", type=int, default=0, help="seed of the deals")
    ma.add_argument("--json", action="store_true", help="one JSON object on stdout")
    ma.add_argument("--search-a", action="store_true", help=f"A searches {SEARCHED}")
    ma.add_argument("--search-b", action="store_true", help=f"B searches {SEARCHED}")
    search_options(ma)
    buckets_root_option(ma)

    lb = sub.add_parser("lbr", help="local best response: a lower bound on a blueprint's exploitability")
    lb.add_argument(
        "policy", type=Path, help="a hold'em blueprint folder, or a Leduc instance, checkpoint or policy.json"
    )
    lb.add_argument(
        "--variant",
        choices=["fc", "fcpa"],
        default="fc",
        help="LBR's actions: fold/call, or also the tree's pot-nearest raise and its all-in",
    )
    lb.add_argument("--hands", type=int, default=10_000, help="hands to play (each deal in both seats)")
    lb.add_argument("--seed", type=int, default=0, help="the deals and every draw come from it")
    lb.add_argument("--workers", type=int, default=CORES, help=f"threads (default: every core, {CORES})")
    lb.add_argument("--json", action="store_true", help="one JSON object on stdout")
    buckets_root_option(lb)

    sg = sub.add_parser("strategy", help="what a hold'em blueprint plays at a spot: one hand, or the 13x13 grid")
    sg.add_argument("policy", type=Path, help="a blueprint: instance, checkpoint or merged folder")
    what = sg.add_mutually_exclusive_group(required=True)
    what.add_argument("--hand", help="two hole cards, e.g. AsKd, or a hand class (AKs, AKo, QQ, AK): its every combo")
    what.add_argument("--range", action="store_true", help="every hand class on the 13x13 preflop grid")
    sg.add_argument(
        "--board", default="", help='the board the history has dealt, e.g. "Qh Jh 2c" (default: none, the preflop)'
    )
    sg.add_argument(
        "--history",
        default="",
        help="betting so far in the tree's letters, e.g. r300c/ "
        "(f fold, c check/call, r<to> raise to, / end of street; default: none, the first decision)",
    )
    sg.add_argument("--png", type=Path, help="with --range: also draw the grid as a PNG picture")
    sg.add_argument("--json", action="store_true", help="one JSON object on stdout")
    buckets_root_option(sg)

    pl = sub.add_parser("play", help="play hold'em against a blueprint in the terminal")
    pl.add_argument("policy", type=Path, help="a blueprint: instance, checkpoint or merged folder")
    pl.add_argument("--seat", type=int, choices=[0, 1], help="your seat, 0 = button (default: alternate)")
    pl.add_argument("--hands", type=int, default=1_000_000, help="hands to play before it ends")
    pl.add_argument("--seed", type=int, default=0, help="seed of the deals")
    pl.add_argument("--search", action="store_true", help=f"the bot searches {SEARCHED}")
    search_options(pl)
    buckets_root_option(pl)
    for parser in _every_parser(p):
        parser.formatter_class = DefaultsShown
    return p


class DefaultsShown(argparse.HelpFormatter):
    """Every option's help ends with its default, unless the help names it already or there is none."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if not action.option_strings or "default" in text or action.default in (None, False, argparse.SUPPRESS):
            return text
        return text + " (default: %(default)s)"


def _every_parser(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return [parser, *(q for a in subs for sub in a.choices.values() for q in _every_parser(sub))]


def buckets_root_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--buckets-root",
        type=Path,
        default=None,
        help="where hold'em bucket sets are kept (default: $HOLDEM_BUCKETS, else "
        "$XDG_CACHE_HOME/holdem/buckets, else ~/.cache/holdem/buckets)",
    )


def buckets_root(args: argparse.Namespace) -> Path:
    """Resolved once here, at the entry point; nothing deeper reads the environment."""
    if getattr(args, "buckets_root", None) is not None:
        return args.buckets_root
    if os.environ.get("HOLDEM_BUCKETS"):
        return Path(os.environ["HOLDEM_BUCKETS"])
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "holdem" / "buckets"

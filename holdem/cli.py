"""The ``holdem`` command: train, prepare, check-config, eval, export, merge, match, play. It only parses arguments
and builds options; the work lives in train.py, policy.py and evaluation/. Exit codes follow the instance
contract: 0 success, 2 bad input (never worth retrying), anything else a crash.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from holdem.cli_search import search_config, search_options, searched
from holdem.events import EventStream

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("holdem")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="holdem", description="Poker blueprint training by Monte Carlo CFR.")
    p.add_argument("--version", action="version", version=f"holdem {version()}")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="run one solver instance (W worker threads on shared tables)")
    t.add_argument("--config", required=True, type=Path, help="training config (YAML), e.g. configs/leduc.yaml")
    t.add_argument("--instance-dir", required=True, type=Path, help="the instance folder (checkpoints, tensorboard)")
    goal = t.add_mutually_exclusive_group()
    goal.add_argument("--iters", type=int, help="total iterations of this instance (a resume continues to it)")
    goal.add_argument("--time-budget", type=float, metavar="SECONDS", help="total training seconds")
    t.add_argument("--seed", type=int, help="RNG seed (default: the config's seed)")
    t.add_argument("--workers", type=int, metavar="W",
                   help="worker threads on the instance's shared tables (default: the config's workers, 1)")
    t.add_argument("--resume", action="store_true", help="continue from the newest verified checkpoint")
    t.add_argument("--events", choices=["jsonl"], help="stdout becomes the JSON Lines event stream")
    _buckets_root_option(t)

    pr = sub.add_parser("prepare", help="build what a config needs before training (nothing for Kuhn/Leduc)")
    pr.add_argument("--config", required=True, type=Path, help="training config (YAML)")
    pr.add_argument("--events", choices=["jsonl"], help="stdout becomes the JSON Lines event stream")
    _buckets_root_option(pr)

    cc = sub.add_parser("check-config", help="validate a config as train and prepare would, building nothing")
    cc.add_argument("config", type=Path, help="training config (YAML)")
    cc.add_argument("--json", action="store_true", help='one JSON object: {"ok", "game", ...} or {"ok", "key", "message"}')

    b = sub.add_parser("buckets", help="hold'em card buckets")
    bsub = b.add_subparsers(dest="buckets_command", required=True)
    bb = bsub.add_parser("build", help="build the bucket set a config needs (reused if already built)")
    bb.add_argument("--config", required=True, type=Path, help="a hold'em training config (YAML)")
    bb.add_argument("--out", type=Path, help="bucket store folder (default: --buckets-root)")
    bb.add_argument("--events", choices=["jsonl"], help="stdout becomes the JSON Lines event stream")
    _buckets_root_option(bb)

    e = sub.add_parser("eval", help="evaluate a policy (instance folder, checkpoint, merged folder, policy.json)")
    e.add_argument("path", type=Path, help="instance folder, checkpoint folder, merged folder or policy.json")
    e.add_argument("--exploitability", action="store_true", help="exact exploitability (Kuhn, Leduc)")
    e.add_argument("--ladder", action="store_true", help="hold'em: bots, LBR-fc and the sanity probes")
    e.add_argument("--hands", type=int, default=4_000, help="--ladder: hands per bot match")
    e.add_argument("--lbr-hands", type=int, default=4_000, help="--ladder: LBR hands")
    e.add_argument("--seed", type=int, default=0, help="--ladder: seed of the matches and LBR")
    e.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="--ladder: LBR threads")
    e.add_argument("--json", action="store_true", help="one JSON object on stdout")
    _buckets_root_option(e)

    x = sub.add_parser("export", help="write the average strategy with readable infoset keys")
    x.add_argument("path", type=Path, help="instance folder, checkpoint folder or merged folder")
    x.add_argument("--out", required=True, type=Path, help="the JSON file to write")
    x.add_argument("--search", action="store_true", help="write what search plays at every infoset (Kuhn, Leduc)")
    search_options(x, default_ms=None)
    _buckets_root_option(x)

    tr = sub.add_parser("tree", help="report the betting tree of a hold'em config: nodes, infosets, memory")
    tr.add_argument("--config", required=True, type=Path, help="a hold'em training config (YAML)")
    tr.add_argument("--instances", type=int, default=1, help="count the memory of this many instances (default: 1)")
    tr.add_argument("--json", action="store_true", help="one JSON object on stdout")
    tr.add_argument("--sample-s", type=float, default=3.0, metavar="SECONDS",
                    help="train this long to estimate iterations/s and the budget's time (0: skip)")
    tr.add_argument("--iters", type=int, help="the budget to estimate (default: the config's iterations)")
    tr.add_argument("--time-budget", type=float, metavar="SECONDS", help="estimate the iterations of this budget")
    _buckets_root_option(tr)

    m = sub.add_parser("merge", help="merge instances' strategies into one blueprint")
    m.add_argument("instance_dirs", nargs="+", type=Path, help="instance folders (each one's newest checkpoint)")
    m.add_argument("--out", required=True, type=Path, help="the merged folder to write")
    m.add_argument("--events", choices=["jsonl"], help="stdout becomes the JSON Lines event stream")
    _buckets_root_option(m)

    ma = sub.add_parser("match", help="play two hold'em policies or bots against each other on duplicate deals")
    ma.add_argument("a", help="a blueprint (instance, checkpoint or merged folder) or random, call, raise-pot")
    ma.add_argument("b", help="the opponent, same forms as A")
    ma.add_argument("--hands", type=int, default=10_000, help="hands to play, two per duplicate deal (default: 10000)")
    ma.add_argument("--seed", type=int, default=0, help="seed of the deals (default: 0)")
    ma.add_argument("--json", action="store_true", help="one JSON object on stdout")
    ma.add_argument("--search-a", action="store_true", help="A searches every decision after the flop")
    ma.add_argument("--search-b", action="store_true", help="B searches every decision after the flop")
    search_options(ma)
    _buckets_root_option(ma)

    lb = sub.add_parser("lbr", help="local best response: a lower bound on a blueprint's exploitability")
    lb.add_argument("policy", type=Path, help="a hold'em blueprint folder, or a Leduc instance, checkpoint or policy.json")
    lb.add_argument("--variant", choices=["fc", "fcpa"], default="fc",
                    help="LBR's actions: fold/call, or also the tree's pot-nearest raise and its all-in")
    lb.add_argument("--hands", type=int, default=10_000, help="hands to play (each deal in both seats)")
    lb.add_argument("--seed", type=int, default=0, help="the deals and every draw come from it")
    lb.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="threads (default: every core)")
    lb.add_argument("--json", action="store_true", help="one JSON object on stdout")
    _buckets_root_option(lb)

    sg = sub.add_parser("strategy", help="what a hold'em blueprint plays at a spot: one hand, or the 13x13 grid")
    sg.add_argument("policy", type=Path, help="a blueprint: instance, checkpoint or merged folder")
    what = sg.add_mutually_exclusive_group(required=True)
    what.add_argument("--hand", help="two hole cards, e.g. AsKd")
    what.add_argument("--range", action="store_true", help="every hand class on the 13x13 preflop grid")
    sg.add_argument("--board", default="", help="the board the history has dealt, e.g. \"Qh Jh 2c\"")
    sg.add_argument("--history", default="", help="betting so far in the tree's letters, e.g. r300c/ "
                                                  "(f fold, c check/call, r<to> raise to, / end of street)")
    sg.add_argument("--png", type=Path, help="with --range: also draw the grid as a PNG picture")
    sg.add_argument("--json", action="store_true", help="one JSON object on stdout")
    _buckets_root_option(sg)

    pl = sub.add_parser("play", help="play hold'em against a blueprint in the terminal")
    pl.add_argument("policy", type=Path, help="a blueprint: instance, checkpoint or merged folder")
    pl.add_argument("--seat", type=int, choices=[0, 1], help="your seat, 0 = button (default: alternate)")
    pl.add_argument("--hands", type=int, default=1_000_000, help="hands to play before it ends (default: 1000000)")
    pl.add_argument("--seed", type=int, default=0, help="seed of the deals (default: 0)")
    pl.add_argument("--search", action="store_true", help="the bot searches every decision after the flop")
    search_options(pl)
    _buckets_root_option(pl)
    return p


def _buckets_root_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--buckets-root", type=Path, default=None,
                        help="where hold'em bucket sets are kept (default: $HOLDEM_BUCKETS, else "
                             "$XDG_CACHE_HOME/holdem/buckets, else ~/.cache/holdem/buckets)")


def _buckets_root(args: argparse.Namespace) -> Path:
    """Resolved once here, at the entry point; nothing deeper reads the environment."""
    if getattr(args, "buckets_root", None) is not None:
        return args.buckets_root
    if os.environ.get("HOLDEM_BUCKETS"):
        return Path(os.environ["HOLDEM_BUCKETS"])
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "holdem" / "buckets"


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    handler = {"train": _train, "prepare": _prepare, "check-config": _check_config, "eval": _eval, "export": _export,
               "merge": _merge, "tree": _tree, "buckets": _buckets, "match": _match, "play": _play, "lbr": _lbr,
               "strategy": _strategy}
    return handler[args.command](args)


def _train(args: argparse.Namespace) -> int:
    from holdem.train import TrainOptions, run_training

    return run_training(TrainOptions(config_path=args.config, instance_dir=args.instance_dir, iters=args.iters,
                                     time_budget_s=args.time_budget, seed=args.seed, resume=args.resume,
                                     events=args.events == "jsonl", buckets_root=_buckets_root(args),
                                     workers=args.workers))


def _prepare(args: argparse.Namespace) -> int:
    from holdem.cli_prepare import prepare

    return prepare(args, _buckets_root(args))


def _check_config(args: argparse.Namespace) -> int:
    from holdem.cli_prepare import check_config

    return check_config(args)


def _buckets(args: argparse.Namespace) -> int:
    from holdem.cli_prepare import buckets

    return buckets(args, args.out or _buckets_root(args))


def _eval(args: argparse.Namespace) -> int:
    from holdem.evaluation.exploitability import exploitability
    from holdem.policy import PolicyError, load_policy

    if args.ladder:
        return _ladder(args)
    try:
        loaded = load_policy(args.path, _buckets_root(args))
        if loaded.game.name == "hunl" and args.exploitability:
            raise PolicyError("exact exploitability is computed for Kuhn and Leduc; measure a hold'em "
                              "blueprint with `holdem match`")
    except PolicyError as exc:
        return _bad(EventStream(False), str(exc))
    out: dict[str, object] = {"game": loaded.game.name, "iteration": loaded.iteration}
    if loaded.game.name == "hunl":
        # What a hold'em blueprint can be measured with: no exact exploitability, but matches.
        out["can_evaluate"] = {"ladder": f"holdem eval {args.path} --ladder",
                               "lbr": f"holdem lbr {args.path}",
                               "strategy": f"holdem strategy {args.path} --range",
                               "match": f"holdem match {args.path} call --hands 10000",
                               "play": f"holdem play {args.path}",
                               "export": f"holdem export {args.path} --out preflop.json"}
        if args.json:
            print(json.dumps(out))
        else:
            print(f"game hunl, iteration {loaded.iteration}: exact exploitability is out of reach for hold'em;")
            for what, cmd in out["can_evaluate"].items():  # type: ignore[union-attr]
                print(f"  {what:7} {cmd}")
        return EXIT_OK
    if args.json and not args.exploitability:
        # Nothing asked for: say what can be evaluated instead of an answer that looks empty.
        out["can_evaluate"] = {"exploitability": f"holdem eval {args.path} --exploitability --json"}
        print(json.dumps(out))
        print("holdem: nothing evaluated; --exploitability computes the exact exploitability", file=sys.stderr)
        return EXIT_OK
    if args.exploitability or not args.json:
        started = time.perf_counter()
        e = exploitability(loaded.game, loaded.policy)
        out.update(exploitability=e.exploitability, nash_conv=e.nash_conv, policy_value=e.policy_value,
                   seconds=round(time.perf_counter() - started, 4))
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:15} {v}")
    return EXIT_OK


def _ladder(args: argparse.Namespace) -> int:
    from holdem.evaluation.ladder import LadderSettings, describe, run_ladder
    from holdem.evaluation.lbr import LbrError
    from holdem.policy import PolicyError

    try:
        report = run_ladder(args.path, _buckets_root(args), LadderSettings(args.hands, args.lbr_hands, args.seed,
                                                                            args.workers))
    except (PolicyError, LbrError) as exc:
        return _bad(EventStream(False), str(exc))
    print(json.dumps(report) if args.json else describe(report))
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    from holdem.policy import PolicyError, export_policy, load_policy, write_json_atomic

    try:
        loaded = load_policy(args.path, _buckets_root(args))
        if args.search:
            loaded = searched(loaded, args)
        write_json_atomic(args.out, export_policy(loaded))
    except (PolicyError, ValueError) as exc:
        return _bad(EventStream(False), str(exc))
    print(f"wrote {args.out}", file=sys.stderr)
    return EXIT_OK


def _merge(args: argparse.Namespace) -> int:
    from holdem.policy import PolicyError, merge_policies, write_merged

    events = EventStream(args.events == "jsonl")
    events.emit("started", 0, pid=_pid(), target_iters=None, time_budget_s=None, resumed_from=None)
    try:
        merged, used = merge_policies(args.instance_dirs, _buckets_root(args))
    except PolicyError as exc:
        return _bad(events, str(exc))
    written = write_merged(args.out, merged, used)
    events.emit("checkpoint", merged.iteration, path=str(written.path), bytes=written.bytes, sha256=written.sha256)
    events.emit("done", merged.iteration)
    print(f"merged {len(used)} instances into {args.out}", file=sys.stderr)
    return EXIT_OK


def _tree(args: argparse.Namespace) -> int:
    from holdem.cli_prepare import tree

    return tree(args, _buckets_root(args))


def _match(args: argparse.Namespace) -> int:
    from holdem.evaluation.match import match_from_specs
    from holdem.policy import PolicyError

    if args.hands < 1:
        return _bad(EventStream(False), f"--hands must be at least 1, got {args.hands}")
    try:
        search = (search_config(args) if args.search_a else None, search_config(args) if args.search_b else None)
        result = match_from_specs(args.a, args.b, args.hands, args.seed, _buckets_root(args), search)
    except (PolicyError, ValueError) as exc:
        return _bad(EventStream(False), str(exc))
    out = result.to_json()
    if args.json:
        print(json.dumps(out))
    else:
        lo, hi = out["ci95"]
        print(f"{out['a']} vs {out['b']}: {out['mbb_per_hand']:+.1f} mbb/hand, 95% [{lo:+.1f}, {hi:+.1f}] over "
              f"{out['hands']:,} duplicate hands ({out['seconds']:.1f} s)")
    return EXIT_OK


def _play(args: argparse.Namespace) -> int:
    from holdem.evaluation.agents import BlueprintAgent
    from holdem.evaluation.blueprint import load_blueprint
    from holdem.evaluation.play import PlayOptions, run_play
    from holdem.policy import PolicyError

    try:
        config = search_config(args) if args.search else None  # before any bucket build starts threads
        blueprint = load_blueprint(args.policy, _buckets_root(args))
        if config is not None:
            from holdem.search.agent import SearchAgent

            bot = SearchAgent(blueprint, config, name=f"{args.policy}+search")
        else:
            bot = BlueprintAgent(blueprint, name=str(args.policy))
    except (PolicyError, ValueError) as exc:
        return _bad(EventStream(False), str(exc))
    run_play(bot, PlayOptions(hands=max(0, args.hands), seat=args.seat, seed=args.seed), sys.stdin, sys.stdout)
    return EXIT_OK


def _lbr(args: argparse.Namespace) -> int:
    from holdem.evaluation.lbr import LbrError, LbrSettings, TerminalBar, describe, local_best_response, target_from_path
    from holdem.policy import PolicyError

    try:
        settings = LbrSettings(args.variant, args.hands, args.seed, args.workers)
        target = target_from_path(args.policy, _buckets_root(args))
    except (LbrError, PolicyError) as exc:
        return _bad(EventStream(False), str(exc))
    result = local_best_response(target, settings, None if args.json else TerminalBar(target.unit))
    print(json.dumps(result.to_json()) if args.json else describe(result))
    return EXIT_OK


def _strategy(args: argparse.Namespace) -> int:
    from holdem.evaluation.blueprint import load_blueprint
    from holdem.evaluation.explorer import SpotError, find_spot, grid_json, spot_json
    from holdem.evaluation.explorer_render import print_grid, print_spot, save_grid_png
    from holdem.policy import PolicyError

    try:
        if args.png is not None and not args.range:
            raise SpotError("--png draws the --range grid; add --range")
        bp = load_blueprint(args.policy, _buckets_root(args))
        spot = find_spot(bp, args.history, args.board)
        out = grid_json(bp, spot, str(args.policy)) if args.range else spot_json(bp, spot, args.hand, str(args.policy))
    except (PolicyError, SpotError) as exc:
        return _bad(EventStream(False), str(exc))
    if args.png is not None:
        save_grid_png(out, args.png)
        print(f"wrote {args.png}", file=sys.stderr)
    if args.json:
        print(json.dumps(out))
    else:
        (print_grid if args.range else print_spot)(out)
    return EXIT_OK


def _bad(events: EventStream, message: str) -> int:
    print(f"holdem: {message}", file=sys.stderr)
    events.emit("error", 0, message=message, permanent=True)
    return EXIT_BAD_INPUT


def _pid() -> int:
    return os.getpid()


if __name__ == "__main__":
    sys.exit(main())

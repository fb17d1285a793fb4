"""The ``holdem`` command: train, prepare, eval, export, merge, match, play. It only parses arguments
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

from holdem.events import EventStream

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="holdem", description="Poker blueprint training by Monte Carlo CFR.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="run one single-worker solver instance")
    t.add_argument("--config", required=True, type=Path)
    t.add_argument("--instance-dir", required=True, type=Path)
    goal = t.add_mutually_exclusive_group()
    goal.add_argument("--iters", type=int, help="total iterations of this instance (a resume continues to it)")
    goal.add_argument("--time-budget", type=float, metavar="SECONDS", help="total training seconds")
    t.add_argument("--seed", type=int)
    t.add_argument("--resume", action="store_true", help="continue from the newest verified checkpoint")
    t.add_argument("--events", choices=["jsonl"], help="stdout becomes the JSON Lines event stream")
    _buckets_root_option(t)

    pr = sub.add_parser("prepare", help="build what a config needs before training (nothing for Kuhn/Leduc)")
    pr.add_argument("--config", required=True, type=Path)
    pr.add_argument("--events", choices=["jsonl"])
    _buckets_root_option(pr)

    b = sub.add_parser("buckets", help="hold'em card buckets")
    bsub = b.add_subparsers(dest="buckets_command", required=True)
    bb = bsub.add_parser("build", help="build the bucket set a config needs (reused if already built)")
    bb.add_argument("--config", required=True, type=Path)
    bb.add_argument("--out", type=Path, help="bucket store folder (default: --buckets-root)")
    bb.add_argument("--events", choices=["jsonl"])
    _buckets_root_option(bb)

    e = sub.add_parser("eval", help="evaluate a policy (instance folder, checkpoint, merged folder, policy.json)")
    e.add_argument("path", type=Path)
    e.add_argument("--exploitability", action="store_true", help="exact exploitability (Kuhn, Leduc)")
    e.add_argument("--json", action="store_true")
    _buckets_root_option(e)

    x = sub.add_parser("export", help="write the average strategy with readable infoset keys")
    x.add_argument("path", type=Path)
    x.add_argument("--out", required=True, type=Path)
    x.add_argument("--search", action="store_true", help="write what search plays at every infoset (Kuhn, Leduc)")
    _search_options(x, default_ms=None)
    _buckets_root_option(x)

    tr = sub.add_parser("tree", help="report the betting tree of a hold'em config: nodes, infosets, memory")
    tr.add_argument("--config", required=True, type=Path)
    tr.add_argument("--instances", type=int, default=1, help="count the tables of this many instances")
    tr.add_argument("--json", action="store_true")

    m = sub.add_parser("merge", help="merge instances' strategies into one blueprint")
    m.add_argument("instance_dirs", nargs="+", type=Path)
    m.add_argument("--out", required=True, type=Path)
    m.add_argument("--events", choices=["jsonl"])
    _buckets_root_option(m)

    ma = sub.add_parser("match", help="play two hold'em policies or bots against each other on duplicate deals")
    ma.add_argument("a", help="a blueprint (instance, checkpoint or merged folder) or random, call, raise-pot")
    ma.add_argument("b", help="the opponent, same forms as A")
    ma.add_argument("--hands", type=int, default=10_000, help="hands to play (two per duplicate deal)")
    ma.add_argument("--seed", type=int, default=0)
    ma.add_argument("--json", action="store_true")
    ma.add_argument("--search-a", action="store_true", help="A searches every decision after the flop")
    ma.add_argument("--search-b", action="store_true", help="B searches every decision after the flop")
    _search_options(ma)
    _buckets_root_option(ma)

    lb = sub.add_parser("lbr", help="local best response: a lower bound on a blueprint's exploitability")
    lb.add_argument("policy", type=Path, help="a hold'em blueprint folder, or a Leduc instance, checkpoint or policy.json")
    lb.add_argument("--variant", choices=["fc", "fcpa"], default="fc",
                    help="LBR's actions: fold/call, or also the tree's pot-nearest raise and its all-in")
    lb.add_argument("--hands", type=int, default=10_000, help="hands to play (each deal in both seats)")
    lb.add_argument("--seed", type=int, default=0)
    lb.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="threads (default: every core)")
    lb.add_argument("--json", action="store_true")
    _buckets_root_option(lb)

    pl = sub.add_parser("play", help="play hold'em against a blueprint in the terminal")
    pl.add_argument("policy", type=Path, help="a blueprint: instance, checkpoint or merged folder")
    pl.add_argument("--seat", type=int, choices=[0, 1], help="your seat, 0 = button (default: alternate)")
    pl.add_argument("--hands", type=int, default=1_000_000)
    pl.add_argument("--seed", type=int, default=0)
    pl.add_argument("--search", action="store_true", help="the bot searches every decision after the flop")
    _search_options(pl)
    _buckets_root_option(pl)
    return p


def _search_options(parser: argparse.ArgumentParser, default_ms: float | None = 100.0) -> None:
    """Flags of real-time search (holdem/search); without --search-ms and --search-iters, a search runs
    1000 iterations (``default_ms`` None) or spends ``default_ms``."""
    parser.add_argument("--search-ms", type=float, default=None, help=f"time per search (default {default_ms})")
    parser.add_argument("--search-iters", type=int, default=None, help="iterations per search (first limit wins)")
    parser.add_argument("--search-workers", type=int, default=1, help="numba threads per search")
    parser.add_argument("--search-gadget", choices=["resolve", "maxmargin", "none"], default="resolve",
                        help="how the opponent enters a subgame (none: unsafe)")
    parser.add_argument("--search-sizes", default=None, metavar="F,F,...",
                        help="pot fractions the searcher bets and raises (default: the blueprint's per street)")
    parser.set_defaults(search_default_ms=default_ms)


def _search_config(args: argparse.Namespace):
    """SearchConfig of the hold'em search agent (raises ValueError naming a bad flag)."""
    from holdem.search.agent import SearchConfig

    sizes = None
    if args.search_sizes:
        try:
            fractions = tuple(float(x) for x in args.search_sizes.split(","))
        except ValueError:
            raise ValueError(f"--search-sizes: expected pot fractions like 0.5,1,2, got {args.search_sizes!r}") from None
        if not all(0 < f <= 100 for f in fractions):
            raise ValueError(f"--search-sizes: pot fractions must be in (0, 100], got {args.search_sizes!r}")
        sizes = (fractions,) * 4
    return SearchConfig(_solve_options(args), bet_sizes=sizes)


def _solve_options(args: argparse.Namespace):
    from holdem.search.solve import SolveOptions

    ms, iters = args.search_ms, args.search_iters
    if ms is None and iters is None:
        ms, iters = args.search_default_ms, (None if args.search_default_ms else 1000)
    return SolveOptions(iterations=iters, ms=ms, workers=args.search_workers, gadget=args.search_gadget)


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
    handler = {"train": _train, "prepare": _prepare, "eval": _eval, "export": _export, "merge": _merge,
               "tree": _tree, "buckets": _buckets, "match": _match, "play": _play, "lbr": _lbr}
    return handler[args.command](args)


def _train(args: argparse.Namespace) -> int:
    from holdem.train import TrainOptions, run_training

    return run_training(TrainOptions(config_path=args.config, instance_dir=args.instance_dir, iters=args.iters,
                                     time_budget_s=args.time_budget, seed=args.seed, resume=args.resume,
                                     events=args.events == "jsonl", buckets_root=_buckets_root(args)))


def _prepare(args: argparse.Namespace) -> int:
    """Kuhn and Leduc need nothing built; validating the config here fails a bad run early."""
    from holdem.config import ConfigError, load_config

    events = EventStream(args.events == "jsonl")
    events.emit("started", 0, pid=_pid(), target_iters=None, time_budget_s=None, resumed_from=None)
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        return _bad(events, str(exc))
    if cfg.game != "hunl":
        logging.getLogger("holdem.prepare").info("%s needs nothing prepared", cfg.game)
        events.emit("done", 0)
        return EXIT_OK
    return _build_buckets(cfg, _buckets_root(args), events)


def _buckets(args: argparse.Namespace) -> int:
    from holdem.config import ConfigError, load_config

    events = EventStream(args.events == "jsonl")
    events.emit("started", 0, pid=_pid(), target_iters=None, time_budget_s=None, resumed_from=None)
    try:
        cfg = load_config(args.config)
        if cfg.game != "hunl":
            raise ConfigError("game", f"only hold'em uses card buckets, this config is {cfg.game!r}")
    except ConfigError as exc:
        return _bad(events, str(exc))
    return _build_buckets(cfg, args.out or _buckets_root(args), events)


def _build_buckets(cfg, root: Path, events: EventStream) -> int:
    """Build (or find) the config's bucket set, reporting each stage as progress."""
    from holdem.abstraction.buckets import STAGES, build_buckets
    from holdem.games.hunl.betting import AbstractionError, abstraction_from_config
    from holdem.games.hunl.game import bucket_spec
    from holdem.progress import ProgressBar

    try:
        spec = bucket_spec(abstraction_from_config(cfg.hunl))
    except AbstractionError as exc:
        return _bad(events, str(exc))
    bar = None if events.enabled else ProgressBar()
    started = time.monotonic()

    def report(stage: int, name: str) -> None:
        snap = {"iter": stage, "target_iters": len(STAGES), "time_budget_s": None,
                "elapsed_s": round(time.monotonic() - started, 3), "ips": 0.0, "metrics": {}}
        events.emit("progress", stage, target_iters=len(STAGES), elapsed_s=snap["elapsed_s"], ips=0.0,
                    metrics={"stage": name})
        if bar is not None:
            bar.finish(snap)
            print(f"  {name}", file=sys.stderr)

    folder = build_buckets(spec, root, report)
    events.emit("done", len(STAGES), path=str(folder))
    print(f"buckets ready in {folder} ({time.monotonic() - started:.1f} s)", file=sys.stderr)
    return EXIT_OK


def _eval(args: argparse.Namespace) -> int:
    from holdem.evaluation.exploitability import exploitability
    from holdem.policy import PolicyError, load_policy

    try:
        loaded = load_policy(args.path, _buckets_root(args))
        if loaded.game.name == "hunl" and args.exploitability:
            raise PolicyError("exact exploitability is computed for Kuhn and Leduc; measure a hold'em "
                              "blueprint with `holdem match`")
    except PolicyError as exc:
        return _bad(EventStream(False), str(exc))
    out: dict[str, object] = {"game": loaded.game.name, "iteration": loaded.iteration}
    if loaded.game.name == "hunl":
        print(json.dumps(out) if args.json else f"game hunl, iteration {loaded.iteration}")
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


def _export(args: argparse.Namespace) -> int:
    from holdem.policy import PolicyError, export_policy, load_policy, write_json_atomic

    try:
        loaded = load_policy(args.path, _buckets_root(args))
        if args.search:
            loaded = _searched(loaded, args)
        write_json_atomic(args.out, export_policy(loaded))
    except (PolicyError, ValueError) as exc:
        return _bad(EventStream(False), str(exc))
    print(f"wrote {args.out}", file=sys.stderr)
    return EXIT_OK


def _searched(loaded, args: argparse.Namespace):
    """The policy search plays at every infoset of a small game, in place of the blueprint."""
    import dataclasses

    from holdem.policy import PolicyError
    from holdem.search.small import searched_policy

    if loaded.game.name not in ("kuhn", "leduc"):
        raise PolicyError(f"export --search writes whole policies of Kuhn and Leduc, not {loaded.game.name!r}")
    started = time.perf_counter()
    policy, count = searched_policy(loaded.game, loaded.policy, _solve_options(args))
    print(f"{count} searches in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return dataclasses.replace(loaded, policy=policy, strategy_sum=None)


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
    from holdem.config import ConfigError, load_config
    from holdem.games.hunl.betting import AbstractionError, abstraction_from_config, build_betting_tree, tree_report

    try:
        cfg = load_config(args.config)
        if cfg.game != "hunl":
            raise ConfigError("game", f"the tree command describes hold'em configs, this one is {cfg.game!r}")
        abstraction = abstraction_from_config(cfg.hunl)
    except (ConfigError, AbstractionError) as exc:
        return _bad(EventStream(False), str(exc))
    report = tree_report(abstraction, build_betting_tree(abstraction), max(1, args.instances))
    if args.json:
        print(json.dumps(report))
        return EXIT_OK
    print(f"{'street':8} {'betting nodes':>14} {'infosets':>12} {'table entries':>14}")
    for s in report["streets"]:
        print(f"{s['street']:8} {s['betting_nodes']:>14,} {s['infosets']:>12,} {s['table_entries']:>14,}")
    print(f"nodes {report['nodes']:,}, infosets {report['infosets']:,}, tables "
          f"{report['table_bytes_per_instance'] / 2**20:,.1f} MiB per instance, "
          f"{report['table_bytes_all_instances'] / 2**20:,.1f} MiB for {max(1, args.instances)}")
    return EXIT_OK


def _match(args: argparse.Namespace) -> int:
    from holdem.evaluation.match import match_from_specs
    from holdem.policy import PolicyError

    if args.hands < 1:
        return _bad(EventStream(False), f"--hands must be at least 1, got {args.hands}")
    try:
        search = (_search_config(args) if args.search_a else None, _search_config(args) if args.search_b else None)
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
        blueprint = load_blueprint(args.policy, _buckets_root(args))
        if args.search:
            from holdem.search.agent import SearchAgent

            bot = SearchAgent(blueprint, _search_config(args), name=f"{args.policy}+search")
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


def _bad(events: EventStream, message: str) -> int:
    print(f"holdem: {message}", file=sys.stderr)
    events.emit("error", 0, message=message, permanent=True)
    return EXIT_BAD_INPUT


def _pid() -> int:
    return os.getpid()


if __name__ == "__main__":
    sys.exit(main())

"""The ``holdem`` command: one handler per subcommand, which turns parsed flags into options and calls the
room that does the work (instance/, blueprint/, evaluation/, play/). Exit codes: ``instance.exit_codes``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from typing import TYPE_CHECKING

from holdem.cli.common import bad
from holdem.cli.parser import buckets_root, build_parser
from holdem.cli.search_flags import search_config, search_summary, searched
from holdem.instance.events import EventStream
from holdem.instance.exit_codes import EXIT_OK
from holdem.instance.pipes import PipeSafeHandler, silence
from holdem.progress_bar import ProgressBar

if TYPE_CHECKING:
    from holdem.play.match import MatchProgress


def main(argv: list[str] | None = None) -> int:
    # A handler that outlives its reader: a killed daemon must not cost a child its checkpoint.
    logging.basicConfig(
        handlers=[PipeSafeHandler(sys.stderr)],
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    args = build_parser().parse_args(argv)
    handler = {
        "train": _train,
        "prepare": _prepare,
        "check-config": _check_config,
        "eval": _eval,
        "export": _export,
        "merge": _merge,
        "tree": _tree,
        "buckets": _buckets,
        "match": _match,
        "play": _play,
        "lbr": _lbr,
        "strategy": _strategy,
    }
    try:
        code = handler[args.command](args)
        sys.stdout.flush()
    except BrokenPipeError:
        # stdout's reader went away (`holdem strategy ... | head`): it has read what it wanted, so this
        # is no error; /dev/null takes the rest, and Python's own flush at exit.
        silence(sys.stdout)
        return EXIT_OK
    return code


def _train(args: argparse.Namespace) -> int:
    from holdem.instance.loop import TrainOptions, run_training

    return run_training(
        TrainOptions(
            config_path=args.config,
            instance_dir=args.instance_dir,
            iters=args.iters,
            time_budget_s=args.time_budget,
            seed=args.seed,
            resume=args.resume,
            events=args.events == "jsonl",
            buckets_root=buckets_root(args),
            workers=args.workers,
        )
    )


def _prepare(args: argparse.Namespace) -> int:
    from holdem.cli.prepare import prepare

    return prepare(args, buckets_root(args))


def _check_config(args: argparse.Namespace) -> int:
    from holdem.cli.prepare import check_config

    return check_config(args)


def _buckets(args: argparse.Namespace) -> int:
    from holdem.cli.prepare import buckets

    return buckets(args, args.out or buckets_root(args))


def _eval(args: argparse.Namespace) -> int:
    from holdem.blueprint.policy import PolicyError, load_policy
    from holdem.evaluation.exploitability import exploitability
    from holdem.games import is_hunl

    if args.ladder:
        return _ladder(args)
    try:
        loaded = load_policy(args.path, buckets_root(args))
        if loaded.game.name == "hunl" and args.exploitability:
            raise PolicyError(
                "exact exploitability is computed for Kuhn and Leduc; measure a hold'em blueprint with "
                f"`holdem lbr {args.path}` (a lower bound on its exploitability), `holdem eval {args.path} "
                f"--ladder` (bots, LBR and sanity probes) or `holdem match {args.path} call`"
            )
    except PolicyError as exc:
        return bad(EventStream(False), str(exc))
    out: dict[str, object] = {"game": loaded.game.name, "iteration": loaded.iteration}
    if is_hunl(loaded.game):
        # What a hold'em blueprint can be measured with: no exact exploitability, but matches.
        can_evaluate = {
            "ladder": f"holdem eval {args.path} --ladder",
            "lbr": f"holdem lbr {args.path}",
            "strategy": f"holdem strategy {args.path} --range",
            "match": f"holdem match {args.path} call --hands 10000",
            "play": f"holdem play {args.path}",
            "export": f"holdem export {args.path} --out preflop.json",
        }
        out["can_evaluate"] = can_evaluate
        if args.json:
            print(json.dumps(out))
        else:
            print(f"game hunl, iteration {loaded.iteration}: exact exploitability is out of reach for hold'em;")
            for what, cmd in can_evaluate.items():
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
        out.update(
            exploitability=e.exploitability,
            nash_conv=e.nash_conv,
            policy_value=e.policy_value,
            seconds=round(time.perf_counter() - started, 4),
        )
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:15} {v}")
    return EXIT_OK


def _ladder(args: argparse.Namespace) -> int:
    from holdem.blueprint.policy import PolicyError
    from holdem.evaluation.ladder import LadderSettings, describe, run_ladder
    from holdem.evaluation.lbr import LbrError

    try:
        report = run_ladder(
            args.path, buckets_root(args), LadderSettings(args.hands, args.lbr_hands, args.seed, args.workers)
        )
    except (PolicyError, LbrError) as exc:
        return bad(EventStream(False), str(exc))
    print(json.dumps(report) if args.json else describe(report))
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    from holdem.blueprint.policy import PolicyError, export_policy, load_policy
    from holdem.storage.atomic import write_json_atomic

    try:
        loaded = load_policy(args.path, buckets_root(args))
        if args.search:
            loaded = searched(loaded, args)
        write_json_atomic(args.out, export_policy(loaded))
    except (PolicyError, ValueError) as exc:
        return bad(EventStream(False), str(exc))
    print(f"wrote {args.out}", file=sys.stderr)
    return EXIT_OK


def _merge(args: argparse.Namespace) -> int:
    from holdem.blueprint.policy import PolicyError, merge_policies, write_merged

    events = EventStream(args.events == "jsonl")
    events.emit("started", 0, pid=os.getpid(), target_iters=None, time_budget_s=None, resumed_from=None)
    try:
        merged, used = merge_policies(args.instance_dirs, buckets_root(args))
    except PolicyError as exc:
        return bad(events, str(exc))
    written = write_merged(args.out, merged, used)
    events.emit("checkpoint", merged.iteration, path=str(written.path), bytes=written.bytes, sha256=written.sha256)
    events.emit("done", merged.iteration)
    print(f"merged {len(used)} instances into {args.out}", file=sys.stderr)
    return EXIT_OK


def _tree(args: argparse.Namespace) -> int:
    from holdem.cli.prepare import tree

    return tree(args, buckets_root(args))


def _match(args: argparse.Namespace) -> int:
    from holdem.blueprint.policy import PolicyError
    from holdem.play.match import match_from_specs

    if args.hands < 1:
        return bad(EventStream(False), f"--hands must be at least 1, got {args.hands}")
    bar = ProgressBar(every_s=None)
    try:
        search = (search_config(args) if args.search_a else None, search_config(args) if args.search_b else None)
        progress = None if args.json or not bar.on_terminal else match_progress(bar)
        result = match_from_specs(args.a, args.b, args.hands, args.seed, buckets_root(args), search, progress)
    except (PolicyError, ValueError) as exc:
        bar.abandon()
        return bad(EventStream(False), str(exc))
    out = result.to_json()
    if args.json:
        print(json.dumps(out))
    else:
        lo, hi = out["ci95"]
        print(
            f"{out['a']} vs {out['b']}: {out['mbb_per_hand']:+.1f} mbb/hand, 95% [{lo:+.1f}, {hi:+.1f}] over "
            f"{out['hands']:,} duplicate hands ({out['seconds']:.1f} s)"
        )
    return EXIT_OK


def match_progress(bar: ProgressBar) -> MatchProgress:
    """The match's bar at a terminal: hands played, their rate, the time spent and left."""
    started = time.monotonic()

    def show(done: int, deals: int) -> None:
        rate = 2 * done / max(time.monotonic() - started, 1e-9)
        frac = done / deals
        text = f"{2 * done:,}/{2 * deals:,} hands  {rate:,.0f} hands/s  {bar.clock_for(frac)}"
        bar.show(f"{bar.gauge(frac)}  {text}", final=done >= deals)

    return show


def _play(args: argparse.Namespace) -> int:
    from holdem.blueprint.hunl import load_blueprint
    from holdem.blueprint.policy import PolicyError
    from holdem.play.agents import BlueprintAgent
    from holdem.play.terminal import Opponent, PlayOptions, run_play

    try:
        config = search_config(args) if args.search else None  # before any bucket build starts threads
        blueprint = load_blueprint(args.policy, buckets_root(args))
        if config is not None:
            from holdem.play.search_agent import SearchAgent

            bot: Opponent = SearchAgent(blueprint, config, name=f"{args.policy}+search")
            opponent = f"the blueprint {args.policy} with {search_summary(args)}"
        else:
            bot = BlueprintAgent(blueprint, name=str(args.policy))
            opponent = f"the blueprint {args.policy} (no search)"
    except (PolicyError, ValueError) as exc:
        return bad(EventStream(False), str(exc))
    options = PlayOptions(hands=max(0, args.hands), seat=args.seat, seed=args.seed, opponent=opponent)
    run_play(bot, options, sys.stdin, sys.stdout)
    return EXIT_OK


def _lbr(args: argparse.Namespace) -> int:
    from holdem.blueprint.policy import PolicyError
    from holdem.evaluation.lbr import (
        LbrError,
        LbrSettings,
        describe,
        local_best_response,
        target_from_path,
        terminal_progress,
    )

    try:
        settings = LbrSettings(args.variant, args.hands, args.seed, args.workers)
        target = target_from_path(args.policy, buckets_root(args))
    except (LbrError, PolicyError) as exc:
        return bad(EventStream(False), str(exc))
    result = local_best_response(target, settings, None if args.json else terminal_progress(target.unit))
    print(json.dumps(result.to_json()) if args.json else describe(result))
    return EXIT_OK


def _strategy(args: argparse.Namespace) -> int:
    from holdem.blueprint.explorer import SpotError, find_spot, grid_json, spot_json
    from holdem.blueprint.explorer_render import print_grid, print_spot, save_grid_png
    from holdem.blueprint.hunl import load_blueprint
    from holdem.blueprint.policy import PolicyError

    try:
        if args.png is not None and not args.range:
            raise SpotError("--png draws the --range grid; add --range")
        bp = load_blueprint(args.policy, buckets_root(args))
        spot = find_spot(bp, args.history, args.board)
        out = grid_json(bp, spot, str(args.policy)) if args.range else spot_json(bp, spot, args.hand, str(args.policy))
    except (PolicyError, SpotError) as exc:
        return bad(EventStream(False), str(exc))
    if args.png is not None:
        save_grid_png(out, args.png)
        print(f"wrote {args.png}", file=sys.stderr)
    if args.json:
        print(json.dumps(out))
    else:
        (print_grid if args.range else print_spot)(out)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

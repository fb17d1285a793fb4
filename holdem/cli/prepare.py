"""`holdem prepare`, `check-config`, `buckets build` and `tree`: what a config needs and what it costs,
before any training. Split from cli.py (which parses and dispatches); exit codes as there: 0, or 2 for
bad input (a bad config key, an unwritable bucket store).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
import time
from pathlib import Path

from holdem.cli.common import bad
from holdem.instance.events import EventStream
from holdem.instance.exit_codes import EXIT_BAD_INPUT, EXIT_OK


def prepare(args: argparse.Namespace, root: Path) -> int:
    """Kuhn and Leduc need nothing built; validating the config here fails a bad run early."""
    from holdem.config import ConfigError, load_config

    events = EventStream(args.events == "jsonl")
    events.emit("started", 0, pid=os.getpid(), target_iters=None, time_budget_s=None, resumed_from=None)
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        return bad(events, str(exc))
    if cfg.game != "hunl":
        logging.getLogger("holdem.prepare").info("%s needs nothing prepared", cfg.game)
        events.emit("done", 0)
        return EXIT_OK
    return build_buckets(cfg, root, events)


def check_config(args: argparse.Namespace) -> int:
    """Everything `train` and `prepare` check before they work, and nothing else: the supervisor
    runs this (a subprocess) before it accepts a run, so a bad key is refused at submission."""
    from holdem.config import ConfigError, load_config
    from holdem.games.hunl.betting import abstraction_from_config

    try:
        if not args.config.exists():
            raise ConfigError(None, f"file {str(args.config)!r} does not exist")
        cfg = load_config(args.config)
        if cfg.game == "hunl":
            abstraction_from_config(cfg.hunl)
    except ConfigError as exc:  # an AbstractionError too, with its key
        key = exc.key
        if args.json:
            print(json.dumps({"ok": False, "key": key, "message": str(exc)}))
        print(f"holdem: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    result = {"ok": True, "game": cfg.game, "algorithm": cfg.algorithm, "iterations": cfg.iterations}
    print(json.dumps(result) if args.json else f"{args.config}: a valid {cfg.game} config ({cfg.algorithm})")
    return EXIT_OK


def buckets(args: argparse.Namespace, root: Path) -> int:
    from holdem.config import ConfigError, load_config

    events = EventStream(args.events == "jsonl")
    events.emit("started", 0, pid=os.getpid(), target_iters=None, time_budget_s=None, resumed_from=None)
    try:
        cfg = load_config(args.config)
        if cfg.game != "hunl":
            raise ConfigError("game", f"only hold'em uses card buckets, this config is {cfg.game!r}")
    except ConfigError as exc:
        return bad(events, str(exc))
    return build_buckets(cfg, root, events)


def build_buckets(cfg, root: Path, events: EventStream) -> int:
    """Build (or find) the config's bucket set, reporting boards done per stage as progress."""
    from holdem.abstraction.buckets import STAGES, BucketStoreError, BuildProgress
    from holdem.abstraction.buckets import build_buckets as build
    from holdem.games.hunl.betting import AbstractionError, abstraction_from_config
    from holdem.games.hunl.game import bucket_spec
    from holdem.progress_bar import ProgressBar

    try:
        spec = bucket_spec(abstraction_from_config(cfg.hunl))
    except AbstractionError as exc:
        return bad(events, str(exc))
    bar = None if events.enabled else ProgressBar()
    started = time.monotonic()

    def progress(p: BuildProgress) -> None:
        label = f"{p.name} ({p.stage + 1}/{len(STAGES)})"
        events.emit(
            "progress",
            p.stage,
            target_iters=len(STAGES),
            elapsed_s=round(time.monotonic() - started, 3),
            ips=0.0,
            metrics={"stage": label, "done": p.done, "total": p.total, "unit": p.unit, "per_s": round(p.per_s, 1)},
        )
        if bar is not None:
            bar.draw_count(label, p.done, p.total, p.unit, p.per_s)

    # Verifying a stored set reads all of it (about 400 MiB): say so, it takes a while too.
    events.emit(
        "progress",
        0,
        target_iters=len(STAGES),
        elapsed_s=0.0,
        ips=0.0,
        metrics={"stage": f"verifying the stored bucket set under {root}"},
    )
    try:
        folder = build(spec, root, progress=progress)
    except BucketStoreError as exc:
        return bad(events, str(exc))
    events.emit("done", len(STAGES), path=str(folder))
    print(f"buckets ready in {folder} ({time.monotonic() - started:.1f} s)", file=sys.stderr)
    return EXIT_OK


def tree(args: argparse.Namespace, root: Path) -> int:
    from holdem.config import ConfigError, load_config
    from holdem.games.hunl.betting import AbstractionError, abstraction_from_config, build_betting_tree, tree_report

    try:
        cfg = load_config(args.config)
        if cfg.game != "hunl":
            raise ConfigError("game", f"the tree command describes hold'em configs, this one is {cfg.game!r}")
        abstraction = abstraction_from_config(cfg.hunl)
    except (ConfigError, AbstractionError) as exc:
        return bad(EventStream(False), str(exc))
    report = tree_report(abstraction, build_betting_tree(abstraction), max(1, args.instances))
    if args.sample_s > 0:  # the timed sample (holdem.instance.estimate), kept apart from the tree's own figures
        from holdem.instance.estimate import speed_report

        build = f"holdem buckets build --config {shlex.quote(str(args.config))}"
        if args.buckets_root is not None:
            build += f" --buckets-root {shlex.quote(str(args.buckets_root))}"
        cores = len(os.sched_getaffinity(0))
        report["speed"] = speed_report(
            cfg, root, args.sample_s, args.iters, args.time_budget, max(1, args.instances), cores, build
        )
    if args.json:
        print(json.dumps(report))
        return EXIT_OK
    n = max(1, args.instances)
    mib = 2**20
    print(f"{'street':8} {'betting nodes':>14} {'terminal nodes':>15} {'infosets':>12} {'table entries':>14}")
    for s in report["streets"]:
        print(
            f"{s['street']:8} {s['betting_nodes']:>14,} {s['terminal_nodes']:>15,} {s['infosets']:>12,} "
            f"{s['table_entries']:>14,}"
        )
    print(f"nodes {report['nodes']:,} ({report['terminals']:,} terminal), infosets {report['infosets']:,}")
    tables, tree = report["table_bytes_per_instance"] / mib, report["tree_bytes_per_instance"] / mib
    runtime, private = report["runtime_bytes_per_instance"] / mib, report["private_bytes_per_instance"] / mib
    print(
        f"memory per instance: tables {tables:,.1f} MiB + tree {tree:,.1f} MiB + runtime {runtime:,.0f} MiB"
        f" = {private:,.1f} MiB private"
    )
    print(f"card buckets (mapped read-only, shared): {report['bucket_bytes_shared'] / mib:,.1f} MiB once")
    print(f"{n} instance{'s' if n != 1 else ''}: about {report['memory_bytes_all_instances'] / mib:,.0f} MiB in all")
    if "speed" in report:
        from holdem.instance.estimate import describe_speed

        print(describe_speed(report["speed"]))
    return EXIT_OK

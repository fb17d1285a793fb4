"""holdemd's command line: the `start` and `recover` parsers, and the one place that turns arguments
and the environment ($STATE_DIRECTORY, $LOGS_DIRECTORY, the socket's variables) into a DaemonConfig."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

from supervisor import version
from supervisor.config import DaemonConfig, StartSpec, Tuning, builtin_config
from supervisor.daemon.options import add_results_options, results_tuning
from supervisor.daemon.resume import START_BEHAVIOUR
from supervisor.executors import EXECUTOR_NAMES, ExecutorSpec
from supervisor.executors.shared import check_runs_root
from supervisor.protocol import socket_path

QUICKSTART_CONFIG = builtin_config("quickstart")


def build_parser(env: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    env = os.environ if env is None else env
    p = argparse.ArgumentParser(prog="holdemd", description="Supervise `holdem train` instances.")
    p.add_argument("--version", action="version", version=f"holdemd {version()}")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("start", help="run the daemon in the foreground", description=START_BEHAVIOUR.replace("\n", " "))
    s.add_argument("--version", action="version", version=f"holdemd {version()}")
    s.add_argument(
        "--instances",
        type=int,
        metavar="N",
        help="start a run of N instances from these arguments (resumed "
        "instead if an unfinished run has exactly these arguments)",
    )
    s.add_argument("--config", type=Path, help=f"run config (default: {QUICKSTART_CONFIG})")
    g = s.add_mutually_exclusive_group()
    g.add_argument(
        "--iters", type=int, help="total iterations, split over the instances (default: the config's `iterations`)"
    )
    g.add_argument("--time-budget", type=float, metavar="SECONDS", help="each instance trains this long")
    s.add_argument("--seed", type=int, help="run seed (default: random, recorded in run.yaml)")
    s.add_argument("--workers", type=int, default=1, help="worker threads per instance (holdem train --workers)")
    s.add_argument(
        "--new", action="store_true", help="start a new run even if an unfinished run has the same arguments"
    )
    s.add_argument(
        "--no-resume",
        action="store_true",
        help="leave the unfinished runs stopped (holdemctl resume RUN continues one later)",
    )
    state_env = env.get("STATE_DIRECTORY", "").split(":")[0]
    s.add_argument(
        "--runs-root",
        type=Path,
        help=f"where run folders go (default: {Path(state_env) / 'runs' if state_env else Path('runs').absolute()})",
    )
    s.add_argument(
        "--state-dir", type=Path, help=f"SQLite state and lock (default: {state_env or Path('state').absolute()})"
    )
    s.add_argument(
        "--socket",
        type=Path,
        help=f"control socket (default here: {socket_path(None, env)}; order: "
        "$HOLDEMD_SOCKET, $RUNTIME_DIRECTORY, $XDG_RUNTIME_DIR, /tmp/holdemd-<uid>)",
    )
    s.add_argument(
        "--worker-cmd", help="command prefix of the worker (default: python -m holdem.cli, with this Python)"
    )
    x = s.add_argument_group("executor", "how new runs launch their children (docs/cluster.md)")
    x.add_argument(
        "--executor",
        choices=EXECUTOR_NAMES,
        default="local",
        help="local: subprocesses of holdemd; slurm: one srun job per instance",
    )
    x.add_argument("--slurm-partition", metavar="NAME", help="srun --partition")
    x.add_argument("--slurm-account", metavar="NAME", help="srun --account")
    x.add_argument("--slurm-time", metavar="LIMIT", help="srun --time, e.g. 2-00:00:00")
    x.add_argument(
        "--srun-option",
        action="append",
        default=[],
        metavar="OPT",
        help="another srun option, e.g. --srun-option=--mem=4G (repeatable)",
    )
    d = Tuning()
    s.add_argument(
        "--heartbeat-timeout",
        type=float,
        default=d.heartbeat_timeout_s,
        metavar="S",
        help="a running child silent for this long is hung (default: %(default)gs)",
    )
    s.add_argument(
        "--startup-timeout",
        type=float,
        default=d.startup_timeout_s,
        metavar="S",
        help="allowance before a child's first progress event, for kernel compilation (default: %(default)gs)",
    )
    s.add_argument(
        "--stop-timeout",
        type=float,
        default=d.stop_timeout_s,
        metavar="S",
        help="how long children get to checkpoint after SIGTERM (default: %(default)gs)",
    )
    s.add_argument(
        "--backoff-base",
        type=float,
        default=d.backoff_base_s,
        metavar="S",
        help="first restart delay, doubled per recent restart (default: %(default)gs)",
    )
    s.add_argument(
        "--backoff-cap",
        type=float,
        default=d.backoff_cap_s,
        metavar="S",
        help="longest restart delay (default: %(default)gs)",
    )
    s.add_argument(
        "--max-restarts",
        type=int,
        default=d.max_restarts,
        metavar="N",
        help="more restarts than this within --restart-window mark an instance failed (default: %(default)s)",
    )
    s.add_argument(
        "--restart-window",
        type=float,
        default=d.restart_window_s,
        metavar="S",
        help="the window --max-restarts counts in (default: %(default)gs)",
    )
    s.add_argument(
        "--child-nice",
        type=int,
        default=d.child_nice,
        metavar="N",
        help="niceness of the children (default: %(default)s)",
    )
    s.add_argument(
        "--coalesce-ms",
        type=float,
        default=d.coalesce_s * 1000,
        metavar="MS",
        help="batch child events for up to this long per wake-up, 0: off (default: %(default)g)",
    )
    s.add_argument(
        "--tensorboard-interval",
        type=float,
        default=d.tensorboard_interval_s,
        metavar="S",
        help="how often run-level TensorBoard scalars are written (default: %(default)gs)",
    )
    s.add_argument(
        "--low-space-mb",
        type=float,
        default=d.low_space_bytes / 2**20,
        metavar="MIB",
        help="warn in status when the runs root or state dir has less free space than this (default: %(default)g)",
    )
    s.add_argument(
        "--max-clients",
        type=int,
        default=d.max_clients,
        metavar="N",
        help="socket connections at most; the oldest idle one makes room for a newcomer (default: %(default)s)",
    )
    s.add_argument(
        "--client-idle-timeout",
        type=float,
        default=d.client_idle_timeout_s,
        metavar="S",
        help="close a connection that is not subscribed after this long without a request (default: %(default)gs)",
    )
    add_results_options(s, d)
    _add_recover_parser(sub)
    return p


def _add_recover_parser(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("recover", help="move a damaged state database aside and rebuild it from the run folders")
    r.add_argument("--runs-root", type=Path, help="where run folders are (default $STATE_DIRECTORY/runs or ./runs)")
    r.add_argument("--state-dir", type=Path, help="SQLite state and lock (default $STATE_DIRECTORY or ./state)")


def state_and_runs(args: argparse.Namespace, env: Mapping[str, str]) -> tuple[Path, Path]:
    """The state dir and runs root: flags, else systemd's $STATE_DIRECTORY, else ./state and ./runs."""
    state_env = env.get("STATE_DIRECTORY", "").split(":")[0]
    state_dir = args.state_dir or (Path(state_env) if state_env else Path("state"))
    runs_root = args.runs_root or (Path(state_env) / "runs" if state_env else Path("runs"))
    return state_dir.resolve(), runs_root.resolve()


def build_config(args: argparse.Namespace, env: Mapping[str, str]) -> DaemonConfig:
    """The one place that reads arguments and environment."""
    state_dir, runs_root = state_and_runs(args, env)
    tuning = Tuning(
        heartbeat_timeout_s=args.heartbeat_timeout,
        startup_timeout_s=args.startup_timeout,
        stop_timeout_s=args.stop_timeout,
        backoff_base_s=args.backoff_base,
        backoff_cap_s=args.backoff_cap,
        max_restarts=args.max_restarts,
        restart_window_s=args.restart_window,
        child_nice=args.child_nice,
        coalesce_s=args.coalesce_ms / 1000,
        tensorboard_interval_s=args.tensorboard_interval,
        low_space_bytes=int(args.low_space_mb * 2**20),
        max_clients=args.max_clients,
        client_idle_timeout_s=args.client_idle_timeout,
        **results_tuning(args),
    )
    executor = ExecutorSpec(
        args.executor, args.slurm_partition, args.slurm_account, args.slurm_time, tuple(args.srun_option)
    )
    check_runs_root(runs_root)
    start = None
    if args.instances is not None:
        start = StartSpec(
            instances=args.instances,
            config=args.config,
            iters=args.iters,
            time_budget_s=args.time_budget,
            seed=args.seed,
            workers=args.workers,
        )
    else:
        given = [
            flag
            for flag, value in (
                ("--config", args.config),
                ("--iters", args.iters),
                ("--time-budget", args.time_budget),
                ("--seed", args.seed),
            )
            if value is not None
        ]
        if given or args.new:
            raise ValueError(
                f"{', '.join(given + (['--new'] if args.new else []))} describe a new run: give --instances N too"
            )
    worker = tuple(shlex.split(args.worker_cmd)) if args.worker_cmd else (sys.executable, "-m", "holdem.cli")
    return DaemonConfig(
        state_dir=state_dir,
        runs_root=runs_root,
        socket=socket_path(args.socket, env).absolute(),
        worker_cmd=worker,
        tuning=tuning,
        start=start,
        start_new=args.new,
        no_resume=args.no_resume,
        default_config=QUICKSTART_CONFIG,
        executor=executor,
        log_dir=Path(env["LOGS_DIRECTORY"].split(":")[0]) if env.get("LOGS_DIRECTORY") else None,
    )

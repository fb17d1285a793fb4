"""holdemd: start-up, single-instance lock, signals, sd_notify, orderly shutdown.

`holdemd start` runs in the foreground (systemd's Type=notify). One daemon per state dir (an
flock) and per socket (a live socket is probed, a stale one removed). Signal handlers only
record the signal; the main coroutine acts on it. SIGTERM/SIGINT: every child gets SIGTERM and
time to checkpoint (bounded by --stop-timeout), the state is recorded, exit 0. A second SIGINT
kills the children and exits at once.

What `holdemd start` does with runs (each decision is logged, and `holdemctl status` shows it as the
run's origin): every run whose desired state is "running" is resumed (it was running when the
last daemon stopped), unless `--no-resume`. With run arguments (`--instances N` ...) the config is
checked first (`holdem check-config`; a bad one exits 2 before anything starts); if an unfinished
run has exactly these arguments it is the one resumed (so a restart by systemd is idempotent),
otherwise a new run is started from them, beside the resumed ones; `--new` starts a new one even
then.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import logging
import os
import shlex
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from supervisor import version
from supervisor.config import DaemonConfig, StartSpec, Tuning, builtin_config
from supervisor.daemon.api import AlreadyRunning, Hub, Server, claim_socket_path
from supervisor.daemon.notify import Notifier, NotifyConfig
from supervisor.daemon.options import add_results_options, results_tuning
from supervisor.daemon.service import Daemon
from supervisor.executors import EXECUTOR_NAMES, ExecutorSpec
from supervisor.executors.shared import check_runs_root
from supervisor.jobs.child import LogDrops, set_coalesce
from supervisor.jobs.submit import ConfigRefused, check_config_sync, describe_spec, resolve_config, same_run
from supervisor.protocol import EventKind, socket_path
from supervisor.state.recover import move_aside, rebuild
from supervisor.state.store import Store, StoreCorrupt

log = logging.getLogger("holdemd")
QUICKSTART_CONFIG = builtin_config("quickstart")


class StartupError(Exception):
    """A reason not to start, told to the user in one line."""


def build_parser(env: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    env = os.environ if env is None else env
    p = argparse.ArgumentParser(prog="holdemd", description="Supervise `holdem train` instances.")
    p.add_argument("--version", action="version", version=f"holdemd {version()}")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser(
        "start", help="run the daemon in the foreground", description=__doc__.split("\n\n")[2].replace("\n", " ")
    )
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


def _add_recover_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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


def lock_state_dir(cfg: DaemonConfig) -> int:
    """An exclusive flock held for the daemon's life; the kernel drops it if we die."""
    cfg.state_dir.mkdir(parents=True, exist_ok=True)
    cfg.log_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(cfg.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise StartupError(f"another holdemd (pid {holder}) is already using state dir {cfg.state_dir}") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


class _HubHandler(logging.Handler):
    """Daemon log lines also go to subscribers (run/instance null)."""

    def __init__(self, hub: Hub) -> None:
        super().__init__()
        self.hub = hub

    def emit(self, record: logging.LogRecord) -> None:
        self.hub.publish(
            {
                "event": EventKind.LOG.value,
                "run": None,
                "instance": None,
                "line": self.format(record),
                "t": record.created,
            }
        )


class _TolerantFileHandler(logging.FileHandler):
    """holdemd.log on a full disk: the line is lost (stderr and subscribers still get it), no traceback."""

    def handleError(self, record: logging.LogRecord) -> None:
        self.dropped = getattr(self, "dropped", 0) + 1


def _setup_logging(cfg: DaemonConfig, hub: Hub) -> None:
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S")
    log.handlers.clear()
    log.setLevel(logging.INFO)
    log.propagate = False
    for handler in (logging.StreamHandler(sys.stderr), _TolerantFileHandler(cfg.log_path), _HubHandler(hub)):
        handler.setFormatter(fmt)
        log.addHandler(handler)


def claim(cfg: DaemonConfig) -> int:
    """The state dir's lock and a free socket path, checked so that a refused daemon creates nothing:
    an existing state dir is locked first (its holder is the better message), a new one only once
    the socket path is known to be free."""
    existed = cfg.state_dir.is_dir()
    lock_fd = lock_state_dir(cfg) if existed else None
    try:
        claim_socket_path(cfg.socket)
    except AlreadyRunning as exc:
        if lock_fd is not None:
            os.close(lock_fd)
        raise StartupError(str(exc)) from None
    return lock_fd if lock_fd is not None else lock_state_dir(cfg)


async def serve(cfg: DaemonConfig, notify: NotifyConfig) -> int:
    lock_fd = claim(cfg)
    set_coalesce(cfg.tuning.coalesce_s)
    hub = Hub()
    _setup_logging(cfg, hub)
    try:
        store = Store(cfg.db_path)
    except StoreCorrupt as exc:
        os.close(lock_fd)
        raise StartupError(
            f"{exc}; move it aside and rebuild it from the run folders with: holdemd recover "
            f"--state-dir {cfg.state_dir} --runs-root {cfg.runs_root}"
        ) from None
    daemon = Daemon(cfg, store, hub)
    server = Server(
        cfg.socket, daemon, hub, max_clients=cfg.tuning.max_clients, idle_timeout_s=cfg.tuning.client_idle_timeout_s
    )
    notifier = Notifier(notify)
    try:
        await server.start()
    except AlreadyRunning as exc:
        store.close()
        os.close(lock_fd)
        raise StartupError(str(exc)) from None
    log.info("holdemd %d listening on %s; state in %s", os.getpid(), cfg.socket, cfg.state_dir)

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals_seen: list[int] = []

    def on_signal(sig: int) -> None:
        signals_seen.append(sig)
        if sig == signal.SIGINT and signals_seen.count(signal.SIGINT) > 1:
            log.warning("second SIGINT: killing children and exiting now")
            for run in daemon.runs.values():
                for inst in run.instances:
                    inst.force_kill()
            os._exit(130)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)

    try:
        start_runs(cfg, daemon)
    except ValueError as exc:
        await daemon.shutdown()
        await server.close()
        store.close()
        os.close(lock_fd)
        raise StartupError(f"cannot start the run: {exc}") from None
    notifier.ready(daemon.summary())
    background = [asyncio.create_task(_heartbeat(notifier, daemon, cfg))]
    await stop.wait()

    log.info(
        "signal %s: stopping children (up to %gs for their checkpoints)",
        signal.Signals(signals_seen[-1]).name,
        cfg.tuning.stop_timeout_s,
    )
    notifier.stopping("stopping: waiting for children to checkpoint")
    try:
        await daemon.shutdown()
    finally:
        for task in background:
            task.cancel()
        await server.close()
        store.close()
        daemon.results.close()
        notifier.close()
        os.close(lock_fd)
    log.info("holdemd stopped")
    return 0


def start_runs(cfg: DaemonConfig, daemon: Daemon) -> None:
    """Resume and start runs as the module docstring says, logging every decision and its reason."""
    resumable = daemon.load()
    config = resolve_config(cfg.start, cfg.default_config) if cfg.start is not None else None
    same = None
    if cfg.start is not None and config is not None and not cfg.start_new:
        same = next((sup for sup in resumable if same_run(sup.dir, cfg.start, config)), None)
    if cfg.start is not None and same is None:
        assert config is not None  # started first: a spec that cannot make a run exits before anything resumes
        sup = daemon.start_run(cfg.start, f"started from holdemd start arguments: {describe_spec(cfg.start, config)}")
        log.info("started run %s from the arguments (%s) in %s", sup.id, describe_spec(cfg.start, config), sup.dir)
    for sup in resumable:
        where = f"{sup.state.value} at {sup.progress_text()}"
        if sup is same:
            why = "resumed at start-up: holdemd start was given the same arguments as this run"
        elif cfg.no_resume:
            sup.park(f"left stopped at start-up (holdemd start --no-resume); `holdemctl resume {sup.id}` continues it")
            log.info("not resuming run %s (%s): --no-resume; `holdemctl resume %s` continues it", sup.id, where, sup.id)
            continue
        else:
            why = "resumed at start-up: it was running when holdemd last stopped"
        log.info(
            "resuming run %s (%s): %s%s",
            sup.id,
            where,
            why.split(": ", 1)[1],
            ""
            if cfg.start is None or sup is same
            else f"; beside the new run (`holdemctl stop {sup.id}` stops it, --no-resume leaves it stopped)",
        )
        sup.set_origin(why)
        sup.start()
    if not daemon.newest_active():
        log.info("no run to resume; waiting for `holdemctl start` (%d finished run(s) known)", len(daemon.runs))


async def _heartbeat(notifier: Notifier, daemon: Daemon, cfg: DaemonConfig) -> None:
    """WATCHDOG=1 from the event loop itself (a blocked loop gets us restarted) and STATUS=."""
    interval = min(cfg.tuning.status_interval_s, notifier.cfg.watchdog_interval_s or cfg.tuning.status_interval_s)
    while True:
        if notifier.cfg.watchdog_usec:
            notifier.watchdog()
        notifier.status(daemon.summary())
        try:
            daemon.store.flush()  # changes a full disk refused are written as soon as it takes them
            daemon.results.flush()  # the history points of the last interval, in one transaction
            LogDrops.retry()
        except Exception:  # not the disk (flush keeps waiting on that): say so, keep the heartbeat
            log.exception("state database write failed")
        await asyncio.sleep(interval)


def recover(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """holdemd recover: under the state dir's lock, move the database aside and rebuild it."""
    state_dir, runs_root = state_and_runs(args, env)
    cfg = DaemonConfig(state_dir=state_dir, runs_root=runs_root, socket=Path("/nonexistent"))
    lock_fd = lock_state_dir(cfg)
    try:
        for moved in move_aside(cfg.db_path):
            print(f"moved {moved.name.split('.corrupt-')[0]} aside to {moved}")
        store = Store(cfg.db_path)
        try:
            lines = rebuild(store, runs_root) if runs_root.is_dir() else []
        finally:
            store.close()
    finally:
        os.close(lock_fd)
    for line in lines:
        print(line)
    print(
        f"rebuilt {cfg.db_path} from {len(lines)} run folder(s) under {runs_root}; "
        "unfinished runs resume on the next holdemd start"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "recover":
        try:
            return recover(args, os.environ)
        except StartupError as exc:
            print(f"holdemd: {exc}", file=sys.stderr)
            return 1
    try:
        cfg = build_config(args, os.environ)
        if cfg.start is not None:  # a run that cannot start is refused before the daemon starts at all
            check_config_sync(cfg.worker_cmd, resolve_config(cfg.start, cfg.default_config))
    except ConfigRefused as exc:
        print(f"holdemd: cannot start the run: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"holdemd: {exc}", file=sys.stderr)
        return 2
    import uvloop  # imported here so `holdemd --help` stays instant

    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(serve(cfg, NotifyConfig.from_environ(os.environ, os.getpid())))
    except StartupError as exc:
        print(f"holdemd: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

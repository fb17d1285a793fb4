"""holdemd: start-up, single-instance lock, signals, sd_notify, orderly shutdown.

`holdemd start` runs in the foreground (systemd's Type=notify). One daemon per state dir (an
flock) and per socket (a live socket is probed, a stale one removed). Signal handlers only
record the signal; the main coroutine acts on it. SIGTERM/SIGINT: every child gets SIGTERM and
time to checkpoint (bounded by --stop-timeout), the state is recorded, exit 0. A second SIGINT
kills the children and exits at once.
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

from .api import AlreadyRunning, Hub, Server, claim_socket_path
from .child import LogDrops, set_coalesce
from .config import DaemonConfig, StartSpec, Tuning
from .executors import EXECUTOR_NAMES, ExecutorSpec
from .executors.shared import check_runs_root
from .notify import Notifier, NotifyConfig
from .protocol import EventKind, socket_path
from .service import Daemon
from .recover import move_aside, rebuild
from .store import Store, StoreCorrupt

log = logging.getLogger("holdemd")
REPO_QUICKSTART = Path(__file__).resolve().parent.parent / "configs" / "quickstart.yaml"


class StartupError(Exception):
    """A reason not to start, told to the user in one line."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="holdemd", description="Supervise `holdem train` instances.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("start", help="run the daemon in the foreground")
    s.add_argument("--instances", type=int, help="start a new run with N instances if none is active")
    s.add_argument("--config", type=Path, help="run config (default: configs/quickstart.yaml)")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--iters", type=int, help="total iterations, split over the instances")
    g.add_argument("--time-budget", type=float, metavar="SECONDS", help="each instance trains this long")
    s.add_argument("--seed", type=int, help="run seed (default: random, recorded in run.yaml)")
    s.add_argument("--runs-root", type=Path, help="where run folders go (default $STATE_DIRECTORY/runs or ./runs)")
    s.add_argument("--state-dir", type=Path, help="SQLite state and lock (default $STATE_DIRECTORY or ./state)")
    s.add_argument("--socket", type=Path, help="control socket (default: see docs/supervisor.md)")
    s.add_argument("--worker-cmd", help="command prefix of the worker (default: python -m holdem.cli)")
    x = s.add_argument_group("executor", "how new runs launch their children (docs/cluster.md)")
    x.add_argument("--executor", choices=EXECUTOR_NAMES, default="local",
                   help="local: subprocesses of holdemd; slurm: one srun job per instance")
    x.add_argument("--slurm-partition", metavar="NAME", help="srun --partition")
    x.add_argument("--slurm-account", metavar="NAME", help="srun --account")
    x.add_argument("--slurm-time", metavar="LIMIT", help="srun --time, e.g. 2-00:00:00")
    x.add_argument("--srun-option", action="append", default=[], metavar="OPT",
                   help="another srun option, e.g. --srun-option=--mem=4G (repeatable)")
    d = Tuning()
    s.add_argument("--heartbeat-timeout", type=float, default=d.heartbeat_timeout_s, metavar="S",
                   help="a running child silent for this long is hung")
    s.add_argument("--startup-timeout", type=float, default=d.startup_timeout_s, metavar="S",
                   help="allowance before a child's first progress event (kernel compilation)")
    s.add_argument("--stop-timeout", type=float, default=d.stop_timeout_s, metavar="S",
                   help="how long children get to checkpoint after SIGTERM")
    s.add_argument("--backoff-base", type=float, default=d.backoff_base_s, metavar="S")
    s.add_argument("--backoff-cap", type=float, default=d.backoff_cap_s, metavar="S")
    s.add_argument("--max-restarts", type=int, default=d.max_restarts)
    s.add_argument("--restart-window", type=float, default=d.restart_window_s, metavar="S")
    s.add_argument("--child-nice", type=int, default=d.child_nice)
    s.add_argument("--coalesce-ms", type=float, default=d.coalesce_s * 1000, metavar="MS",
                   help="batch child events for up to this long per wake-up (0: off)")
    s.add_argument("--tensorboard-interval", type=float, default=d.tensorboard_interval_s, metavar="S")
    s.add_argument("--low-space-mb", type=float, default=d.low_space_bytes / 2**20, metavar="MIB",
                   help="warn in status when the runs root or state dir has less free space than this")
    s.add_argument("--max-clients", type=int, default=d.max_clients, metavar="N",
                   help="socket connections at most (the oldest idle one makes room for a newcomer)")
    s.add_argument("--client-idle-timeout", type=float, default=d.client_idle_timeout_s, metavar="S",
                   help="close a connection that is not subscribed after this long without a request")
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
    tuning = Tuning(heartbeat_timeout_s=args.heartbeat_timeout, startup_timeout_s=args.startup_timeout,
                    stop_timeout_s=args.stop_timeout,
                    backoff_base_s=args.backoff_base, backoff_cap_s=args.backoff_cap,
                    max_restarts=args.max_restarts, restart_window_s=args.restart_window,
                    child_nice=args.child_nice, coalesce_s=args.coalesce_ms / 1000, tensorboard_interval_s=args.tensorboard_interval,
                    low_space_bytes=int(args.low_space_mb * 2**20), max_clients=args.max_clients,
                    client_idle_timeout_s=args.client_idle_timeout)
    executor = ExecutorSpec(args.executor, args.slurm_partition, args.slurm_account, args.slurm_time,
                            tuple(args.srun_option))
    check_runs_root(runs_root)
    start = None
    if args.instances is not None:
        start = StartSpec(instances=args.instances, config=args.config, iters=args.iters,
                          time_budget_s=args.time_budget, seed=args.seed)
    worker = tuple(shlex.split(args.worker_cmd)) if args.worker_cmd else (sys.executable, "-m", "holdem.cli")
    return DaemonConfig(state_dir=state_dir, runs_root=runs_root,
                        socket=socket_path(args.socket, env).absolute(), worker_cmd=worker, tuning=tuning, start=start,
                        default_config=REPO_QUICKSTART if REPO_QUICKSTART.exists() else None, executor=executor,
                        log_dir=Path(env["LOGS_DIRECTORY"].split(":")[0]) if env.get("LOGS_DIRECTORY") else None)


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
        self.hub.publish({"event": EventKind.LOG.value, "run": None, "instance": None,
                          "line": self.format(record), "t": record.created})


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
        raise StartupError(f"{exc}; move it aside and rebuild it from the run folders with: holdemd recover "
                           f"--state-dir {cfg.state_dir} --runs-root {cfg.runs_root}") from None
    daemon = Daemon(cfg, store, hub)
    server = Server(cfg.socket, daemon, hub, max_clients=cfg.tuning.max_clients,
                    idle_timeout_s=cfg.tuning.client_idle_timeout_s)
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

    for sup in daemon.load():
        log.info("resuming run %s (%s)", sup.id, sup.state.value)
        sup.start()
    if cfg.start is not None and daemon.newest_active() is None:
        try:
            sup = daemon.start_run(cfg.start)
            log.info("started run %s in %s", sup.id, sup.dir)
        except ValueError as exc:
            log.error("cannot start a run: %s", exc)
    notifier.ready(daemon.summary())
    background = [asyncio.create_task(_heartbeat(notifier, daemon, cfg))]
    await stop.wait()

    log.info("signal %s: stopping children (up to %gs for their checkpoints)",
             signal.Signals(signals_seen[-1]).name, cfg.tuning.stop_timeout_s)
    notifier.stopping("stopping: waiting for children to checkpoint")
    try:
        await daemon.shutdown()
    finally:
        for task in background:
            task.cancel()
        await server.close()
        store.close()
        notifier.close()
        os.close(lock_fd)
    log.info("holdemd stopped")
    return 0


async def _heartbeat(notifier: Notifier, daemon: Daemon, cfg: DaemonConfig) -> None:
    """WATCHDOG=1 from the event loop itself (a blocked loop gets us restarted) and STATUS=."""
    interval = min(cfg.tuning.status_interval_s, notifier.cfg.watchdog_interval_s or cfg.tuning.status_interval_s)
    while True:
        if notifier.cfg.watchdog_usec:
            notifier.watchdog()
        notifier.status(daemon.summary())
        try:
            daemon.store.flush()  # changes a full disk refused are written as soon as it takes them
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
    print(f"rebuilt {cfg.db_path} from {len(lines)} run folder(s) under {runs_root}; "
          "unfinished runs resume on the next holdemd start")
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

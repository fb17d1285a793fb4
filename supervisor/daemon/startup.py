"""holdemd: start-up, single-instance lock, signals, sd_notify, orderly shutdown.

`holdemd start` runs in the foreground (systemd's Type=notify). One daemon per state dir (an
flock) and per socket (a live socket is probed, a stale one removed). Signal handlers only
record the signal; the main coroutine acts on it. SIGTERM/SIGINT: every child gets SIGTERM and
time to checkpoint (bounded by --stop-timeout), the state is recorded, exit 0. A second SIGINT
kills the children and exits at once.

The command line is in `parser.py`, which runs are resumed or started in `resume.py`, the log in `logs.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import logging
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from supervisor.config import DaemonConfig
from supervisor.daemon.api import AlreadyRunning, Hub, Server, SocketTaken, claim_socket_path
from supervisor.daemon.logs import setup_logging
from supervisor.daemon.notify import Notifier, NotifyConfig
from supervisor.daemon.parser import build_config, build_parser, state_and_runs
from supervisor.daemon.resume import start_runs
from supervisor.daemon.service import Daemon
from supervisor.jobs.child import set_coalesce
from supervisor.jobs.logfile import LogDrops
from supervisor.jobs.submit import ConfigRefused, check_config_sync, resolve_config
from supervisor.state.recover import move_aside, rebuild
from supervisor.state.store import Store, StoreCorrupt

log = logging.getLogger("holdemd")


EXIT_IN_USE = 3  # as `holdem train` on an instance folder another process holds


class StartupError(Exception):
    """A reason not to start, told to the user in one line."""


class InUse(StartupError):
    """Another holdemd holds the state dir or the socket (exit 3): add a run to it instead."""


def add_a_run_hint(socket: Path) -> str:
    return f"; to add a run to it: holdemctl --socket {socket} start --instances N --config FILE"


def in_use(exc: AlreadyRunning, socket: Path) -> StartupError:
    """A live daemon on the socket is "in use"; a path that is no socket at all is a plain refusal."""
    return InUse(str(exc) + add_a_run_hint(socket)) if isinstance(exc, SocketTaken) else StartupError(str(exc))


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
        raise InUse(
            f"another holdemd (pid {holder}) is already using state dir {cfg.state_dir}" + add_a_run_hint(cfg.socket)
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


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
        raise in_use(exc, cfg.socket) from None
    return lock_fd if lock_fd is not None else lock_state_dir(cfg)


async def serve(cfg: DaemonConfig, notify: NotifyConfig) -> int:
    lock_fd = claim(cfg)
    set_coalesce(cfg.tuning.coalesce_s)
    hub = Hub()
    setup_logging(cfg, hub)
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
        raise in_use(exc, cfg.socket) from None
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
        return EXIT_IN_USE if isinstance(exc, InUse) else 1


if __name__ == "__main__":
    sys.exit(main())

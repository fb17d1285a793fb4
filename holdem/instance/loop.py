"""One solver instance with W worker threads: the loop behind ``holdem train`` (docs/architecture.md, "The instance").

Invariants:
* Everything that decides the future is in the checkpoint (tables, every worker's generator state,
  iteration), and the kernels are pure functions of it, so with one worker a resumed run ends
  bit-identical to an uninterrupted one; how the work is chunked never changes the result. With W > 1
  the workers share the tables lock-free: a resume restores exactly, the run is reproducible in
  distribution, not in bits (docs/architecture.md, docs/decisions.md).
* The loop runs chunks of about CHUNK_SECONDS; a chunk ends when every worker has finished its
  traversal, and only then are the stop flag and the checkpoint schedule looked at
  (checkpoints.py). Metrics and the heartbeat live in metrics.py.
* ``iter``, ``ips`` and ``nodes_per_s`` count the iterations of all workers together.
"""

from __future__ import annotations

import fcntl
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from holdem.config import ConfigError, TrainConfig, config_to_mapping, load_config, solver_config_hash
from holdem.games import load_game
from holdem.instance.checkpoints import BadInput, Checkpoints, StopControl
from holdem.instance.events import EventStream
from holdem.instance.exit_codes import EXIT_BAD_INPUT, EXIT_BUSY, EXIT_CRASH, EXIT_OK
from holdem.instance.metrics import Heartbeat, Metrics
from holdem.instance.pipes import log_to_file_when_stderr_is_gone
from holdem.instance.progress import ProgressState
from holdem.solver.solver import Solver, SolverSettings
from holdem.storage import checkpoint as ckpt

if TYPE_CHECKING:
    from holdem.games.hunl.game import HunlGame
    from holdem.games.tree import Game

__all__ = ["BadInput", "TrainOptions", "run_training", "settings_from_config"]

log = logging.getLogger("holdem.train")

CHUNK_SECONDS = 0.1  # work between looks at the clock, the stop flag and the checkpoint schedule
# With W > 1 every chunk ends at a barrier, where a worker descheduled by a busy machine holds up the
# others: longer chunks make that rarer (a stop still waits at most about a second).
CHUNK_SECONDS_WORKERS = 1.0
MAX_WORKERS = 1024
# Where log lines go once stderr's reader is gone: the file holdemd appends the child's stderr to.
INSTANCE_LOG = "train.log"


@dataclass(frozen=True, slots=True)
class TrainOptions:
    config_path: Path | None  # None: with resume, the config of the instance's newest checkpoint
    instance_dir: Path
    iters: int | None = None
    time_budget_s: float | None = None
    seed: int | None = None
    resume: bool = False
    events: bool = False
    buckets_root: Path = Path("buckets")  # where hold'em bucket sets are stored, shared by instances
    workers: int | None = None  # overrides the config's `workers`


def settings_from_config(cfg: TrainConfig) -> SolverSettings:
    return SolverSettings(
        algorithm=cfg.algorithm,
        linear_averaging=cfg.cfr.averaging == "linear",
        linear_regrets=cfg.cfr.linear_regrets,
        dcfr_alpha=cfg.cfr.dcfr_alpha,
        dcfr_beta=cfg.cfr.dcfr_beta,
        dcfr_gamma=cfg.cfr.dcfr_gamma,
        prune=cfg.pruning.enabled,
        prune_threshold=cfg.pruning.threshold,
        prune_probability=cfg.pruning.probability,
        prune_start=cfg.pruning.start_iteration,
    )


def run_training(opts: TrainOptions) -> int:
    """Run one instance to its target or until told to stop; returns the process exit code."""
    events = EventStream(opts.events)
    try:
        cfg = _load_config(opts)
        if opts.seed is not None or opts.workers is not None:
            cfg = _override(cfg, opts)
        _check_targets(opts)
    except (ConfigError, BadInput) as exc:
        return _fail(events, str(exc), EXIT_BAD_INPUT)
    opts.instance_dir.mkdir(parents=True, exist_ok=True)
    lock = _lock_instance_dir(opts.instance_dir)
    if lock is None:
        return _fail(events, f"instance folder {opts.instance_dir} is in use by another process", EXIT_BUSY)
    log_to_file_when_stderr_is_gone(opts.instance_dir / INSTANCE_LOG)
    try:
        return _Trainer(cfg, opts, events).run()
    except (ConfigError, BadInput) as exc:
        return _fail(events, str(exc), EXIT_BAD_INPUT)
    except Exception as exc:  # a crash: reported as data, then the supervisor restarts us
        log.exception("instance crashed")
        return _fail(events, f"{type(exc).__name__}: {exc}", EXIT_CRASH)
    finally:
        os.close(lock)


class _Trainer:
    """The lifecycle of one instance: check the resume point, build, loop, final checkpoint."""

    def __init__(self, cfg: TrainConfig, opts: TrainOptions, events: EventStream) -> None:
        self.cfg, self.opts, self.events = cfg, opts, events
        self.target = opts.iters if opts.iters is not None else (None if opts.time_budget_s else cfg.iterations)
        self.elapsed_before = 0.0
        self.progress = ProgressState(target_iters=self.target, time_budget_s=opts.time_budget_s, workers=cfg.workers)
        self.metrics = Metrics(cfg, self.progress)
        self.stop = StopControl(cfg)
        self.checkpoints = Checkpoints(cfg, opts.instance_dir, solver_config_hash(cfg), events)

    def run(self) -> int:
        # Everything that can refuse the resume without building the game is checked before a
        # progress bar or a heartbeat appears; Kuhn and Leduc build in milliseconds, so theirs too.
        found = self.checkpoints.find_resume_point(self.opts.resume, self.target)
        if self.cfg.game != "hunl":
            self._build(found)
        self.stop.install_signal_handlers()
        start_iter = found.iteration if found else 0
        self.events.emit(
            "started",
            start_iter,
            pid=os.getpid(),
            target_iters=self.target,
            time_budget_s=self.opts.time_budget_s,
            resumed_from=found.iteration if found else None,
            workers=self.cfg.workers,
        )
        if found is not None:
            self.progress.advance(found.iteration, float(found.meta.get("elapsed_s", 0.0)), 0, 0, 0.0)
        heartbeat = Heartbeat(self.cfg, self.progress, self.events)
        heartbeat.start()  # from here on the supervisor hears from us, even while buckets are built
        finished = False
        try:
            if self.cfg.game == "hunl":
                self._build(found)
            log.info(
                "instance %s: %s on %s, seed %d, %d worker(s), target %s",
                self.opts.instance_dir,
                self.cfg.algorithm,
                self.cfg.game,
                self.cfg.seed,
                self.solver.workers,
                self.target or f"{self.opts.time_budget_s} s",
            )
            self.metrics.open_tensorboard(self.opts.instance_dir / "tensorboard", found.iteration if found else None)
            self.metrics.update(self.solver, self.game)  # so that the next heartbeat carries metrics
            finished = self._loop()
            self.metrics.final(self.solver, self.game)
        except BaseException:
            heartbeat.stop(final=False)
            raise
        finally:
            self.metrics.close()
            if hasattr(self, "solver"):
                self.solver.close()
        # The checkpoint is on disk before anything is reported: nothing a report meets (a dead pipe,
        # a full log disk) may cost it. The stream still reads progress, checkpoint, done/stopped.
        heartbeat.halt()
        try:
            written = self.checkpoints.save(self.solver, self.game_hash, self.progress.elapsed_s)
        except BaseException:
            heartbeat.stop(final=False)
            raise
        heartbeat.stop(final=True)  # the last progress carries the final metrics
        self.checkpoints.announce(written)
        outcome = "done" if finished else "stopped"
        self.events.emit(outcome, self.solver.iteration, metrics=self.progress.snapshot()["metrics"])
        log.info("%s at iteration %d", outcome, self.solver.iteration)
        if self.events.dropped:
            log.warning("%d event(s) dropped: the event stream's reader was gone", self.events.dropped)
        return EXIT_OK

    def _build(self, found: ckpt.Checkpoint | None) -> None:
        """The game (building hold'em buckets first if missing), the solver, and its restored state."""
        self.game: Game | HunlGame
        if self.cfg.game == "hunl":
            from holdem.config import AbstractionError
            from holdem.games.hunl.game import load_hunl

            def report(stage: int, name: str) -> None:
                self.progress.set_metrics({"building_buckets": stage})
                log.info("building buckets: %s", name)

            try:
                self.game = load_hunl(self.cfg.hunl, self.opts.buckets_root, build_if_missing=True, report=report)
            except AbstractionError as exc:
                raise BadInput(str(exc)) from None
            self.progress.set_metrics({"building_buckets": None})
        else:
            self.game = load_game(self.cfg.game)
        self.game_hash = self.game.digest()
        settings = settings_from_config(self.cfg)
        if self.cfg.workers > 1 and settings.algorithm != "es-mccfr":
            log.warning(
                "%s sweeps the whole game on one thread; workers: %d is ignored (docs/decisions.md)",
                settings.algorithm,
                self.cfg.workers,
            )
        self.solver = Solver(self.game, settings, seed=self.cfg.seed, workers=self.cfg.workers)
        self.progress.workers = self.solver.workers
        self._chunk_seconds = CHUNK_SECONDS if self.solver.workers == 1 else CHUNK_SECONDS_WORKERS
        if found is not None:
            self.elapsed_before = self.checkpoints.restore(found, self.solver, self.game_hash)

    def _loop(self) -> bool:
        """Train until the target (True) or a stop request (False)."""
        chunk = 1
        started = last_metrics = last_advance = time.monotonic()
        self.stop.training_started()
        while not self._finished(started):
            if self.stop.requested.is_set():
                return False
            n = chunk if self.target is None else min(chunk, self.target - self.solver.iteration)
            n = self.stop.limit(self.solver.iteration, n)
            t0 = time.monotonic()
            visits = self.solver.run(n)  # returns when every worker is at a traversal boundary
            chunk = _next_chunk(chunk, n, time.monotonic() - t0, self._chunk_seconds)
            now = time.monotonic()
            # Speeds count wall time, metrics and checkpoints included: what the instance delivers.
            self.progress.advance(self.solver.iteration, self._elapsed(started), n, visits, now - last_advance)
            last_advance = now
            if now - last_metrics >= self.cfg.metrics.progress_interval_s:
                last_metrics = now
                self.metrics.update(self.solver, self.game)
            if self.stop.due(self.solver.iteration) and not self._finished(started):
                self.checkpoints.write(self.solver, self.game_hash, self.progress.elapsed_s)
                self.stop.written()
        return True

    def _finished(self, started: float) -> bool:
        if self.target is not None:
            return self.solver.iteration >= self.target
        return self._elapsed(started) >= (self.opts.time_budget_s or 0.0)

    def _elapsed(self, started: float) -> float:
        return self.elapsed_before + (time.monotonic() - started)


def _next_chunk(chunk: int, done: int, seconds: float, goal_s: float = CHUNK_SECONDS) -> int:
    """Size the next chunk to take about goal_s, growing at most 4x at a time."""
    if done < chunk or seconds <= 0:
        return chunk
    ideal = done * goal_s / seconds
    return max(1, min(int(ideal), chunk * 4))


def _load_config(opts: TrainOptions) -> TrainConfig:
    """The --config file, or with --resume and no --config the config the newest checkpoint was trained
    with (the checkpoint holds it whole, so the file is not needed to continue)."""
    from holdem.config import config_from_mapping

    if opts.config_path is not None:
        return load_config(opts.config_path)
    if not opts.resume:
        raise BadInput("--config is required to start an instance (with --resume it defaults to the checkpoint's)")
    manifest = ckpt.newest_manifest(opts.instance_dir)
    if manifest is None or "config" not in manifest:
        raise BadInput(f"{opts.instance_dir} has no checkpoint that holds a config; pass --config")
    return config_from_mapping(manifest["config"])


def _override(cfg: TrainConfig, opts: TrainOptions) -> TrainConfig:
    from holdem.config import config_from_mapping

    data = config_to_mapping(cfg)
    if opts.seed is not None:
        if opts.seed < 0 or opts.seed > 2**63 - 1:
            raise BadInput(f"--seed must be in [0, 2^63-1], got {opts.seed}")
        data["seed"] = opts.seed
    if opts.workers is not None:
        if not 1 <= opts.workers <= MAX_WORKERS:
            raise BadInput(f"--workers must be a whole number in [1, {MAX_WORKERS}], got {opts.workers}")
        data["workers"] = opts.workers
    return config_from_mapping(data)


def _check_targets(opts: TrainOptions) -> None:
    if opts.iters is not None and opts.time_budget_s is not None:
        raise BadInput("--iters and --time-budget are alternatives; give one")
    if opts.iters is not None and opts.iters < 1:
        raise BadInput(f"--iters must be a whole number >= 1, got {opts.iters}")
    if opts.time_budget_s is not None and not (opts.time_budget_s > 0 and math.isfinite(opts.time_budget_s)):
        raise BadInput(f"--time-budget must be a number of seconds > 0, got {opts.time_budget_s}")


def _lock_instance_dir(path: Path) -> int | None:
    """An exclusive lock on the folder for this process's lifetime: no instance ever runs twice."""
    fd = os.open(path / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _fail(events: EventStream, message: str, code: int) -> int:
    log.error("%s", message)
    events.emit("error", 0, message=message, permanent=code == EXIT_BAD_INPUT)
    return code

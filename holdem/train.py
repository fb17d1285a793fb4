"""One single-worker solver instance: the loop behind ``holdem train`` (ARCHITECTURE.md, "The instance").

Invariants:
* Everything that decides the future is in the checkpoint (tables, generator state, iteration), and
  the kernels are pure functions of it, so a resumed run ends bit-identical to an uninterrupted one;
  how the work is chunked between checkpoints and progress reports never changes the result.
* SIGTERM/SIGINT only set a flag (the handler does no work); the loop notices it at the next chunk
  boundary, writes a checkpoint, sends ``stopped`` and exits 0.
* A heartbeat thread sends ``progress`` at the configured interval even while a kernel runs (the
  kernels release the GIL) or compiles, so the supervisor can tell a busy instance from a hung one.
"""

from __future__ import annotations

import fcntl
import logging
import math
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from holdem import checkpoint as ckpt
from holdem.config import ConfigError, TrainConfig, config_to_mapping, load_config, solver_config_hash
from holdem.events import EventStream
from holdem.games import load_game
from holdem.progress import ProgressBar, ProgressState
from holdem.solver.solver import Solver, SolverSettings, SolverState

log = logging.getLogger("holdem.train")

EXIT_OK, EXIT_CRASH, EXIT_BAD_INPUT, EXIT_BUSY = 0, 1, 2, 3
CHUNK_SECONDS = 0.1  # work between looks at the clock, the stop flag and the checkpoint schedule


class BadInput(Exception):
    """A problem with the configuration or the instance folder: exit 2, never retried."""


@dataclass(frozen=True, slots=True)
class TrainOptions:
    config_path: Path
    instance_dir: Path
    iters: int | None = None
    time_budget_s: float | None = None
    seed: int | None = None
    resume: bool = False
    events: bool = False
    buckets_root: Path = Path("buckets")  # where hold'em bucket sets are stored, shared by instances


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
        cfg = load_config(opts.config_path)
        if opts.seed is not None:
            cfg = _with_seed(cfg, opts.seed)
        _check_targets(opts)
    except (ConfigError, BadInput) as exc:
        return _fail(events, str(exc), EXIT_BAD_INPUT)
    opts.instance_dir.mkdir(parents=True, exist_ok=True)
    lock = _lock_instance_dir(opts.instance_dir)
    if lock is None:
        return _fail(events, f"instance folder {opts.instance_dir} is in use by another process", EXIT_BUSY)
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
    def __init__(self, cfg: TrainConfig, opts: TrainOptions, events: EventStream) -> None:
        self.cfg, self.opts, self.events = cfg, opts, events
        self.solver_hash = solver_config_hash(cfg)
        self.target = opts.iters if opts.iters is not None else (None if opts.time_budget_s else cfg.iterations)
        self.elapsed_before = 0.0
        self.resumed_from: int | None = None
        self.stop_requested = threading.Event()
        self.progress = ProgressState(target_iters=self.target, time_budget_s=opts.time_budget_s)
        self.progress.set_metrics({"avg_regret": None})  # null until the solver has run
        self.scalars = None
        self.avg_regret_due = 0.0  # monotonic time when the average regret may be computed again

    # ------------------------------------------------------------------ lifecycle
    def run(self) -> int:
        found = self._find_resume_point()
        self._install_signal_handlers()
        self.events.emit("started", found.iteration if found else 0, pid=os.getpid(), target_iters=self.target,
                         time_budget_s=self.opts.time_budget_s, resumed_from=found.iteration if found else None)
        if found is not None:
            self.progress.advance(found.iteration, float(found.meta.get("elapsed_s", 0.0)), 0, 0, 0.0)
        heartbeat = _Heartbeat(self)
        heartbeat.start()  # from here on the supervisor hears from us, even while buckets are built
        try:
            self._build(found)
            log.info("instance %s: %s on %s, seed %d, target %s", self.opts.instance_dir, self.cfg.algorithm,
                     self.cfg.game, self.cfg.seed, self.target or f"{self.opts.time_budget_s} s")
            if self.cfg.metrics.tensorboard:
                from holdem.tensorboard_log import ScalarLog

                self.scalars = ScalarLog(self.opts.instance_dir / "tensorboard", purge_from_step=self.resumed_from)
            self._update_metrics()  # so that the next heartbeat carries metrics
            finished = self._loop()
        finally:
            heartbeat.stop()
            if self.scalars is not None:
                self.scalars.close()
        self._checkpoint()
        self.events.emit("done" if finished else "stopped", self.solver.iteration)
        log.info("%s at iteration %d", "done" if finished else "stopped", self.solver.iteration)
        return EXIT_OK

    def _build(self, found: ckpt.Checkpoint | None) -> None:
        """The game (building hold'em buckets first if missing), the solver, and its restored state."""
        if self.cfg.game == "hunl":
            from holdem.games.hunl.betting import AbstractionError
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
        self.solver = Solver(self.game, settings_from_config(self.cfg), seed=self.cfg.seed)
        if found is not None:
            self._restore(found)

    def _loop(self) -> bool:
        """Train until the target (True) or a stop request (False)."""
        chunk = 1
        started = time.monotonic()
        last_ckpt = started
        last_metrics = 0.0
        every_iters = self.cfg.checkpoint.every_iterations
        last_advance = started
        while not self._finished(started):
            if self.stop_requested.is_set():
                return False
            n = chunk
            if self.target is not None:
                n = min(n, self.target - self.solver.iteration)
            if every_iters:
                n = min(n, every_iters - self.solver.iteration % every_iters)
            t0 = time.monotonic()
            visits = self.solver.run(n)
            dt = time.monotonic() - t0
            chunk = _next_chunk(chunk, n, dt)
            now = time.monotonic()
            # Speeds count wall time, metrics and checkpoints included: what the instance delivers.
            self.progress.advance(self.solver.iteration, self._elapsed(started), n, visits, now - last_advance)
            last_advance = now
            if now - last_metrics >= self.cfg.metrics.progress_interval_s:
                last_metrics = now
                self._update_metrics()
            due_iters = every_iters and self.solver.iteration % every_iters == 0
            due_secs = self.cfg.checkpoint.every_seconds and now - last_ckpt >= self.cfg.checkpoint.every_seconds
            if (due_iters or due_secs) and not self._finished(started):
                self._checkpoint()
                last_ckpt = time.monotonic()
        return True

    def _finished(self, started: float) -> bool:
        if self.target is not None:
            return self.solver.iteration >= self.target
        return self._elapsed(started) >= (self.opts.time_budget_s or 0.0)

    def _elapsed(self, started: float) -> float:
        return self.elapsed_before + (time.monotonic() - started)

    # ------------------------------------------------------------------ metrics
    def _update_metrics(self) -> None:
        it = self.solver.iteration
        metrics: dict[str, float] = {}
        if time.monotonic() >= self.avg_regret_due:
            # A pass over every infoset: ~10 ms on hunl-default; kept under 1% of the time.
            t0 = time.monotonic()
            metrics["avg_regret"] = self.solver.average_regret()
            self.avg_regret_due = t0 + 100 * (time.monotonic() - t0)
        every = self.cfg.metrics.exploitability_every_s
        if every and self.cfg.game != "hunl" and time.monotonic() - self.progress.last_exploitability_at >= every:
            from holdem.evaluation.exploitability import exploitability

            metrics["exploitability"] = exploitability(self.game, self.solver.average_strategy()).exploitability
            self.progress.last_exploitability_at = time.monotonic()
        self.progress.set_metrics(metrics)
        if self.scalars is not None:
            self.scalars.add("speed/iterations_per_s", self.progress.ips, it)
            self.scalars.add("speed/node_visits_per_s", self.progress.nodes_per_s, it)
            for name, value in metrics.items():
                self.scalars.add(f"quality/{name}", value, it)

    # ------------------------------------------------------------------ checkpoints
    def _checkpoint(self) -> None:
        s = self.solver.state()
        meta: dict[str, Any] = {
            "game": self.cfg.game,
            "game_hash": self.game_hash,
            "solver_config_hash": self.solver_hash,
            "config": config_to_mapping(self.cfg),
            "elapsed_s": round(self.progress.elapsed_s, 3),
            "rng_state": [int(x) for x in s.rng],
        }
        written = ckpt.write_checkpoint(self.opts.instance_dir, s.iteration,
                                        {"regrets": s.regrets, "strategy_sum": s.strategy_sum}, meta,
                                        keep=self.cfg.checkpoint.keep)
        self.events.emit("checkpoint", s.iteration, path=str(written.path), bytes=written.bytes,
                         sha256=written.sha256)
        log.info("checkpoint %s (%d bytes)", written.path, written.bytes)

    def _find_resume_point(self) -> ckpt.Checkpoint | None:
        existing = ckpt.list_checkpoints(self.opts.instance_dir)
        if not self.opts.resume:
            if existing:
                raise BadInput(f"instance folder {self.opts.instance_dir} already has checkpoints; "
                               "pass --resume to continue it, or choose an empty folder")
            return None
        found = ckpt.latest_valid_checkpoint(
            self.opts.instance_dir, on_skip=lambda p, why: log.warning("skipping checkpoint %s: %s", p, why))
        if found is None and existing:
            log.warning("no checkpoint in %s verifies; starting from scratch", self.opts.instance_dir)
        if found is not None and self.target is not None and found.iteration > self.target:
            raise BadInput(f"checkpoint {found.path} is at iteration {found.iteration}, past the target "
                           f"of {self.target}")
        return found

    def _restore(self, found: ckpt.Checkpoint) -> None:
        meta = found.meta
        if meta.get("game_hash") != self.game_hash:
            raise BadInput(f"checkpoint {found.path} belongs to another game, abstraction or bucket set "
                           f"({meta.get('game')!r}); refusing to resume")
        if meta.get("solver_config_hash") != self.solver_hash:
            raise BadInput(f"checkpoint {found.path} was made with another algorithm, seed or schedule; "
                           "refusing to resume (start a new instance folder instead)")
        arrays = found.load_arrays()
        rng = np.array([int(x) for x in meta["rng_state"]], dtype=np.uint64)
        self.solver.restore(SolverState(found.iteration, arrays["regrets"], arrays["strategy_sum"], rng))
        self.elapsed_before = float(meta.get("elapsed_s", 0.0))
        self.resumed_from = found.iteration
        log.info("resumed from %s", found.path)

    def _install_signal_handlers(self) -> None:
        def request_stop(signum: int, frame: object) -> None:
            self.stop_requested.set()  # only record it; the loop acts at the next chunk boundary

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)


class _Heartbeat:
    """Sends progress at the configured interval from its own thread (events) or draws a bar (terminal)."""

    def __init__(self, trainer: _Trainer) -> None:
        self._t = trainer
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._bar = None if trainer.opts.events else ProgressBar()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if self._bar is not None:
            self._bar.finish(self._t.progress.snapshot())

    def _run(self) -> None:
        interval = self._t.cfg.metrics.progress_interval_s
        while not self._stop.wait(interval):
            snap = self._t.progress.snapshot()
            if self._bar is not None:
                self._bar.draw(snap)
                continue
            self._t.events.emit("progress", snap["iter"], target_iters=snap["target_iters"],
                                time_budget_s=snap["time_budget_s"], elapsed_s=snap["elapsed_s"],
                                ips=snap["ips"], nodes_per_s=snap["nodes_per_s"], metrics=snap["metrics"])


def _next_chunk(chunk: int, done: int, seconds: float) -> int:
    """Size the next chunk to take about CHUNK_SECONDS, growing at most 4x at a time."""
    if done < chunk or seconds <= 0:
        return chunk
    ideal = done * CHUNK_SECONDS / seconds
    return max(1, min(int(ideal), chunk * 4))


def _with_seed(cfg: TrainConfig, seed: int) -> TrainConfig:
    from holdem.config import config_from_mapping

    if seed < 0 or seed > 2**63 - 1:
        raise BadInput(f"--seed must be in [0, 2^63-1], got {seed}")
    data = config_to_mapping(cfg)
    data["seed"] = seed
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

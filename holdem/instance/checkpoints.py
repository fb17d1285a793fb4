"""Stop and checkpoint handling of one instance: signals, the checkpoint schedule, writing and resuming.

Invariants:
* SIGTERM/SIGINT only set a flag (the handler does no work); the loop looks at it after every chunk,
  which ends when every worker has finished its traversal (``Solver.run`` is the barrier), so a
  checkpoint only ever sees whole iterations.
* A checkpoint holds everything that decides the future: tables, iteration, elapsed time and the
  generator state of every worker (``rng_states``; ``rng_state`` is worker 0's, as in format 1).
* A resume is refused (``BadInput``) before any training starts when the checkpoint belongs to another
  game, abstraction, bucket set, algorithm, seed or schedule; another number of workers is allowed and
  logged.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from holdem.config import TrainConfig, config_to_mapping
from holdem.instance.events import EventStream
from holdem.solver.solver import Solver, SolverState
from holdem.storage import checkpoint as ckpt

log = logging.getLogger("holdem.train")


class BadInput(Exception):
    """A problem with the configuration or the instance folder: exit 2, never retried."""


class StopControl:
    """The stop flag (set by signals) and the checkpoint schedule (iterations and seconds, and a first
    checkpoint ``first_after_seconds`` into the training of every launch)."""

    def __init__(self, cfg: TrainConfig) -> None:
        self.requested = threading.Event()
        self.every_iters = cfg.checkpoint.every_iterations
        self.every_seconds = cfg.checkpoint.every_seconds
        self.first_after = cfg.checkpoint.first_after_seconds
        self._last = time.monotonic()
        self._first_due: float | None = None  # monotonic time of the first checkpoint, once training runs

    def training_started(self) -> None:
        """The loop begins: the first checkpoint falls due first_after seconds from now."""
        if self.first_after:
            self._first_due = time.monotonic() + self.first_after

    def install_signal_handlers(self) -> None:
        def request_stop(signum: int, frame: object) -> None:
            self.requested.set()  # only record it; the loop acts at the next chunk boundary

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)

    def limit(self, iteration: int, n: int) -> int:
        """n, cut so that a chunk never runs past a checkpoint due by iteration count."""
        if self.every_iters:
            return min(n, self.every_iters - iteration % self.every_iters)
        return n

    def due(self, iteration: int) -> bool:
        by_iters = bool(self.every_iters) and iteration % self.every_iters == 0
        by_secs = bool(self.every_seconds) and time.monotonic() - self._last >= self.every_seconds
        first = self._first_due is not None and time.monotonic() >= self._first_due
        return by_iters or by_secs or first

    def written(self) -> None:
        self._last = time.monotonic()
        self._first_due = None  # any checkpoint of this launch is its first


class Checkpoints:
    """Writes this instance's checkpoints and finds, checks and restores the one to resume from."""

    def __init__(self, cfg: TrainConfig, instance_dir: Path, solver_hash: str, events: EventStream) -> None:
        self.cfg, self.dir, self.solver_hash, self.events = cfg, instance_dir, solver_hash, events

    def write(self, solver: Solver, game_hash: str, elapsed_s: float) -> None:
        self.announce(self.save(solver, game_hash, elapsed_s))

    def save(self, solver: Solver, game_hash: str, elapsed_s: float) -> ckpt.WrittenCheckpoint:
        """Write the checkpoint, in place when this returns; nothing is reported yet."""
        s = solver.state()
        states = [[int(x) for x in row] for row in s.rng]
        meta: dict[str, Any] = {
            "game": self.cfg.game,
            "game_hash": game_hash,
            "solver_config_hash": self.solver_hash,
            "config": config_to_mapping(self.cfg),
            "elapsed_s": round(elapsed_s, 3),
            "rng_state": states[0],
            "workers": len(states),
            "rng_states": states,
        }
        return ckpt.write_checkpoint(
            self.dir,
            s.iteration,
            {"regrets": s.regrets, "strategy_sum": s.strategy_sum},
            meta,
            keep=self.cfg.checkpoint.keep,
        )

    def announce(self, written: ckpt.WrittenCheckpoint) -> None:
        """The `checkpoint` event and log line of a checkpoint in place."""
        self.events.emit(
            "checkpoint", written.iteration, path=str(written.path), bytes=written.bytes, sha256=written.sha256
        )
        log.info("checkpoint %s (%d bytes)", written.path, written.bytes)

    def find_resume_point(self, resume: bool, target: int | None) -> ckpt.Checkpoint | None:
        """The checkpoint to continue from (None: a fresh run), checked as far as the config allows."""
        existing = ckpt.list_checkpoints(self.dir)
        if not resume:
            if existing:
                raise BadInput(f"instance folder {self.dir} already has checkpoints; {self._what_works()}")
            return None
        found = ckpt.latest_valid_checkpoint(
            self.dir, on_skip=lambda p, why: log.warning("skipping checkpoint %s: %s", p, why)
        )
        if found is None:
            if existing:
                log.warning("--resume: no checkpoint in %s verifies; starting a fresh run from iteration 0", self.dir)
            else:
                log.info("--resume: %s has no checkpoint yet; starting a fresh run from iteration 0", self.dir)
            return None
        if target is not None and found.iteration > target:
            raise BadInput(f"checkpoint {found.path} is at iteration {found.iteration}, past the target of {target}")
        if found.meta.get("game") != self.cfg.game:
            raise BadInput(
                f"checkpoint {found.path} belongs to game {found.meta.get('game')!r}, the config trains "
                f"{self.cfg.game!r}; refusing to resume: {self._what_works()}"
            )
        if found.meta.get("solver_config_hash") != self.solver_hash:
            raise BadInput(
                f"checkpoint {found.path} was made with another algorithm, seed or schedule; "
                f"refusing to resume: {self._what_works()}"
            )
        return found

    def _what_works(self) -> str:
        """Advice for a folder that has checkpoints, from what its newest one holds: only what would work."""
        held = ckpt.newest_manifest(self.dir) or {}
        game = held.get("game", self.cfg.game)
        if game != self.cfg.game:
            return (
                f"this folder holds a {game} run; use another --instance-dir, or --config of game {game} "
                "(--resume without --config continues it)"
            )
        if held.get("solver_config_hash", self.solver_hash) != self.solver_hash:
            return (
                "this folder holds a run of another algorithm, seed or schedule; use another --instance-dir "
                "(--resume without --config continues it)"
            )
        return "pass --resume to continue it, or choose an empty folder"

    def restore(self, found: ckpt.Checkpoint, solver: Solver, game_hash: str) -> float:
        """Load found into solver; returns the training seconds recorded in it."""
        meta = found.meta
        if meta.get("game_hash") != game_hash:
            raise BadInput(
                f"checkpoint {found.path} belongs to another game, abstraction or bucket set "
                f"({meta.get('game')!r}); refusing to resume"
            )
        arrays = found.load_arrays()
        raw = meta.get("rng_states", [meta["rng_state"]])
        rng = np.array([[int(x) for x in row] for row in raw], dtype=np.uint64)
        change = solver.restore(SolverState(found.iteration, arrays["regrets"], arrays["strategy_sum"], rng))
        if change is not None:
            log.warning("resume: %s", change)
        log.info("resumed from %s", found.path)
        return float(meta.get("elapsed_s", 0.0))

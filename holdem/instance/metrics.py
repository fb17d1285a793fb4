"""What one instance reports while it trains: metrics, TensorBoard scalars and the heartbeat.

Invariants:
* A metric never costs more than about 1% of training: the average regret is recomputed at most
  every 100x the time it takes, exploitability (small games only) at most every
  ``metrics.exploitability_every_s``; between passes the last value is repeated.
* ``final()`` computes every metric at the final iteration, whatever the schedule, so the last
  ``progress`` event, the ``done``/``stopped`` event and TensorBoard end on the value the policy has.
* The heartbeat thread sends ``progress`` at the configured interval even while the kernels run
  (they release the GIL) or compile, so a supervisor can tell a busy instance from a hung one.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from pathlib import Path
from typing import Any

from holdem.config import TrainConfig
from holdem.instance.events import EventStream
from holdem.instance.progress import ProgressState, progress_text
from holdem.progress_bar import ProgressBar
from holdem.solver.solver import Solver

log = logging.getLogger("holdem.train")


class Metrics:
    """Computes the instance's quality metrics into the shared ProgressState and TensorBoard."""

    def __init__(self, cfg: TrainConfig, progress: ProgressState) -> None:
        self.cfg, self.progress = cfg, progress
        self.progress.set_metrics({"avg_regret": None})  # null until the solver has run
        self.scalars: Any = None  # a ScalarLog once open_tensorboard is called
        self._avg_regret_due = 0.0  # monotonic time when the average regret may be computed again

    def open_tensorboard(self, folder: Path, purge_from_step: int | None) -> None:
        if self.cfg.metrics.tensorboard:
            from holdem.instance.tensorboard import ScalarLog

            try:
                self.scalars = ScalarLog(folder, purge_from_step=purge_from_step)
            except OSError as exc:
                if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                    raise
                log.warning("no TensorBoard scalars this time: the disk is full (%s)", exc)

    def update(self, solver: Solver, game: Any, force: bool = False) -> dict[str, float]:
        """Recompute what is due (everything when force) and log it; returns what was computed."""
        it = solver.iteration
        metrics: dict[str, float] = {}
        if force or time.monotonic() >= self._avg_regret_due:
            # A pass over every infoset: ~10 ms on hunl-default; kept under 1% of the time.
            t0 = time.monotonic()
            metrics["avg_regret"] = solver.average_regret()
            self._avg_regret_due = t0 + 100 * (time.monotonic() - t0)
        every = self.cfg.metrics.exploitability_every_s
        due = force or time.monotonic() - self.progress.last_exploitability_at >= every
        if every and self.cfg.game != "hunl" and due:
            from holdem.evaluation.exploitability import exploitability

            metrics["exploitability"] = exploitability(game, solver.average_strategy()).exploitability
            self.progress.last_exploitability_at = time.monotonic()
        self.progress.set_metrics(metrics)
        if self.scalars is not None:
            self.scalars.add("speed/iterations_per_s", self.progress.ips, it)
            self.scalars.add("speed/node_visits_per_s", self.progress.nodes_per_s, it)
            for name, value in metrics.items():
                self.scalars.add(f"quality/{name}", value, it)
            self._report_dropped()
        return metrics

    def final(self, solver: Solver, game: Any) -> None:
        """Every metric at the final iteration (the last progress, done and TensorBoard carry it)."""
        self.update(solver, game, force=True)

    def close(self) -> None:
        if self.scalars is not None:
            self.scalars.close()
            self._report_dropped()

    def _report_dropped(self) -> None:
        """Points a full disk cost TensorBoard, in the progress metrics (absent while there are none)."""
        if self.scalars.dropped:
            self.progress.set_metrics({"tensorboard_dropped": self.scalars.dropped})


class Heartbeat:
    """Sends progress at the configured interval from its own thread (events) or draws a bar (terminal)."""

    def __init__(self, cfg: TrainConfig, progress: ProgressState, events: EventStream) -> None:
        self._interval = cfg.metrics.progress_interval_s
        self._progress, self._events = progress, events
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._bar = None if events.enabled else ProgressBar()

    def start(self) -> None:
        self._thread.start()

    def halt(self) -> None:
        """Stop the thread without a last word (stopping twice is harmless)."""
        self._stop.set()
        self._thread.join(timeout=5)

    def stop(self, final: bool) -> None:
        """Stop the thread; when final, send (or draw) the last progress, the final metrics included."""
        self.halt()
        if final:
            self.beat()
        elif self._bar is not None:
            self._bar.abandon()

    def beat(self) -> None:
        snap = self._progress.snapshot()
        if self._bar is not None:
            text = progress_text(snap, self._bar)
            self._bar.finish(text) if self._stop.is_set() else self._bar.show(text)
            return
        self._events.emit(
            "progress",
            snap["iter"],
            target_iters=snap["target_iters"],
            time_budget_s=snap["time_budget_s"],
            elapsed_s=snap["elapsed_s"],
            ips=snap["ips"],
            nodes_per_s=snap["nodes_per_s"],
            workers=snap["workers"],
            metrics=snap["metrics"],
        )

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.beat()

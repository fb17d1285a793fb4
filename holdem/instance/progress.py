"""Progress of one instance, shared between the training loop and the heartbeat thread.

The loop writes after every chunk; the heartbeat reads a consistent snapshot under a lock. Speeds are
smoothed over the last few seconds so a report says how fast the instance runs now, not on average.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from holdem.progress_bar import ProgressBar, clock

_WINDOW_S = 3.0


class ProgressState:
    def __init__(self, target_iters: int | None, time_budget_s: float | None, workers: int = 1) -> None:
        self._lock = threading.Lock()
        self.workers = workers  # worker threads of the instance; ips and nodes_per_s count them all
        self.target_iters = target_iters
        self.time_budget_s = time_budget_s
        self.iteration = 0
        self.elapsed_s = 0.0
        self.metrics: dict[str, float | None] = {}  # None: not measured yet
        self.last_exploitability_at = float("-inf")
        self._window: deque[tuple[float, int, int, float]] = deque()  # (when, iters, visits, seconds)

    def advance(self, iteration: int, elapsed_s: float, iters: int, visits: int, seconds: float) -> None:
        now = time.monotonic()
        with self._lock:
            self.iteration = iteration
            self.elapsed_s = elapsed_s
            if iters:
                self._window.append((now, iters, visits, seconds))
            while self._window and now - self._window[0][0] > _WINDOW_S:
                self._window.popleft()

    def set_metrics(self, metrics: Mapping[str, float | None]) -> None:
        with self._lock:
            self.metrics = {**self.metrics, **metrics}

    @property
    def ips(self) -> float:
        with self._lock:
            return self._rate(1)

    @property
    def nodes_per_s(self) -> float:
        with self._lock:
            return self._rate(2)

    def _rate(self, field: int) -> float:
        seconds = sum(w[3] for w in self._window)
        return sum(w[field] for w in self._window) / seconds if seconds > 0 else 0.0

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "iter": self.iteration,
                "target_iters": self.target_iters,
                "time_budget_s": self.time_budget_s,
                "elapsed_s": round(self.elapsed_s, 3),
                "ips": round(self._rate(1), 1),
                "nodes_per_s": round(self._rate(2), 1),
                "workers": self.workers,
                "metrics": dict(self.metrics),
            }


def progress_text(snap: dict[str, Any], bar: ProgressBar) -> str:
    """The training bar's line from a snapshot: iterations against the target (or seconds against the
    budget), the current speed, the training time (earlier segments included) and what is left, and the
    latest metrics."""
    elapsed = snap["elapsed_s"]
    if snap["target_iters"]:
        frac = min(1.0, snap["iter"] / snap["target_iters"])
        goal = f"{snap['iter']:,}/{snap['target_iters']:,} it"
        todo = max(0, snap["target_iters"] - snap["iter"])
        left = todo / snap["ips"] if snap["ips"] > 0 else (0.0 if todo == 0 else None)
    else:
        budget = snap["time_budget_s"] or 1.0
        frac = min(1.0, elapsed / budget)
        goal = f"{snap['iter']:,} it"
        left = max(0.0, budget - elapsed)
    extra = "".join(f"  {k} {v:.3g}" for k, v in snap["metrics"].items() if v is not None)
    return f"{bar.gauge(frac)}  {goal}  {snap['ips']:,.0f} it/s  {clock(elapsed, left)}{extra}"

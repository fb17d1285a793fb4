"""Progress of one instance, shared between the training loop and the heartbeat thread.

The loop writes after every chunk; the heartbeat reads a consistent snapshot under a lock. Speeds are
smoothed over the last few seconds so a report says how fast the instance runs now, not on average.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from typing import Any, TextIO

_WINDOW_S = 3.0


class ProgressState:
    def __init__(self, target_iters: int | None, time_budget_s: float | None, workers: int = 1) -> None:
        self._lock = threading.Lock()
        self.workers = workers  # worker threads of the instance; ips and nodes_per_s count them all
        self.target_iters = target_iters
        self.time_budget_s = time_budget_s
        self.iteration = 0
        self.elapsed_s = 0.0
        self.metrics: dict[str, float] = {}
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

    def set_metrics(self, metrics: dict[str, float]) -> None:
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


class ProgressBar:
    """A one-line bar for a person at a terminal (stderr); plain lines every 10 s when not a TTY."""

    def __init__(self, out: TextIO | None = None, width: int = 30) -> None:
        self._out = out if out is not None else sys.stderr
        self._tty = self._out.isatty()
        self._width = width
        self._last_line = 0.0
        self._drawn = False

    def _text(self, snap: dict[str, Any]) -> str:
        if snap["target_iters"]:
            frac = min(1.0, snap["iter"] / snap["target_iters"])
            goal = f"{snap['iter']:,}/{snap['target_iters']:,} it"
        else:
            frac = min(1.0, snap["elapsed_s"] / (snap["time_budget_s"] or 1.0))
            goal = f"{snap['iter']:,} it, {snap['elapsed_s']:.0f}/{snap['time_budget_s']:.0f} s"
        filled = int(frac * self._width)
        bar = "#" * filled + "-" * (self._width - filled)
        extra = "".join(f"  {k} {v:.3g}" for k, v in snap["metrics"].items() if v is not None)
        return f"[{bar}] {frac:6.1%}  {goal}  {snap['ips']:,.0f} it/s{extra}"

    def draw(self, snap: dict[str, Any]) -> None:
        self._drawn = True
        if self._tty:
            self._out.write("\r" + self._text(snap) + "\x1b[K")
            self._out.flush()
        elif time.monotonic() - self._last_line >= 10.0:
            self._last_line = time.monotonic()
            self._out.write(self._text(snap) + "\n")
            self._out.flush()

    def abandon(self) -> None:
        """End without a final bar (the run failed): only end a half-drawn terminal line."""
        if self._tty and self._drawn:
            self._out.write("\n")
            self._out.flush()

    def finish(self, snap: dict[str, Any]) -> None:
        self._out.write(("\r" if self._tty else "") + self._text(snap) + "\n")
        self._out.flush()

    def count_text(self, label: str, done: int, total: int, unit: str, per_s: float) -> str:
        """A bar in real units: '[###---]  40.0%  river strength 53,784/134,459 boards  8,210 boards/s'."""
        frac = min(1.0, done / total) if total > 0 else 0.0
        filled = int(frac * self._width)
        rate = f"  {per_s:,.0f} {unit}/s" if per_s > 0 else ""
        return f"[{'#' * filled}{'-' * (self._width - filled)}] {frac:6.1%}  {label} {done:,}/{total:,} {unit}{rate}"

    def draw_count(self, label: str, done: int, total: int, unit: str, per_s: float = 0.0) -> None:
        """Redraw in place on a terminal; elsewhere a line every 10 s and one when a stage completes."""
        text = self.count_text(label, done, total, unit, per_s)
        if self._tty:
            self._out.write("\r" + text + "\x1b[K" + ("\n" if done >= total else ""))
        elif done >= total or time.monotonic() - self._last_line >= 10.0:
            self._last_line = time.monotonic()
            self._out.write(text + "\n")
        self._out.flush()

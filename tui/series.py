"""A bounded time series for plots of runs that last days: when full, every other point is dropped
and the sampling interval doubles, so the series always covers the whole run."""

from __future__ import annotations

import math

HISTORY_POINTS = 600


class History:
    """A bounded time series at whole-run coverage: when full, every other point is dropped and
    the sampling interval doubles, so a week-long run still fits in `capacity` points."""

    __slots__ = ("_last_t", "capacity", "interval", "points")

    def __init__(self, capacity: int = HISTORY_POINTS, interval: float = 1.0) -> None:
        self.capacity = capacity
        self.interval = interval
        self.points: list[tuple[float, float]] = []
        self._last_t = -math.inf

    def add(self, t: float, value: float) -> bool:
        """Record `value` at `t` unless the last point is less than one interval old."""
        if t - self._last_t < self.interval * 0.999:
            return False
        self.points.append((t, value))
        self._last_t = t
        if len(self.points) >= self.capacity:
            self.points = self.points[::2] if len(self.points) % 2 else self.points[1::2]
            self.interval *= 2
        return True

    def values(self) -> list[float]:
        return [v for _, v in self.points]

    def last(self) -> float | None:
        """The newest value (what a finished run last reported), None while empty."""
        return self.points[-1][1] if self.points else None

    def times(self) -> list[float]:
        return [t for t, _ in self.points]

    def __len__(self) -> int:
        return len(self.points)

"""Plot scales that hold still: bounds per view that only widen, on round numbers or decades.

A scale fitted to the visible points each frame makes a sparkline's shape noise (every new
point rescales the rest). Here the bounds are rounded out (1, 2, 5 x 10^k; whole decades on a
log axis) and kept for the view (run and instance shown): they widen when a value leaves them
and never shrink until the view changes. Log axes are drawn on log10 values with ticks labelled
in the values themselves (plotext's own log axis failed on live data).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence


def nice_up(x: float) -> float:
    """The smallest of 1, 2, 5 x 10^k that is >= x (x > 0)."""
    k = math.floor(math.log10(x))
    for m in (1, 2, 5, 10):
        if m * 10**k >= x * (1 - 1e-12):
            return m * 10**k
    return 10 ** (k + 1)


def rounded(values: Sequence[float], log: bool) -> tuple[float, float]:
    """Round bounds around values (log10 values if `log`)."""
    lo, hi = min(values), max(values)
    if log:
        lo, hi = math.floor(lo), math.ceil(hi)
        return (lo, hi) if hi > lo else (lo, lo + 1)
    if lo >= 0:
        return 0.0, nice_up(hi) if hi > 0 else 1.0
    top = nice_up(max(abs(lo), abs(hi)))
    return -top, top


class StickyRange:
    """y bounds for one axis that hold still within a view."""

    __slots__ = ("bounds", "view")

    def __init__(self) -> None:
        self.view: Hashable = None
        self.bounds: tuple[float, float] | None = None

    def fit(self, values: Sequence[float], log: bool, view: Hashable = None) -> tuple[float, float]:
        if view != self.view:
            self.view, self.bounds = view, None
        lo, hi = rounded(values, log)
        if self.bounds is not None:
            lo, hi = min(lo, self.bounds[0]), max(hi, self.bounds[1])
        self.bounds = (lo, hi)
        return lo, hi


def log_values(values: Sequence[float]) -> list[float] | None:
    """log10 of every value, or None if one is not positive (then the axis stays linear)."""
    if not values or min(values) <= 0:
        return None
    return [math.log10(v) for v in values]


def log_ticks(lo: float, hi: float) -> list[float]:
    """Tick positions (log10 units) within [lo, hi]: the decades, plus 2 and 5 x 10^k when there
    are too few decades to read the axis by."""
    decades = [float(k) for k in range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1)]
    if len(decades) >= 3:
        step = math.ceil(len(decades) / 5)
        return decades[::step]
    fine = [k + math.log10(m) for k in range(math.floor(lo) - 1, math.ceil(hi) + 1) for m in (1, 2, 5)]
    return [t for t in fine if lo - 1e-9 <= t <= hi + 1e-9]


def linear_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    return [lo + (hi - lo) * i / (n - 1) for i in range(n)]

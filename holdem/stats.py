"""The one confidence interval of the project: a sample mean with its 95% half-width.

Every reported result (a match's mbb/hand, LBR, the search benchmarks) is a mean over independent
deals, so the normal interval of 1.96 standard errors (sample standard deviation, n - 1) fits them all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Z95 = 1.96  # two-sided 95% quantile of the normal distribution


def mean_interval(values: Sequence[float] | np.ndarray, scale: float = 1.0) -> tuple[float, float]:
    """(mean, half-width of its 95% interval) of `values` times `scale`; the half-width is infinite
    below two values (and the mean NaN for none), since one value says nothing of the spread."""
    x = np.asarray(values, dtype=np.float64)
    n = x.shape[0]
    if n == 0:
        return math.nan, math.inf
    mean = float(x.mean()) * scale
    half = Z95 * float(x.std(ddof=1)) * scale / math.sqrt(n) if n > 1 else math.inf
    return mean, half

"""How long to wait before a relaunch: the base delay doubled per recent failure, capped; with jitter
for training instances, so that N instances killed together do not come back in lockstep."""

from __future__ import annotations

import random

from supervisor.config import Tuning


def doubling(tuning: Tuning, n: int) -> float:
    """backoff_base_s * 2**n, at most backoff_cap_s (n is capped at 30 so the power stays small)."""
    return min(tuning.backoff_cap_s, tuning.backoff_base_s * 2 ** min(n, 30))


def jittered(tuning: Tuning, n: int) -> float:
    """`doubling` times a uniform factor in [0.75, 1.25], still at most backoff_cap_s."""
    return min(tuning.backoff_cap_s, doubling(tuning, n) * random.uniform(0.75, 1.25))

"""Regret matching and the per-iteration weights shared by every CFR variant.

Regret matching (Hart & Mas-Colell 2000): play each action in proportion to its positive cumulative
regret, uniformly if none is positive. The average strategy normalises the strategy sums the same way.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from holdem.games.tree import DECISION, BettingTree


class Discounting(NamedTuple):
    """DCFR's exponents (Brown & Sandholm, "Solving Imperfect-Information Games via Discounted Regret
    Minimization", AAAI 2019): after iteration t positive regrets are scaled by t^alpha / (t^alpha + 1),
    negative ones by t^beta / (t^beta + 1), and the strategy sum by (t / (t + 1))^gamma."""

    alpha: float
    beta: float
    gamma: float


class Discount(NamedTuple):
    """The factors of one iteration (``discount``)."""

    positive: float
    negative: float
    strategy: float


@njit(cache=True, inline="always")
def discount(t, d):
    """``Discounting`` d after iteration t (a float)."""
    ta = t**d.alpha
    tb = t**d.beta
    return Discount(ta / (ta + 1.0), tb / (tb + 1.0), (t / (t + 1.0)) ** d.gamma)


@njit(cache=True, inline="always")
def regret_match(regrets, base, n_actions, out, out_base):
    """Write the regret-matching strategy of slots [base, base+n_actions) into out[out_base:].

    Each regret is read once: with lock-free workers another thread may change the table between two
    reads, and a second read would let the probabilities sum to more or less than one.
    """
    total = 0.0
    for a in range(n_actions):
        r = regrets[base + a]
        r = r if r > 0.0 else 0.0
        out[out_base + a] = r
        total += r
    if total > 0.0:
        for a in range(n_actions):
            out[out_base + a] = out[out_base + a] / total
    else:
        u = 1.0 / n_actions
        for a in range(n_actions):
            out[out_base + a] = u


@njit(cache=True)
def normalise_per_infoset(sums, tree, out, positive_part=False):
    """sums normalised within every infoset of ``tree`` (``TreeArrays``) into out, uniform where the total
    is zero.

    On strategy sums this is the average strategy; with positive_part on regrets it is regret
    matching of every infoset at once (negative entries count as zero).
    """
    kind, street, slot, stride = tree.kind, tree.street, tree.slot, tree.bucket_stride
    num_children, num_buckets = tree.num_children, tree.num_buckets
    for n in range(kind.shape[0]):
        if kind[n] != DECISION:
            continue
        na = num_children[n]
        for b in range(num_buckets[street[n]]):
            o = slot[n] + b * stride[n]
            total = 0.0
            for a in range(na):
                x = sums[o + a]
                if x > 0.0 or not positive_part:
                    total += x
            for a in range(na):
                x = sums[o + a]
                if positive_part and not x > 0.0:
                    x = 0.0
                out[o + a] = x / total if total > 0.0 else 1.0 / na


def average_strategy(tree: BettingTree, strategy_sum: np.ndarray) -> np.ndarray:
    out = np.empty(tree.n_slots, dtype=np.float64)
    out[:] = 0.0  # slots outside every infoset (none today) stay defined
    normalise_per_infoset(strategy_sum, tree.arrays(), out)
    return out


@njit(cache=True)
def _positive_regret_sum(regrets, tree):
    """(sum over infosets of the largest cumulative regret, floored at 0; number of infosets)."""
    kind, street, slot, stride = tree.kind, tree.street, tree.slot, tree.bucket_stride
    num_children, num_buckets = tree.num_children, tree.num_buckets
    total = 0.0
    count = 0
    for n in range(kind.shape[0]):
        if kind[n] != DECISION:
            continue
        na = num_children[n]
        for b in range(num_buckets[street[n]]):
            o = slot[n] + b * stride[n]
            best = 0.0
            for a in range(na):
                if regrets[o + a] > best:
                    best = regrets[o + a]
            total += best
            count += 1
    return total, count


def average_positive_regret(tree: BettingTree, regrets: np.ndarray, total_weight: float) -> float:
    """Mean over infosets of the largest positive cumulative regret, per unit of iteration weight.

    CFR's exploitability is bounded by the sum of these; a falling curve is what a healthy run shows
    on games too large to measure exploitability exactly. Compiled: the training loop reports it
    every progress interval, and on hold'em the tables hold millions of infosets.
    """
    if total_weight <= 0:
        return 0.0
    total, count = _positive_regret_sum(regrets, tree.arrays())
    return total / max(count, 1) / total_weight

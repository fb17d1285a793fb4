"""Full-traversal CFR variants for games small enough to sweep: vanilla CFR, CFR+ and DCFR.

Each iteration sweeps the betting tree for all deals at once: forwards in preorder (reach
probabilities, parents first), then backwards (counterfactual values, children first). No recursion:
numba compiles flat loops far better, and recursive functions cannot be cached safely (numba #6061).

* CFR (Zinkevich et al. 2007): simultaneous updates, the strategy is fixed for the whole iteration.
  With linear averaging it is Linear CFR (Brown & Sandholm 2019): iteration t's regrets are weighted
  by t too, as the convergence proof of a t-weighted average needs.
* CFR+ (Tammelin 2014): alternating updates, regrets floored at zero, linearly weighted average.
* DCFR (Brown & Sandholm, "Solving Imperfect-Information Games via Discounted Regret Minimization",
  2019): alternating updates; after iteration t positive regrets are scaled by t^a/(t^a+1), negative
  ones by t^b/(t^b+1), and the strategy sum by (t/(t+1))^g.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

import numpy as np
from numba import njit

from holdem.games.tree import DECISION, FOLD
from holdem.solver.regret import discount, normalise_per_infoset


class Variant(IntEnum):
    CFR = 0
    CFR_PLUS = 1
    DCFR = 2


CFR, CFR_PLUS, DCFR = Variant


class Sweep(NamedTuple):
    """Work arrays of a sweep (``sweep_scratch``): the current strategy [slots], and [nodes, deals] each of
    the opponent's and the traverser's reach and the values."""

    sigma: np.ndarray
    reach_opp: np.ndarray
    reach_self: np.ndarray
    values: np.ndarray


def sweep_scratch(n_slots: int, n_nodes: int, n_deals: int) -> Sweep:
    shape = (n_nodes, n_deals)
    return Sweep(np.zeros(n_slots), np.zeros(shape), np.zeros(shape), np.zeros(shape))


@njit(cache=True)
def terminal_value(kind, folder, c_me, c_opp, winner_for_me, me):
    """Chips won by `me` at a terminal node."""
    if kind == FOLD:
        return -c_me if folder == me else c_opp
    if winner_for_me > 0:
        return c_opp
    if winner_for_me < 0:
        return -c_me
    return 0.5 * (c_opp - c_me)


@njit(cache=True)
def terminal_values(n, p, kind, player, contrib, deal_winner, values):
    """values[n, d] for p at terminal node n, for every deal d."""
    c_me, c_opp = contrib[n, p], contrib[n, 1 - p]
    for d in range(deal_winner.shape[0]):
        w = deal_winner[d] if p == 0 else -deal_winner[d]
        values[n, d] = terminal_value(kind[n], player[n], c_me, c_opp, w, p)


@njit(cache=True)
def _forward(p, tree, deals, sigma, reach_opp, reach_self):
    kind, player, street, children = tree.kind, tree.player, tree.street, tree.children
    slot, stride, deal_buckets, deal_prob = tree.slot, tree.bucket_stride, deals.buckets, deals.prob
    n_deals = deal_prob.shape[0]
    for d in range(n_deals):
        reach_opp[0, d] = deal_prob[d]
        reach_self[0, d] = 1.0
    for n in range(kind.shape[0]):
        if kind[n] != DECISION:
            continue
        pl = player[n]
        na = tree.num_children[n]
        for a in range(na):
            c = children[tree.child_start[n] + a]
            for d in range(n_deals):
                s = sigma[slot[n] + deal_buckets[d, pl, street[n]] * stride[n] + a]
                if pl == p:
                    reach_self[c, d] = reach_self[n, d] * s
                    reach_opp[c, d] = reach_opp[n, d]
                else:
                    reach_self[c, d] = reach_self[n, d]
                    reach_opp[c, d] = reach_opp[n, d] * s


@njit(cache=True)
def _backward(p, tree, deals, work, regrets, strat_sum, avg_weight, regret_weight):
    kind, player, street, children = tree.kind, tree.player, tree.street, tree.children
    slot, stride, deal_buckets, deal_prob = tree.slot, tree.bucket_stride, deals.buckets, deals.prob
    sigma, reach_opp, reach_self, values = work.sigma, work.reach_opp, work.reach_self, work.values
    n_deals = deal_prob.shape[0]
    for n in range(kind.shape[0] - 1, -1, -1):
        if kind[n] != DECISION:
            terminal_values(n, p, kind, player, tree.contrib, deals.winner, values)
            continue
        na = tree.num_children[n]
        pl = player[n]
        cs = tree.child_start[n]
        for d in range(n_deals):
            o = slot[n] + deal_buckets[d, pl, street[n]] * stride[n]
            v = 0.0
            for a in range(na):
                v += sigma[o + a] * values[children[cs + a], d]
            values[n, d] = v
            if pl == p:
                ro = reach_opp[n, d] * regret_weight
                if ro != 0.0:
                    for a in range(na):
                        regrets[o + a] += ro * (values[children[cs + a], d] - v)
                rs = reach_self[n, d] * deal_prob[d] * avg_weight
                if rs != 0.0:
                    for a in range(na):
                        strat_sum[o + a] += rs * sigma[o + a]


@njit(cache=True)
def _after_pass(p, variant, t, discounting, tree, regrets, strat_sum):
    """CFR+ floors the traverser's regrets at zero; DCFR discounts them and its strategy sum."""
    if variant == CFR:
        return
    pos, neg, disc = discount(t, discounting)
    kind, player, street, slot, stride = tree.kind, tree.player, tree.street, tree.slot, tree.bucket_stride
    num_children, num_buckets = tree.num_children, tree.num_buckets
    for n in range(kind.shape[0]):
        if kind[n] != DECISION or player[n] != p:
            continue
        for b in range(num_buckets[street[n]]):
            lo = slot[n] + b * stride[n]
            for i in range(lo, lo + num_children[n]):
                r = regrets[i]
                if variant == CFR_PLUS:
                    if r < 0.0:
                        regrets[i] = 0.0
                else:
                    regrets[i] = r * (pos if r > 0.0 else neg)
                    strat_sum[i] *= disc


@njit(cache=True, nogil=True)  # nogil: the heartbeat thread reports while it runs
def full_iterations(tree, deals, regrets, strat_sum, work, t0, n_iters, variant, linear_avg, discounting):
    """Run iterations t0+1 .. t0+n_iters in place on ``tree`` (``TreeArrays``) and ``deals``
    (``DealArrays``), with ``work`` a ``Sweep``; returns the node-deal pairs swept."""
    swept = 0
    for it in range(n_iters):
        t = float(t0 + it + 1)
        avg_weight = t if linear_avg else 1.0
        regret_weight = t if (linear_avg and variant == CFR) else 1.0  # Linear CFR
        if variant == DCFR:
            avg_weight = 1.0  # DCFR weights the average through its gamma discount
        for p in range(2):
            if p == 0 or variant != CFR:  # vanilla CFR keeps one strategy for both passes
                # the current strategy of every infoset, once per pass before any regret changes
                normalise_per_infoset(regrets, tree, work.sigma, True)
            _forward(p, tree, deals, work.sigma, work.reach_opp, work.reach_self)
            _backward(p, tree, deals, work, regrets, strat_sum, avg_weight, regret_weight)
            _after_pass(p, variant, t, discounting, tree, regrets, strat_sum)
            swept += 2 * tree.kind.shape[0] * deals.prob.shape[0]
    return swept

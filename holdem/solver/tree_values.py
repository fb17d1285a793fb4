"""Values of a strategy profile over a whole enumerated game tree (Kuhn, Leduc), children first.

At player p's nodes a pass either follows the policy or best-responds (the action with the highest
counterfactual value per bucket); the exact exploitability and the small-game search's continuation values
both sweep the tree this way. Pure numba kernels over the tree's arrays.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from holdem.games.tree import DECISION
from holdem.solver.full import terminal_values

MAX_ACTIONS = 64  # per node, for the best response's per-bucket values


@njit(cache=True)
def opponent_reach(p, tree, deals, policy, reach):
    """reach[n, d]: chance's and the other player's (``policy``) contribution to reaching node n on deal d."""
    deal_buckets, deal_prob = deals.buckets, deals.prob
    for d in range(deal_prob.shape[0]):
        reach[0, d] = deal_prob[d]
    for n in range(tree.kind.shape[0]):
        if tree.kind[n] != DECISION:
            continue
        pl = tree.player[n]
        na = tree.num_children[n]
        for a in range(na):
            c = tree.children[tree.child_start[n] + a]
            for d in range(deal_prob.shape[0]):
                s = (
                    1.0
                    if pl == p
                    else policy[tree.slot[n] + deal_buckets[d, pl, tree.street[n]] * tree.bucket_stride[n] + a]
                )
                reach[c, d] = reach[n, d] * s


@njit(cache=True)
def tree_values(p, best_respond, tree, deals, policy, reach, values):
    """Values for p of every (node, deal) of ``tree`` (``TreeArrays``) and ``deals`` (``DealArrays``); at p's
    nodes either follow `policy` or best-respond (``reach`` from ``opponent_reach``)."""
    kind, player, street, children = tree.kind, tree.player, tree.street, tree.children
    num_buckets, deal_buckets, deal_prob = tree.num_buckets, deals.buckets, deals.prob
    n_deals = deal_prob.shape[0]
    max_b = 0
    for s in range(num_buckets.shape[0]):
        max_b = max(max_b, num_buckets[s])
    cfv = np.zeros((max_b, MAX_ACTIONS))
    for n in range(kind.shape[0] - 1, -1, -1):
        if kind[n] != DECISION:
            terminal_values(n, p, kind, player, tree.contrib, deals.winner, values)
            continue
        na = tree.num_children[n]
        pl = player[n]
        cs = tree.child_start[n]
        if pl == p and best_respond:
            nb = num_buckets[street[n]]
            cfv[:nb, :na] = 0.0
            for d in range(n_deals):
                b = deal_buckets[d, pl, street[n]]
                for a in range(na):
                    cfv[b, a] += reach[n, d] * values[children[cs + a], d]
            for d in range(n_deals):
                b = deal_buckets[d, pl, street[n]]
                best = 0
                for a in range(1, na):
                    if cfv[b, a] > cfv[b, best]:
                        best = a
                values[n, d] = values[children[cs + best], d]
        else:
            for d in range(n_deals):
                o = tree.slot[n] + deal_buckets[d, pl, street[n]] * tree.bucket_stride[n]
                v = 0.0
                for a in range(na):
                    v += policy[o + a] * values[children[cs + a], d]
                values[n, d] = v
    total = 0.0
    for d in range(n_deals):
        total += deal_prob[d] * values[0, d]
    return total

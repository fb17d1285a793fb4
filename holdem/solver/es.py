"""External-sampling MCCFR (Lanctot et al., "Monte Carlo Sampling for Regret Minimization in Extensive
Games", 2009), the variant that scales to hold'em, with Pluribus-style options (Brown & Sandholm,
"Superhuman AI for multiplayer poker", 2019): Linear CFR weighting and negative-regret pruning.

One traversal for player p samples a deal, then walks the betting tree exploring every action of p and
one sampled action of the opponent, whose current strategy is added to the strategy sum there.
The walk uses the preorder layout instead of recursion: a node is visited when its parent selected it,
and an unselected subtree is skipped in one step (``i += subtree_size[i]``). The visit list, read
backwards, gives the children-first order for values and regret updates.

The traversal reads a deal only through (buckets of both players per street, showdown winner), so
hold'em plugs in by sampling deals differently (see ``es_iterations_enumerated``'s deal source).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from holdem.games.tree import DECISION, BettingTree
from holdem.rng import hash_uniform, uniform
from holdem.solver.full import terminal_value
from holdem.solver.prefetch import prefetch
from holdem.solver.regret import regret_match

# Columns of the packed node table: every field the traversal reads of a node, in one 32-byte row,
# so that a visit costs one cache line instead of one per field array.
KIND, PLAYER, STREET, N_CHILDREN, CHILD_START, SUBTREE, SLOT, STRIDE = range(8)


def pack_nodes(tree: BettingTree) -> np.ndarray:
    """The traversal's int32 [n, 8] view of a betting tree (columns KIND .. STRIDE)."""
    if tree.n_slots >= 2**31:
        raise ValueError(f"the tables have {tree.n_slots:,} slots; the traversal indexes at most 2^31 - 1")
    nodes = np.empty((tree.n_nodes, 8), dtype=np.int32)
    for column, field in (
        (KIND, tree.kind),
        (PLAYER, tree.player),
        (STREET, tree.street),
        (N_CHILDREN, tree.num_children),
        (CHILD_START, tree.child_start),
        (SUBTREE, tree.subtree_size),
        (SLOT, tree.slot),
        (STRIDE, tree.bucket_stride),
    ):
        nodes[:, column] = field
    return nodes


class PackedTree(NamedTuple):
    """What the traversal reads of a betting tree (``packed_tree``)."""

    nodes: np.ndarray  # pack_nodes(tree)
    children: np.ndarray
    contrib: np.ndarray


def packed_tree(tree: BettingTree) -> PackedTree:
    return PackedTree(pack_nodes(tree), tree.children, tree.contrib)


class Schedule(NamedTuple):
    """The settings that make each iteration's weights and pruning (``iteration_schedule``)."""

    linear_regrets: bool
    linear_avg: bool
    prune: bool
    prune_threshold: float
    prune_probability: float
    prune_start: int


class Step(NamedTuple):
    """One iteration's traversal weights, and whether it prunes actions with regret below the threshold."""

    regret_weight: float
    avg_weight: float
    prune: bool
    prune_threshold: float


class Traversal(NamedTuple):
    """A worker's reusable work arrays (``scratch``): selected bool[n], all False on entry and exit; order
    int32[n]; sigma float64[n * max_actions]; sampled int32[n]; values float64[n]."""

    selected: np.ndarray
    order: np.ndarray
    sigma: np.ndarray
    sampled: np.ndarray
    values: np.ndarray


def scratch(n_nodes: int, max_actions: int) -> Traversal:
    return Traversal(
        np.zeros(n_nodes, dtype=np.bool_),
        np.zeros(n_nodes, dtype=np.int32),
        np.zeros(n_nodes * max_actions),
        np.zeros(n_nodes, dtype=np.int32),
        np.zeros(n_nodes),
    )


@njit(cache=True)
def es_traverse(p, buckets, winner, tree, regrets, strat_sum, step, rng, work):
    """One external-sampling traversal for player p on one deal (``buckets`` [player, street], the showdown
    ``winner``) of a ``PackedTree``; returns the nodes visited. ``work`` is a ``Traversal``.
    A node's table rows are prefetched when it is selected, so that the misses of siblings overlap.
    """
    nodes, children, contrib = tree
    selected, order, sigma, sampled, values = work
    regret_weight, avg_weight, prune, prune_threshold = step
    n_nodes = nodes.shape[0]
    sigma_stride = sigma.shape[0] // n_nodes
    n_visit = 0
    selected[0] = True
    i = 0
    while i < n_nodes:
        if not selected[i]:
            i += nodes[i, SUBTREE]
            continue
        selected[i] = False
        order[n_visit] = i
        n_visit += 1
        if nodes[i, KIND] == DECISION:
            pl = nodes[i, PLAYER]
            na = nodes[i, N_CHILDREN]
            cs = nodes[i, CHILD_START]
            o = nodes[i, SLOT] + buckets[pl, nodes[i, STREET]] * nodes[i, STRIDE]
            so = (n_visit - 1) * sigma_stride  # by visit, not node: the scratch stays small and hot
            regret_match(regrets, o, na, sigma, so)
            first, end = 0, na  # the traverser explores every action
            if pl != p:  # the opponent samples one
                x = uniform(rng)
                a = 0
                acc = sigma[so]
                while a < na - 1 and x >= acc:
                    a += 1
                    acc += sigma[so + a]
                sampled[i] = a
                first, end = a, a + 1
                for b in range(na):
                    strat_sum[o + b] += avg_weight * sigma[so + b]
            for a in range(first, end):
                c = children[cs + a]
                # Pluribus prunes the traverser's actions with very negative regret, never those ending the hand.
                if (
                    pl == p
                    and prune
                    and sigma[so + a] == 0.0
                    and regrets[o + a] < prune_threshold
                    and nodes[c, KIND] == DECISION
                ):
                    continue
                selected[c] = True
                if nodes[c, KIND] == DECISION:
                    oc = nodes[c, SLOT] + buckets[nodes[c, PLAYER], nodes[c, STREET]] * nodes[c, STRIDE]
                    prefetch(regrets, oc)
                    if nodes[c, PLAYER] != p:
                        prefetch(strat_sum, oc)
        i += 1
    w = winner if p == 0 else -winner
    for k in range(n_visit - 1, -1, -1):
        i = order[k]
        kd = nodes[i, KIND]
        if kd != DECISION:
            values[i] = terminal_value(kd, nodes[i, PLAYER], contrib[i, p], contrib[i, 1 - p], w, p)
            continue
        cs = nodes[i, CHILD_START]
        if nodes[i, PLAYER] != p:
            values[i] = values[children[cs + sampled[i]]]
            continue
        na = nodes[i, N_CHILDREN]
        o = nodes[i, SLOT] + buckets[p, nodes[i, STREET]] * nodes[i, STRIDE]
        so = k * sigma_stride
        v = 0.0
        for a in range(na):
            v += sigma[so + a] * values[children[cs + a]]  # a pruned action has probability 0
        values[i] = v
        for a in range(na):
            c = children[cs + a]
            # Regrets of this node are untouched until here, so the forward pruning test still holds.
            if not (prune and sigma[so + a] == 0.0 and regrets[o + a] < prune_threshold and nodes[c, KIND] == DECISION):
                regrets[o + a] += regret_weight * (values[c] - v)
    return n_visit


@njit(cache=True, inline="always")
def iteration_schedule(t, schedule):
    """The ``Step`` of iteration t: a function of t alone.

    Whether t prunes is a hash of t, not a draw from rng: pruning never shifts the sample stream,
    so a run that prunes nothing is bit-identical to one with pruning off.
    """
    rw = float(t) if schedule.linear_regrets else 1.0
    aw = float(t) if schedule.linear_avg else 1.0
    prune = schedule.prune and t >= schedule.prune_start and hash_uniform(t) < schedule.prune_probability
    return Step(rw, aw, prune, schedule.prune_threshold)


@njit(cache=True)
def sample_deal(rng, cdf):
    x = uniform(rng)
    lo = 0
    hi = cdf.shape[0] - 1
    while lo < hi:  # first index with cdf > x
        mid = (lo + hi) // 2
        if cdf[mid] > x:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True, nogil=True)  # nogil: the heartbeat thread reports while it runs
def es_iterations_enumerated(deals, tree, regrets, strat_sum, rng, t0, n_iters, schedule, work):
    """Iterations t0+1 .. t0+n_iters, each one traversal per player on its own deal sampled from ``deals``
    (``DealArrays``).

    Every random draw depends only on the generator state and the iteration number, so a run resumed
    from a checkpoint (which saves both) continues bit for bit.
    """
    visits = 0
    for it in range(n_iters):
        step = iteration_schedule(t0 + it + 1, schedule)
        for p in range(2):
            d = sample_deal(rng, deals.cdf)
            visits += es_traverse(p, deals.buckets[d], deals.winner[d], tree, regrets, strat_sum, step, rng, work)
    return visits

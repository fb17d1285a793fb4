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

import numpy as np
from numba import njit

from holdem.games.tree import BettingTree
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


@njit(cache=True)
def es_traverse(
    p,
    buckets,
    winner,
    nodes,
    children,
    contrib,
    regrets,
    strat_sum,
    regret_weight,
    avg_weight,
    prune,
    prune_threshold,
    rng,
    selected,
    order,
    sigma,
    sampled,
    values,
):
    """One external-sampling traversal for player p on one deal; returns the nodes visited.

    nodes is pack_nodes(tree). Scratch arrays (selected: bool[n] all False on entry and exit; order:
    int32[n]; sigma: float64[n * max_actions]; sampled: int32[n]; values: float64[n]) are reused.
    A node's table rows are prefetched when it is selected, so that the misses of siblings overlap.
    """
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
        if nodes[i, KIND] == 0:
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
                    and nodes[c, KIND] == 0
                ):
                    continue
                selected[c] = True
                if nodes[c, KIND] == 0:
                    oc = nodes[c, SLOT] + buckets[nodes[c, PLAYER], nodes[c, STREET]] * nodes[c, STRIDE]
                    prefetch(regrets, oc)
                    if nodes[c, PLAYER] != p:
                        prefetch(strat_sum, oc)
        i += 1
    w = winner if p == 0 else -winner
    for k in range(n_visit - 1, -1, -1):
        i = order[k]
        kd = nodes[i, KIND]
        if kd != 0:
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
            if not (prune and sigma[so + a] == 0.0 and regrets[o + a] < prune_threshold and nodes[c, KIND] == 0):
                regrets[o + a] += regret_weight * (values[c] - v)
    return n_visit


@njit(cache=True, inline="always")
def iteration_schedule(t, linear_regrets, linear_avg, prune_enabled, prune_start, prune_probability):
    """Regret weight, average weight and whether iteration t prunes: functions of t alone.

    Whether t prunes is a hash of t, not a draw from rng: pruning never shifts the sample stream,
    so a run that prunes nothing is bit-identical to one with pruning off.
    """
    rw = float(t) if linear_regrets else 1.0
    aw = float(t) if linear_avg else 1.0
    prune = prune_enabled and t >= prune_start and hash_uniform(t) < prune_probability
    return rw, aw, prune


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
def es_iterations_enumerated(
    deal_buckets,
    deal_winner,
    deal_cdf,
    nodes,
    children,
    contrib,
    regrets,
    strat_sum,
    rng,
    t0,
    n_iters,
    linear_regrets,
    linear_avg,
    prune_enabled,
    prune_threshold,
    prune_probability,
    prune_start,
    selected,
    order,
    sigma,
    sampled,
    values,
):
    """Iterations t0+1 .. t0+n_iters, each one traversal per player on its own sampled deal.

    Every random draw depends only on the generator state and the iteration number, so a run resumed
    from a checkpoint (which saves both) continues bit for bit.
    """
    visits = 0
    for it in range(n_iters):
        rw, aw, prune = iteration_schedule(
            t0 + it + 1, linear_regrets, linear_avg, prune_enabled, prune_start, prune_probability
        )
        for p in range(2):
            d = sample_deal(rng, deal_cdf)
            visits += es_traverse(
                p,
                deal_buckets[d],
                deal_winner[d],
                nodes,
                children,
                contrib,
                regrets,
                strat_sum,
                rw,
                aw,
                prune,
                prune_threshold,
                rng,
                selected,
                order,
                sigma,
                sampled,
                values,
            )
    return visits


def scratch(n_nodes: int, max_actions: int) -> tuple[np.ndarray, ...]:
    """The traversal's reusable work arrays: selected, order, sigma, sampled, values."""
    return (
        np.zeros(n_nodes, dtype=np.bool_),
        np.zeros(n_nodes, dtype=np.int32),
        np.zeros(n_nodes * max_actions),
        np.zeros(n_nodes, dtype=np.int32),
        np.zeros(n_nodes),
    )

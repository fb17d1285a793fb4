"""Values of a hold'em subgame's depth-limit leaves: the blueprint's continuation, by Monte Carlo.

Every sampled deal (both hole hands and the rest of the board, uniform given the known board) is
bucketed on every street, and at each leaf the rest of the hand is valued exactly on the blueprint's
tree from the leaf's blueprint node: the searcher plays the blueprint, the other player continuation
strategy k (the blueprint, or fold, call or raise probabilities times 5, renormalised: Pluribus). The
values are accumulated by the two hands' buckets on the current street, so one table serves the
1,326 x 1,326 pairs (``subgame``: leaf tables are indexed by bucket, with exact card removal). Values
scale with the real pot (real chips in / the blueprint node's chips in). A leaf with no blueprint
node (an all-in before the river, or a history off the tree) is valued by checking down: the showdown
of the sampled board. The deals are shared by all leaves, so their bucketing is paid once.
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit

from holdem.abstraction.isomorphism import BINOM, CARD_PERMS
from holdem.search.subgame import K_CONTINUATIONS
from holdem.solver.es_hunl import deal_buckets
from holdem.solver.rng import next_u64, seed_state


@njit(cache=True)
def _continuation(root, searcher, kind, player, street, child_start, num_children, children, action, contrib, slot,
                  stride, subtree, policy, buckets, winner, values):
    """values[k, 0] = player 0's chips from blueprint node ``root`` on, one value per continuation k."""
    size = subtree[root]
    opp = 1 - searcher
    sig = np.empty(16)
    for i in range(size - 1, -1, -1):
        n = root + i
        if kind[n] == 1:
            v = -contrib[n, 0] if player[n] == 0 else contrib[n, 1]
            for k in range(4):
                values[k, i] = v
        elif kind[n] == 2:
            v = contrib[n, 1] if winner > 0 else (-contrib[n, 0] if winner < 0 else 0.5 * (contrib[n, 1] - contrib[n, 0]))
            for k in range(4):
                values[k, i] = v
        else:
            na = num_children[n]
            pl = player[n]
            o = slot[n] + buckets[pl, street[n]] * stride[n]
            cs = child_start[n]
            for k in range(4):
                total = 0.0
                for a in range(na):
                    p = policy[o + a]
                    if pl == opp and k > 0 and action[children[cs + a]] == k - 1:
                        p *= 5.0
                    sig[a] = p
                    total += p
                v = 0.0
                for a in range(na):
                    s = sig[a] / total if total > 0.0 else 1.0 / na
                    v += s * values[k, children[cs + a] - root]
                values[k, i] = v


@njit(cache=True)
def leaf_sums(n_deals, rng, board, n_known, cur_street, binom, card_perms, preflop, flop, turn, river, b3_id, b3_perm,
              b4_id, b4_perm, b5_id, b5_perm, kind, player, street, child_start, num_children, children, action,
              contrib, slot, stride, subtree, policy, leaf_bp, leaf_scale, leaf_contrib, searcher, sums, counts):
    """Add n_deals sampled deals into sums[leaf * K + k, b0, b1] and counts[b0, b1]."""
    deck = np.empty(52, dtype=np.int64)
    cards = np.empty(9, dtype=np.int64)
    buckets = np.empty((2, 4), dtype=np.int64)
    dead = np.zeros(52, dtype=np.bool_)
    for i in range(n_known):
        dead[board[i]] = True
    n_live = 0
    for c in range(52):
        if not dead[c]:
            deck[n_live] = c
            n_live += 1
    biggest = 1
    for ell in range(leaf_bp.shape[0]):
        if leaf_bp[ell] >= 0:
            biggest = max(biggest, subtree[leaf_bp[ell]])
    values = np.empty((4, biggest))
    for d in range(n_deals):
        need = 4 + 5 - n_known
        for i in range(need):  # partial Fisher-Yates over the live cards
            j = i + np.int64(next_u64(rng) % np.uint64(n_live - i))
            t = deck[i]
            deck[i] = deck[j]
            deck[j] = t
        for i in range(4):
            cards[i] = deck[i]
        for i in range(n_known):
            cards[4 + i] = board[i]
        for i in range(5 - n_known):
            cards[4 + n_known + i] = deck[4 + i]
        winner = deal_buckets(cards, binom, card_perms, preflop, flop, turn, river, b3_id, b3_perm, b4_id, b4_perm,
                              b5_id, b5_perm, buckets)
        b0 = buckets[0, cur_street]
        b1 = buckets[1, cur_street]
        counts[b0, b1] += 1.0
        for ell in range(leaf_bp.shape[0]):
            if leaf_bp[ell] < 0:
                v = leaf_contrib[ell] * winner
                for k in range(4):
                    sums[ell * 4 + k, b0, b1] += v
                continue
            _continuation(leaf_bp[ell], searcher, kind, player, street, child_start, num_children, children, action,
                          contrib, slot, stride, subtree, policy, buckets, winner, values)
            for k in range(4):
                sums[ell * 4 + k, b0, b1] += values[k, 0] * leaf_scale[ell]


def leaf_tables(game, policy: np.ndarray, board: list[int], searcher: int, leaves, n_deals: int, seed: int,
                deadline: float | None = None) -> np.ndarray:
    """[L * K, B, B] player 0's continuation values by current-street bucket; pairs no deal reached take
    the mean of their row (then of the table), shrunk towards it with one pseudo-sample elsewhere.
    Deals are drawn in batches of 250 until ``n_deals`` or the ``deadline`` (perf_counter seconds)."""
    assert K_CONTINUATIONS == 4
    t = game.tree
    bk = game.buckets
    cur = {3: 1, 4: 2, 5: 3}[len(board)]
    nb = int(t.num_buckets[cur])
    sums = np.zeros((len(leaves) * 4, nb, nb))
    counts = np.zeros((nb, nb))
    if not leaves:
        return sums
    leaf_bp = np.array([lf.bp_node for lf in leaves], dtype=np.int64)
    scale = np.array([lf.contrib / lf.bp_contrib if lf.bp_contrib > 0 else 1.0 for lf in leaves])
    contrib = np.array([lf.contrib for lf in leaves])
    rng = seed_state(seed)
    done = 0
    while done < n_deals:
        batch = min(250, n_deals - done)
        leaf_sums(batch, rng, np.asarray(board, dtype=np.int64), len(board), cur, BINOM, CARD_PERMS,
                  bk.preflop, bk.flop, bk.turn, bk.river, bk.board3_id, bk.board3_perm, bk.board4_id, bk.board4_perm,
                  bk.board5_id, bk.board5_perm, t.kind, t.player, t.street, t.child_start, t.num_children, t.children,
                  t.action, t.contrib, t.slot, t.bucket_stride, t.subtree_size, policy, leaf_bp, scale, contrib,
                  searcher, sums, counts)
        done += batch
        if deadline is not None and time.perf_counter() > deadline:
            break
    shrink_to_means(sums, counts)
    return sums


@njit(cache=True)
def shrink_to_means(sums, counts):
    """In place: sums[t, b0, b1] becomes (sums + prior) / (counts + 1), the prior being the mean of row
    b0 of table t where that row has deals, else the table's mean. Compiled: on the flop the tables
    hold millions of entries, and numpy's temporaries took a quarter of a 100 ms budget."""
    n_tables, nb, _ = sums.shape
    row_n = np.zeros(nb)
    total = 0.0
    for b0 in range(nb):
        for b1 in range(nb):
            row_n[b0] += counts[b0, b1]
        total += row_n[b0]
    row_sum = np.zeros(nb)
    for t in range(n_tables):
        table_sum = 0.0
        for b0 in range(nb):
            x = 0.0
            for b1 in range(nb):
                x += sums[t, b0, b1]
            row_sum[b0] = x
            table_sum += x
        table_mean = table_sum / max(total, 1.0)
        for b0 in range(nb):
            prior = row_sum[b0] / row_n[b0] if row_n[b0] > 0 else table_mean
            for b1 in range(nb):
                sums[t, b0, b1] = (sums[t, b0, b1] + prior) / (counts[b0, b1] + 1.0)

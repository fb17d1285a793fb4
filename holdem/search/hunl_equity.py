"""Showdown equity by bucket pair: what a hold'em leaf would be worth if both players checked it down.

A depth-limit leaf's value is the blueprint's continuation, estimated from a few thousand sampled
deals (``hunl_leaves``). Most of a deal's value is the showdown of its random cards, and that noise
is what a search would fit (docs/decisions.md, "Hold'em search starts on the river by default"). With
``SearchConfig.leaf_checkdown`` the leaves split the value in two: the check-down part, computed here
for every pair of hands and runouts at once (all river cards on the turn, ``n_runouts`` sampled turn
and river cards on the flop), and the betting that follows, sampled (``hunl_leaves``), whose noise is
far smaller. (It is off by default: its tables hold every bucket
pair, which costs the flop search most of its iterations; docs/decisions.md.)

``sign_sum[b0, b1]`` sums sign(strength of h0 - strength of h1) and ``pairs[b0, b1]`` counts the pairs,
over every runout and every pair of hands (h0 in bucket b0, h1 in b1) sharing no card with each other
or the runout: their ratio is player 0's expected showdown result per chip. One sweep per runout up the
strength order with per-bucket counts (and per card, for card removal): O(H x B) a runout, never a pair
matrix. The sums are integers, so the threads' order does not change them.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from holdem.cards import NUM_CARDS
from holdem.evaluator import evaluate7
from holdem.rng import next_u64, seed_state


def runouts(board: list[int], n_runouts: int, seed: int) -> np.ndarray:
    """The cards still to come, [R, 5 - len(board)]: every river card on the turn, ``n_runouts`` sampled
    pairs (without repeats within a pair) on the flop, none on the river."""
    live = np.array([c for c in range(NUM_CARDS) if c not in set(board)], dtype=np.int64)
    missing = 5 - len(board)
    if missing == 0:
        return np.zeros((1, 0), dtype=np.int64)
    if missing == 1:
        return live[:, None].copy()
    out = np.empty((n_runouts, missing), dtype=np.int64)
    _sample_runouts(live, seed_state(seed), out)
    return out


@njit(cache=True)
def _sample_runouts(live, rng, out):
    n = live.shape[0]
    deck = live.copy()
    for r in range(out.shape[0]):
        for i in range(out.shape[1]):
            j = i + np.int64(next_u64(rng) % np.uint64(n - i))
            t = deck[i]
            deck[i] = deck[j]
            deck[j] = t
            out[r, i] = deck[i]


@njit(cache=True)
def _one_runout(cards, bucket, board, extra, nb, sign_sum, pairs):
    """Adds one runout's sign sums and pair counts (hands touching the runout sit it out)."""
    n_hands = cards.shape[0]
    full = np.empty(5, dtype=np.int64)
    k = board.shape[0]
    for i in range(k):
        full[i] = board[i]
    for i in range(extra.shape[0]):
        full[k + i] = extra[i]
    strength = np.empty(n_hands, dtype=np.int64)
    live = np.zeros(n_hands, dtype=np.bool_)
    n_live = 0
    for h in range(n_hands):
        a, b = cards[h, 0], cards[h, 1]
        clash = False
        for i in range(extra.shape[0]):
            if a == extra[i] or b == extra[i]:
                clash = True
        if not clash:
            live[h] = True
            n_live += 1
            strength[h] = evaluate7(a, b, full[0], full[1], full[2], full[3], full[4])
    idx = np.empty(n_live, dtype=np.int64)
    j = 0
    for h in range(n_hands):
        if live[h]:
            idx[j] = h
            j += 1
    order = idx[np.argsort(strength[idx], kind="mergesort")]
    # totals per bucket and per (card, bucket), of the live hands
    total = np.zeros(nb)
    total_card = np.zeros((NUM_CARDS, nb))
    for hand in idx:
        total[bucket[hand]] += 1.0
        total_card[cards[hand, 0], bucket[hand]] += 1.0
        total_card[cards[hand, 1], bucket[hand]] += 1.0
    below = np.zeros(nb)  # hands weaker than the current group, per bucket
    below_card = np.zeros((NUM_CARDS, nb))
    start = 0
    while start < n_live:
        end = start
        while end < n_live and strength[order[end]] == strength[order[start]]:
            end += 1
        # ties count half a win and half a loss: a hand's sign sum is (weaker) + (weaker or tied) - all
        for g in range(start, end):
            h = order[g]
            c0, c1, bh = cards[h, 0], cards[h, 1], bucket[h]
            for b in range(nb):
                before = below[b] - below_card[c0, b] - below_card[c1, b]
                n = total[b] - total_card[c0, b] - total_card[c1, b]
                if bh == b:
                    n += 1.0  # h itself, subtracted twice
                pairs[bh, b] += n
                sign_sum[bh, b] += 2.0 * before - n
        if end - start > 1:  # the ties within the group, each pair of hands sharing no card
            for g in range(start, end):
                h = order[g]
                for g2 in range(start, end):
                    h2 = order[g2]
                    if (
                        g2 != g
                        and cards[h2, 0] != cards[h, 0]
                        and cards[h2, 0] != cards[h, 1]
                        and cards[h2, 1] != cards[h, 0]
                        and cards[h2, 1] != cards[h, 1]
                    ):
                        sign_sum[bucket[h], bucket[h2]] += 1.0
        for g in range(start, end):
            h = order[g]
            below[bucket[h]] += 1.0
            below_card[cards[h, 0], bucket[h]] += 1.0
            below_card[cards[h, 1], bucket[h]] += 1.0
        start = end


@njit(cache=True, parallel=True)
def _runouts_parallel(cards, bucket, board, extra, nb, n_chunks, sign_sum, pairs):
    part_sign = np.zeros((n_chunks, nb, nb))
    part_pairs = np.zeros((n_chunks, nb, nb))
    n = extra.shape[0]
    for c in prange(n_chunks):
        for r in range(c * n // n_chunks, (c + 1) * n // n_chunks):
            _one_runout(cards, bucket, board, extra[r], nb, part_sign[c], part_pairs[c])
    for c in range(n_chunks):
        sign_sum += part_sign[c]
        pairs += part_pairs[c]


def bucket_equity(
    cards: np.ndarray, bucket: np.ndarray, board: list[int], nb: int, n_runouts: int, seed: int, workers: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """(sign_sum, pairs), both [nb, nb], over the runouts of ``board`` (see the module's docstring)."""
    extra = runouts(board, n_runouts, seed)
    present, local = np.unique(np.asarray(bucket, dtype=np.int64), return_inverse=True)
    k = len(present)  # the sweep is O(H x buckets present on this board), not O(H x nb)
    sign_k, pairs_k = np.zeros((k, k)), np.zeros((k, k))
    args = (np.ascontiguousarray(cards, dtype=np.int64), local.astype(np.int64), np.asarray(board, dtype=np.int64))
    if workers > 1 and extra.shape[0] > 1:
        numba.set_num_threads(workers)
        _runouts_parallel(*args, extra, k, workers, sign_k, pairs_k)
    else:
        for r in range(extra.shape[0]):
            _one_runout(*args, extra[r], k, sign_k, pairs_k)
    sign_sum, pairs = np.zeros((nb, nb)), np.zeros((nb, nb))
    sign_sum[np.ix_(present, present)] = sign_k
    pairs[np.ix_(present, present)] = pairs_k
    return sign_sum, pairs

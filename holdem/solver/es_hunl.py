"""External-sampling MCCFR iterations for heads-up hold'em: the deal is sampled, not enumerated.

Each traversal shuffles nine cards off a fresh deck with the checkpointed generator (two hole cards
each, five board cards), reads both players' buckets on every street from the mmapped tables (two or
three array reads per street: board rank -> canonical board and suit renaming -> bucket), ranks both
seven-card hands, and hands (buckets, winner) to the same traversal as Leduc uses (es.es_traverse).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from holdem.abstraction.isomorphism import colex_rank, combo_index, sort_small
from holdem.evaluator import evaluate7
from holdem.rng import next_u64
from holdem.solver.es import es_traverse, iteration_schedule


@njit(cache=True)
def deal(rng, deck, cards):
    """Nine distinct cards into cards[:9] by a partial Fisher-Yates shuffle of a fresh deck."""
    for i in range(52):
        deck[i] = i
    for i in range(9):
        j = i + np.int64(next_u64(rng) % np.uint64(52 - i))
        t = deck[i]
        deck[i] = deck[j]
        deck[j] = t
        cards[i] = deck[i]


@njit(cache=True)
def _sorted_board(cards, k, out):
    """The first k board cards (cards[4:4+k]) in ascending order, as colex ranking wants them."""
    for i in range(k):
        out[i] = cards[4 + i]
    sort_small(out, k)


@njit(cache=True)
def deal_buckets(
    cards, binom, card_perms, preflop, flop, turn, river, b3_id, b3_perm, b4_id, b4_perm, b5_id, b5_perm, buckets
):
    """buckets[p, street] of the deal in cards (p0 hole, p1 hole, board); returns the winner (+1/-1/0)."""
    board = np.empty(5, dtype=np.int64)
    for p in range(2):
        buckets[p, 0] = preflop[combo_index(cards[2 * p], cards[2 * p + 1])]
    for k in range(3, 6):
        _sorted_board(cards, k, board)
        r = colex_rank(board, k, binom)
        for p in range(2):
            a = cards[2 * p]
            b = cards[2 * p + 1]
            if k == 3:
                q = b3_perm[r]
                buckets[p, 1] = flop[b3_id[r], combo_index(card_perms[q, a], card_perms[q, b])]
            elif k == 4:
                q = b4_perm[r]
                buckets[p, 2] = turn[b4_id[r], combo_index(card_perms[q, a], card_perms[q, b])]
            else:
                q = b5_perm[r]
                buckets[p, 3] = river[b5_id[r], combo_index(card_perms[q, a], card_perms[q, b])]
    s0 = evaluate7(cards[0], cards[1], cards[4], cards[5], cards[6], cards[7], cards[8])
    s1 = evaluate7(cards[2], cards[3], cards[4], cards[5], cards[6], cards[7], cards[8])
    return 1 if s0 > s1 else (-1 if s1 > s0 else 0)


@njit(cache=True, nogil=True)
def es_iterations_hunl(
    binom,
    card_perms,
    preflop,
    flop,
    turn,
    river,
    b3_id,
    b3_perm,
    b4_id,
    b4_perm,
    b5_id,
    b5_perm,
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
    """Iterations t0+1 .. t0+n_iters; one sampled deal and traversal per player each. Returns visits."""
    deck = np.empty(52, dtype=np.int64)
    cards = np.empty(9, dtype=np.int64)
    buckets = np.empty((2, 4), dtype=np.int64)
    visits = 0
    for it in range(n_iters):
        rw, aw, prune = iteration_schedule(
            t0 + it + 1, linear_regrets, linear_avg, prune_enabled, prune_start, prune_probability
        )
        for p in range(2):
            deal(rng, deck, cards)
            winner = deal_buckets(
                cards,
                binom,
                card_perms,
                preflop,
                flop,
                turn,
                river,
                b3_id,
                b3_perm,
                b4_id,
                b4_perm,
                b5_id,
                b5_perm,
                buckets,
            )
            visits += es_traverse(
                p,
                buckets,
                winner,
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

"""External-sampling MCCFR iterations for heads-up hold'em: the deal is sampled, not enumerated.

Each traversal shuffles nine cards off a fresh deck with the checkpointed generator (two hole cards
each, five board cards), reads both players' buckets on every street from the mmapped tables (two or
three array reads per street: board rank -> canonical board and suit renaming -> bucket), ranks both
seven-card hands, and hands (buckets, winner) to the same traversal as Leduc uses (es.es_traverse).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from holdem.abstraction.isomorphism import colex_rank, sort_small
from holdem.cards import BOARD_CARDS, FULL_BOARD, NUM_CARDS, NUM_STREETS, Street, combo_index
from holdem.evaluator import evaluate7
from holdem.rng import next_u64
from holdem.solver.es import es_traverse, iteration_schedule

DEAL_CARDS = 4 + FULL_BOARD  # both holes, then the board


@njit(cache=True)
def deal(rng, deck, cards):
    """Nine distinct cards into cards[:9] by a partial Fisher-Yates shuffle of a fresh deck."""
    for i in range(NUM_CARDS):
        deck[i] = i
    for i in range(DEAL_CARDS):
        j = i + np.int64(next_u64(rng) % np.uint64(NUM_CARDS - i))
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
def deal_buckets(cards, tables, buckets):
    """buckets[p, street] of the deal in cards (p0 hole, p1 hole, board) by ``tables`` (``BucketArrays``);
    returns the winner (+1/-1/0)."""
    board = np.empty(FULL_BOARD, dtype=np.int64)
    perms = tables.card_perms
    for p in range(2):
        buckets[p, Street.PREFLOP] = tables.preflop[combo_index(cards[2 * p], cards[2 * p + 1])]
    for street in range(Street.FLOP, NUM_STREETS):
        k = BOARD_CARDS[street]
        _sorted_board(cards, k, board)
        r = colex_rank(board, k, tables.binom)
        for p in range(2):
            a = cards[2 * p]
            b = cards[2 * p + 1]
            if street == Street.FLOP:
                q = tables.board3_perm[r]
                buckets[p, street] = tables.flop[tables.board3_id[r], combo_index(perms[q, a], perms[q, b])]
            elif street == Street.TURN:
                q = tables.board4_perm[r]
                buckets[p, street] = tables.turn[tables.board4_id[r], combo_index(perms[q, a], perms[q, b])]
            else:
                q = tables.board5_perm[r]
                buckets[p, street] = tables.river[tables.board5_id[r], combo_index(perms[q, a], perms[q, b])]
    s0 = evaluate7(cards[0], cards[1], cards[4], cards[5], cards[6], cards[7], cards[8])
    s1 = evaluate7(cards[2], cards[3], cards[4], cards[5], cards[6], cards[7], cards[8])
    return 1 if s0 > s1 else (-1 if s1 > s0 else 0)


@njit(cache=True, nogil=True)
def es_iterations_hunl(tables, tree, regrets, strat_sum, rng, t0, n_iters, schedule, work):
    """Iterations t0+1 .. t0+n_iters; one sampled deal and traversal per player each, the deal bucketed by
    ``tables`` (``BucketArrays``). Returns the node visits."""
    deck = np.empty(NUM_CARDS, dtype=np.int64)
    cards = np.empty(DEAL_CARDS, dtype=np.int64)
    buckets = np.empty((2, NUM_STREETS), dtype=np.int64)
    visits = 0
    for it in range(n_iters):
        step = iteration_schedule(t0 + it + 1, schedule)
        for p in range(2):
            deal(rng, deck, cards)
            winner = deal_buckets(cards, tables, buckets)
            visits += es_traverse(p, buckets, winner, tree, regrets, strat_sum, step, rng, work)
    return visits

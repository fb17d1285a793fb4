"""Equity features of every (board, hole) pair, exactly enumerated, for the card abstraction.

* River: hand strength HS = P(win) + P(tie)/2 against a uniformly random opponent hand, exactly: the
  1,081 live hands of a board are ranked once and sorted, and conflicts (an opponent hand sharing a
  card with ours) are removed by per-card counters, so one board costs one sort, not 1,081 x 990.
* Turn and flop: E[HS] and E[HS^2] over every way the board can run out (Johanson et al.,
  "Evaluating State-Space Abstractions in Extensive-Form Games", 2013), read from the river table.

All kernels are parallel over boards (prange): the build uses every core; training never calls them.
Tables are float32 [canonical board, 1326 combos]; combos that clash with the board are NaN.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from holdem.abstraction.isomorphism import canonical_board, colex_rank
from holdem.cards import NUM_CARDS, NUM_COMBOS, combo_index
from holdem.evaluator import evaluate7


@njit(cache=True, parallel=True, nogil=True)
def river_strength(boards, combos, out):
    """out[b, h] = exact HS of hole combo h on canonical river board b (NaN if they share a card)."""
    n_boards = boards.shape[0]
    for b in prange(n_boards):
        dead = np.zeros(NUM_CARDS, dtype=np.bool_)
        for i in range(5):
            dead[boards[b, i]] = True
        ranks = np.full(NUM_COMBOS, -1, dtype=np.int64)
        live = 0
        for h in range(NUM_COMBOS):
            c1 = combos[h, 0]
            c2 = combos[h, 1]
            if dead[c1] or dead[c2]:
                out[b, h] = np.nan
                continue
            ranks[h] = evaluate7(c1, c2, boards[b, 0], boards[b, 1], boards[b, 2], boards[b, 3], boards[b, 4])
            live += 1
        order = np.argsort(ranks)  # dead combos (-1) first
        below_card = np.zeros(NUM_CARDS, dtype=np.int64)  # live hands holding this card, strictly weaker
        below = 0
        start = NUM_COMBOS - live
        i = start
        while i < NUM_COMBOS:
            j = i
            while j < NUM_COMBOS and ranks[order[j]] == ranks[order[i]]:
                j += 1
            group_card = np.zeros(NUM_CARDS, dtype=np.int64)
            for g in range(i, j):
                h = order[g]
                group_card[combos[h, 0]] += 1
                group_card[combos[h, 1]] += 1
            for g in range(i, j):
                h = order[g]
                c1 = combos[h, 0]
                c2 = combos[h, 1]
                wins = below - below_card[c1] - below_card[c2]
                # the hand itself is in its group once for each of its cards, and sharing both
                # cards is only possible for the hand itself
                ties = (j - i) - group_card[c1] - group_card[c2] + 1
                out[b, h] = (wins + 0.5 * ties) / 990.0
            for g in range(i, j):
                h = order[g]
                below_card[combos[h, 0]] += 1
                below_card[combos[h, 1]] += 1
            below += j - i
            i = j


@njit(cache=True, parallel=True, nogil=True)
def average_next(boards, combos, binom, card_perms, next_canon_id, next_a, next_b, square_b, out_a, out_b):
    """Means over the next card, at the renamed (board + card, hole): out_a of next_a, and out_b of
    next_b (or of next_b squared with square_b). One pass gives a street both E[HS] and E[HS^2]."""
    n_boards, k = boards.shape
    for b in prange(n_boards):
        dead = np.zeros(NUM_CARDS, dtype=np.bool_)
        for i in range(k):
            dead[boards[b, i]] = True
        acc = np.zeros(NUM_COMBOS)
        acc_b = np.zeros(NUM_COMBOS)
        count = np.zeros(NUM_COMBOS)
        nxt = np.empty(k + 1, dtype=np.int64)
        canon = np.empty(k + 1, dtype=np.int64)
        for card in range(NUM_CARDS):
            if dead[card]:
                continue
            m = 0
            placed = False
            for i in range(k):
                if not placed and card < boards[b, i]:
                    nxt[m] = card
                    m += 1
                    placed = True
                nxt[m] = boards[b, i]
                m += 1
            if not placed:
                nxt[m] = card
            p = canonical_board(nxt, k + 1, card_perms, canon)
            cid = next_canon_id[colex_rank(nxt, k + 1, binom)]
            for h in range(NUM_COMBOS):
                c1 = combos[h, 0]
                c2 = combos[h, 1]
                if dead[c1] or dead[c2] or c1 == card or c2 == card:
                    continue
                hh = combo_index(card_perms[p, c1], card_perms[p, c2])
                acc[h] += next_a[cid, hh]
                vb = next_b[cid, hh]
                acc_b[h] += vb * vb if square_b else vb
                count[h] += 1.0
        for h in range(NUM_COMBOS):
            out_a[b, h] = acc[h] / count[h] if count[h] > 0.0 else np.nan
            out_b[b, h] = acc_b[h] / count[h] if count[h] > 0.0 else np.nan

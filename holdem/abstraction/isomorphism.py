"""Suit isomorphism of boards, so bucket tables index only what strategy can tell apart.

Two deals that differ by a renaming of suits are the same situation. A board of k cards is mapped to
its canonical form: of the 24 suit renamings, the one giving the smallest sorted card tuple (the first
such renaming in a fixed order when several tie). Hole cards are renamed with the same map, so a
(board, hole) pair is looked up as (canonical board id, hole combo after renaming) — two array reads.
Holes that the board's own symmetries would also identify get separate, identically built entries:
a little table space traded for a lookup with no search at all.

Counts of canonical boards: 1,755 flops, 16,432 turns, 134,459 rivers. Cards are 4*rank + suit.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numba import njit

from holdem.cards import COMBO_CARDS, NUM_CARDS


def _binomials(n: int = 53, k: int = 8) -> np.ndarray:
    table = np.zeros((n, k), dtype=np.int64)
    for i in range(n):
        table[i, 0] = 1
        for j in range(1, min(i, k - 1) + 1):
            table[i, j] = table[i - 1, j - 1] + (table[i - 1, j] if j <= i - 1 else 0)
    return table


BINOM = _binomials()
SUIT_PERMS = np.array(list(itertools.permutations(range(4))), dtype=np.int64)  # [24, 4]
CARD_PERMS = np.array([[4 * (c // 4) + p[c % 4] for c in range(NUM_CARDS)] for p in SUIT_PERMS], dtype=np.int64)


@njit(cache=True, inline="always")
def colex_rank(cards, k, binom):
    """Rank of a sorted k-card set in colexicographic order: sum of C(card_i, i+1)."""
    r = 0
    for i in range(k):
        r += binom[cards[i], i + 1]
    return r


@njit(cache=True)
def sort_small(x, k):
    for i in range(1, k):
        v = x[i]
        j = i - 1
        while j >= 0 and x[j] > v:
            x[j + 1] = x[j]
            j -= 1
        x[j + 1] = v


@njit(cache=True)
def canonical_board(board, k, card_perms, out):
    """Write the canonical form of board[:k] into out[:k]; return the renaming's index."""
    best = -1
    tmp = np.empty(k, dtype=np.int64)
    for p in range(card_perms.shape[0]):
        for i in range(k):
            tmp[i] = card_perms[p, board[i]]
        sort_small(tmp, k)
        better = best < 0
        if not better:
            for i in range(k):
                if tmp[i] != out[i]:
                    better = tmp[i] < out[i]
                    break
        if better:
            best = p
            for i in range(k):
                out[i] = tmp[i]
    return best


@njit(cache=True)
def _index_all_boards(k, binom, card_perms, canon_of_rank, perm_of_rank, first_rank_of_canon):
    """For every raw k-card board (by colex rank): its canonical board's colex rank and its renaming."""
    cards = np.empty(k, dtype=np.int64)
    canon = np.empty(k, dtype=np.int64)
    for i in range(k):
        cards[i] = i
    while True:
        r = colex_rank(cards, k, binom)
        perm_of_rank[r] = canonical_board(cards, k, card_perms, canon)
        canon_of_rank[r] = colex_rank(canon, k, binom)
        first_rank_of_canon[canon_of_rank[r]] = 1
        # next combination in colex order
        i = 0
        while i < k - 1 and cards[i] + 1 == cards[i + 1]:
            cards[i] = i
            i += 1
        if i == k - 1 and cards[i] == NUM_CARDS - 1:
            break
        cards[i] += 1


@dataclass(frozen=True, slots=True)
class BoardIndex:
    """Lookup of k-card boards: raw colex rank -> (dense canonical id, suit renaming)."""

    k: int
    canon_id: np.ndarray  # int32 [C(52, k)]
    perm: np.ndarray  # int8 [C(52, k)]
    boards: np.ndarray  # int8 [n_canonical, k]: the canonical boards, sorted
    weight: np.ndarray  # int32 [n_canonical]: raw boards each stands for

    @property
    def n_canonical(self) -> int:
        return int(self.boards.shape[0])


def build_board_index(k: int) -> BoardIndex:
    n_raw = int(BINOM[NUM_CARDS, k])
    canon_rank = np.empty(n_raw, dtype=np.int64)
    perm = np.empty(n_raw, dtype=np.int8)
    is_canon = np.zeros(n_raw, dtype=np.int8)
    _index_all_boards(k, BINOM, CARD_PERMS, canon_rank, perm, is_canon)
    canon_ranks = np.flatnonzero(is_canon)
    dense = np.full(n_raw, -1, dtype=np.int32)
    dense[canon_ranks] = np.arange(canon_ranks.size, dtype=np.int32)
    canon_id = dense[canon_rank]
    weight = np.bincount(canon_id, minlength=canon_ranks.size).astype(np.int32)
    boards = np.array([_unrank(int(r), k) for r in canon_ranks], dtype=np.int8).reshape(-1, k)
    return BoardIndex(k, canon_id, perm, boards, weight)


def _unrank(r: int, k: int) -> list[int]:
    out = []
    for i in range(k, 0, -1):
        c = i - 1
        while BINOM[c + 1, i] <= r:
            c += 1
        out.append(c)
        r -= int(BINOM[c, i])
    return out[::-1]


def hole_combos() -> np.ndarray:
    """int64 [1326, 2]: the two cards of every combo index (``cards.COMBO_CARDS``, as the kernels index)."""
    return COMBO_CARDS.astype(np.int64)

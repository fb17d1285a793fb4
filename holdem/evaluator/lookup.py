"""The evaluator's kernels: a hand's rank from the sum of its cards' keys and two table reads
(``tables``), for 5, 6 or 7 cards one at a time or in a batch, and the counts over every hand."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numba import njit

from holdem.cards import NUM_CARDS, cards_to_array
from holdem.evaluator.tables import (
    CARD_KEY,
    CATEGORY,
    CATEGORY_NAMES,
    FLUSH_BIAS,
    FLUSH_BITS,
    FLUSH_RANK,
    NUM_CLASSES,
    OFFSET5,
    OFFSET6,
    OFFSET7,
    RANK5,
    RANK6,
    RANK7,
    ROW_SHIFT,
    SUIT_BITS,
)


@njit(cache=True, inline="always")
def _rank_of_key(key: int, offset: np.ndarray, table: np.ndarray, cards: tuple) -> np.int32:
    """Rank from a key sum: hashed rank keys, or the flush table if a suit counts five or more."""
    flush = key & FLUSH_BITS
    if flush == 0:
        r = key >> SUIT_BITS
        return np.int32(table[r + offset[r >> ROW_SHIFT]])
    suit = 0
    while flush & (8 << (4 * suit)) == 0:
        suit += 1
    mask = 0
    for c in cards:
        if c & 3 == suit:
            mask |= 1 << (c >> 2)
    return np.int32(FLUSH_RANK[mask])


@njit(cache=True, inline="always")
def evaluate7(c0: int, c1: int, c2: int, c3: int, c4: int, c5: int, c6: int) -> np.int32:
    """Rank (1..7462, higher is better) of the best five of seven distinct cards."""
    key = (
        FLUSH_BIAS
        + CARD_KEY[c0]
        + CARD_KEY[c1]
        + CARD_KEY[c2]
        + CARD_KEY[c3]
        + CARD_KEY[c4]
        + CARD_KEY[c5]
        + CARD_KEY[c6]
    )
    return _rank_of_key(key, OFFSET7, RANK7, (c0, c1, c2, c3, c4, c5, c6))


@njit(cache=True, inline="always")
def evaluate6(c0: int, c1: int, c2: int, c3: int, c4: int, c5: int) -> np.int32:
    """Rank of the best five of six distinct cards."""
    key = FLUSH_BIAS + CARD_KEY[c0] + CARD_KEY[c1] + CARD_KEY[c2] + CARD_KEY[c3] + CARD_KEY[c4] + CARD_KEY[c5]
    return _rank_of_key(key, OFFSET6, RANK6, (c0, c1, c2, c3, c4, c5))


@njit(cache=True, inline="always")
def evaluate5(c0: int, c1: int, c2: int, c3: int, c4: int) -> np.int32:
    """Rank of five distinct cards."""
    key = FLUSH_BIAS + CARD_KEY[c0] + CARD_KEY[c1] + CARD_KEY[c2] + CARD_KEY[c3] + CARD_KEY[c4]
    return _rank_of_key(key, OFFSET5, RANK5, (c0, c1, c2, c3, c4))


@njit(cache=True)
def evaluate_cards(cards: np.ndarray) -> np.int32:
    """Rank of a 1-D array of 5, 6 or 7 distinct cards (-1 for any other length)."""
    n = cards.shape[0]
    if n == 7:
        return evaluate7(cards[0], cards[1], cards[2], cards[3], cards[4], cards[5], cards[6])
    if n == 6:
        return evaluate6(cards[0], cards[1], cards[2], cards[3], cards[4], cards[5])
    if n == 5:
        return evaluate5(cards[0], cards[1], cards[2], cards[3], cards[4])
    return np.int32(-1)


@njit(cache=True, nogil=True)
def evaluate_batch(hands: np.ndarray) -> np.ndarray:
    """Ranks (int32[n]) of the rows of ``hands`` (int[n, k], k = 5, 6 or 7 distinct cards a row)."""
    n, k = hands.shape
    out = np.empty(n, np.int32)
    if k == 7:
        for i in range(n):
            h = hands[i]
            out[i] = evaluate7(h[0], h[1], h[2], h[3], h[4], h[5], h[6])
    else:
        for i in range(n):
            out[i] = evaluate_cards(hands[i])
    return out


@njit(cache=True, inline="always")
def category(rank: int) -> np.int64:
    """Category of a rank: 0 high card, 1 pair, …, 8 straight flush (see ``CATEGORY_NAMES``)."""
    return np.int64(CATEGORY[rank])


@njit(cache=True, nogil=True)
def rank_counts(n_cards: int) -> np.ndarray:
    """How many of the C(52, n_cards) hands (n_cards = 5, 6 or 7) have each rank: int64[7463].

    Walks every combination in lexicographic order with an index array and ranks each one
    from scratch with ``evaluate_cards``, so it exercises exactly the public kernel.
    """
    if n_cards < 5 or n_cards > 7:
        raise ValueError("rank_counts takes 5, 6 or 7 cards")
    counts = np.zeros(NUM_CLASSES + 1, np.int64)
    idx = np.arange(n_cards)
    while True:
        counts[evaluate_cards(idx)] += 1
        j = n_cards - 1  # advance to the next combination: bump the last index that can move
        while j >= 0 and idx[j] == NUM_CARDS - n_cards + j:
            j -= 1
        if j < 0:
            return counts
        idx[j] += 1
        for m in range(j + 1, n_cards):
            idx[m] = idx[m - 1] + 1


def category_counts(n_cards: int) -> np.ndarray:
    """How many of the C(52, n_cards) hands fall in each category, high card first: int64[9]."""
    return np.bincount(CATEGORY, weights=rank_counts(n_cards), minlength=9).astype(np.int64)


def evaluate(cards: str | Iterable[int]) -> int:
    """Rank of 5, 6 or 7 cards given as text (``"As Kd 7h 7c 2s"``) or integers."""
    arr = cards_to_array(cards)
    if not 5 <= arr.shape[0] <= 7:
        raise ValueError(f"a hand has 5, 6 or 7 cards, not {arr.shape[0]}")
    return int(evaluate_cards(arr))


def category_name(rank: int) -> str:
    """``"one pair"`` and so on: the name of a rank's category."""
    return CATEGORY_NAMES[int(CATEGORY[rank])]

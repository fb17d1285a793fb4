"""Poker hand evaluator: 5, 6 or 7 cards (``holdem.cards`` encoding) to a hand rank, higher is better.

Invariants: a rank is one of the 7,462 classes of five-card poker hands, numbered 1 (7-5-4-3-2 high)
to 7,462 (royal flush); two hands tie exactly when their ranks are equal; a hand of 6 or 7 cards ranks
as its best five. ``category(rank)`` is 0 high card … 8 straight flush (``CATEGORY_NAMES``).

Technique: additive rank keys with a flush-check strip, after Kenneth Shackleton's SKPokerEval
(github.com/kennethshackleton/SKPokerEval). Each card has a 64-bit key: its rank's key (chosen so that
the sums of any 7 ranks, at most 4 of each, are distinct) above a 4-bit counter for its suit. One sum
of 7 keys gives both: a counter that reaches 5 means a flush, and then the 13-bit rank mask of that suit
is looked up in an 8,192-entry table; otherwise the rank-key sum (< 7.9 million, 49,205 distinct
values) is looked up through a row-displacement perfect hash (Tarjan & Yao, "Storing a sparse table",
1979): the 7-card path reads about 270 KB of tables, which stay in L2 cache. The tables are built at
import from a direct count-based scorer; ``evaluate_reference`` is an independent plain-Python twin
(best of the 5-card subsets) that the tests compare with, as they do with eval7 and with the exact
category counts of every hand.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

import numpy as np
from numba import njit

from holdem.cards import cards_to_array

NUM_CLASSES = 7462
CATEGORY_NAMES = (
    "high card",
    "one pair",
    "two pair",
    "three of a kind",
    "straight",
    "flush",
    "full house",
    "four of a kind",
    "straight flush",
)
HIGH_CARD, PAIR, TWO_PAIR, TRIPS, STRAIGHT, FLUSH, FULL_HOUSE, QUADS, STRAIGHT_FLUSH = range(9)

# Rank keys of SKPokerEval's 7-card evaluator; uniqueness of all 7-rank sums is checked at build.
_RANK_KEYS = np.array([0, 1, 5, 22, 98, 453, 2031, 8698, 22854, 83661, 262349, 636345, 1479181])
_SUIT_BITS = 16  # the low 16 bits hold four 4-bit suit counters
_FLUSH_BIAS = 0x3333  # counters start at 3, so a count of 5..7 sets the counter's top bit
_FLUSH_BITS = 0x8888
_ROW_SHIFT = 8  # perfect hash: row = key >> 8, column = key & 255 (smallest total table size)


# --- building the tables -----------------------------------------------------------------------


@njit(cache=True)
def _code(category: int, r0: int, r1: int, r2: int, r3: int, r4: int) -> int:
    """A sortable hand value: category, then up to five ranks in order of significance."""
    return (category << 20) | (r0 << 16) | (r1 << 12) | (r2 << 8) | (r3 << 4) | r4


@njit(cache=True)
def _straight_top(mask: int) -> int:
    """Rank of the top card of the highest straight in a 13-bit rank mask, or -1 (wheel top = 3)."""
    for top in range(12, 3, -1):
        window = 0x1F << (top - 4)
        if mask & window == window:
            return top
    if mask & 0x100F == 0x100F:  # A-2-3-4-5
        return 3
    return -1


@njit(cache=True)
def _flush_codes() -> np.ndarray:
    """Value of the best hand among cards of one suit, by their 13-bit rank mask (0 if < 5 cards)."""
    out = np.zeros(1 << 13, np.int64)
    r = np.zeros(13, np.int64)
    for mask in range(1 << 13):
        k = 0
        for rank in range(12, -1, -1):
            if mask & (1 << rank):
                r[k] = rank
                k += 1
        top = _straight_top(mask)
        if top >= 0 and k >= 5:
            out[mask] = _code(STRAIGHT_FLUSH, top, 0, 0, 0, 0)
        elif k >= 5:
            out[mask] = _code(FLUSH, r[0], r[1], r[2], r[3], r[4])
    return out


@njit(cache=True)
def _code_of_counts(counts: np.ndarray) -> int:
    """Value of the best hand of these rank counts when no five cards share a suit."""
    quad, trips, pairs, singles = -1, np.full(2, -1), np.full(3, -1), np.full(5, -1)
    n_trips, n_pairs, n_singles, mask = 0, 0, 0, 0
    for rank in range(12, -1, -1):  # from the ace down, so each list is sorted high to low
        c = counts[rank]
        if c > 0:
            mask |= 1 << rank
        if c == 4 and quad < 0:
            quad = rank
        elif c >= 3 and n_trips < 2:
            trips[n_trips] = rank
            n_trips += 1
        elif c >= 2 and n_pairs < 3:
            pairs[n_pairs] = rank
            n_pairs += 1
        elif c == 1 and n_singles < 5:
            singles[n_singles] = rank
            n_singles += 1
    if quad >= 0:  # the kicker is the best other rank, whether it comes single, paired or tripled
        return _code(QUADS, quad, max(trips[0], pairs[0], singles[0]), 0, 0, 0)
    if n_trips >= 1 and (n_trips == 2 or n_pairs >= 1):
        pair = trips[1] if n_trips == 2 and trips[1] > pairs[0] else pairs[0]
        return _code(FULL_HOUSE, trips[0], pair, 0, 0, 0)
    top = _straight_top(mask)
    if top >= 0:
        return _code(STRAIGHT, top, 0, 0, 0, 0)
    if n_trips == 1:
        return _code(TRIPS, trips[0], singles[0], singles[1], 0, 0)
    if n_pairs >= 2:
        kicker = max(singles[0], pairs[2])  # a third pair's rank can be the kicker
        return _code(TWO_PAIR, pairs[0], pairs[1], kicker, 0, 0)
    if n_pairs == 1:
        return _code(PAIR, pairs[0], singles[0], singles[1], singles[2], 0)
    return _code(HIGH_CARD, singles[0], singles[1], singles[2], singles[3], singles[4])


@njit(cache=True)
def _codes_of_counts(counts: np.ndarray) -> np.ndarray:
    out = np.empty(counts.shape[0], np.int64)
    for i in range(counts.shape[0]):
        out[i] = _code_of_counts(counts[i])
    return out


@njit(cache=True)
def _row_displacement(keys: np.ndarray, shift: int) -> tuple[np.ndarray, int]:
    """Offsets d[row] so that ``key + d[key >> shift]`` is injective on ``keys``, and the table size.

    First fit, densest rows first; a row with as many keys as the one before starts its search where
    that one was placed (the slots before failed it too, mostly), which makes the build ~25x faster
    for a 3% larger table. Offsets are stored minus ``row << shift`` so the lookup is one add.
    """
    width = 1 << shift
    rows = keys >> shift
    n_rows = rows.max() + 1
    count = np.zeros(n_rows + 1, np.int64)
    for r in rows:
        count[r + 1] += 1
    start = np.cumsum(count)  # keys are sorted, so the keys of row r are keys[start[r]:start[r + 1]]
    order = np.argsort(-count[1:], kind="mergesort")
    used = np.zeros(keys.shape[0] * 2 + 2 * width, np.bool_)
    offset = np.zeros(n_rows, np.int64)
    first_free, size, prev_n, prev_s = 0, 0, -1, 0
    for r in order:
        n = count[r + 1]
        if n == 0:
            break
        cols = keys[start[r] : start[r + 1]] & (width - 1)
        s = max(first_free, prev_s) if n == prev_n else first_free
        while True:  # try placing the row's first column on each free slot in turn
            o = s - cols[0]
            if o >= 0 and not used[s]:
                ok = True
                for c in cols:
                    if used[o + c]:
                        ok = False
                        break
                if ok:
                    break
            s += 1
            if s + width >= used.shape[0]:
                raise ValueError("row displacement table overflow")
        for c in cols:
            used[o + c] = True
        prev_n, prev_s = n, s
        size = max(size, o + cols[-1] + 1)
        offset[r] = o - (r << shift)
        while used[first_free]:
            first_free += 1
    return offset.astype(np.int32), size


def _rank_multisets(n: int) -> np.ndarray:
    """Count vectors (int64[m, 13]) of every multiset of n ranks with at most 4 of each rank."""
    combos = np.array(list(itertools.combinations_with_replacement(range(13), n)), dtype=np.int64)
    counts = np.zeros((len(combos), 13), dtype=np.int64)
    for j in range(n):
        np.add.at(counts, (np.arange(len(combos)), combos[:, j]), 1)
    return counts[(counts <= 4).all(axis=1)]


def _build_tables() -> dict[str, np.ndarray]:
    flush_codes = _flush_codes()
    five_suited = np.array([bin(m).count("1") == 5 for m in range(1 << 13)])
    by_size = {}
    for n in (5, 6, 7):
        counts = _rank_multisets(n)
        keys = counts @ _RANK_KEYS
        order = np.argsort(keys)
        keys, counts = keys[order], counts[order]
        if np.any(np.diff(keys) == 0):
            raise AssertionError(f"rank keys collide on {n} cards")
        by_size[n] = keys, _codes_of_counts(counts)
    # The 7,462 classes are exactly the values of five-card hands; number them in order.
    classes = np.union1d(by_size[5][1], flush_codes[five_suited])
    if classes.shape[0] != NUM_CLASSES:
        raise AssertionError(f"{classes.shape[0]} hand classes instead of {NUM_CLASSES}")

    def dense(codes: np.ndarray) -> np.ndarray:
        return (np.searchsorted(classes, codes) + 1).astype(np.uint16)

    tables = {"flush": np.where(flush_codes > 0, dense(flush_codes), 0).astype(np.uint16)}
    for n, (keys, codes) in by_size.items():
        offset, size = _row_displacement(keys, _ROW_SHIFT)
        table = np.zeros(size, dtype=np.uint16)
        table[keys + offset[keys >> _ROW_SHIFT]] = dense(codes)
        tables[f"offset{n}"], tables[f"rank{n}"] = offset, table
    tables["category"] = np.concatenate(([0], classes >> 20)).astype(np.uint8)  # by rank 0..7462
    card = np.arange(52)
    tables["card_key"] = (_RANK_KEYS[card >> 2] << _SUIT_BITS) | (1 << (4 * (card & 3)))
    for t in tables.values():
        t.setflags(write=False)
    return tables


_T = _build_tables()
# Module-level arrays are frozen into the compiled kernels as constants (numba treats globals so).
_CARD_KEY, _FLUSH, _CATEGORY = _T["card_key"], _T["flush"], _T["category"]
_OFFSET5, _RANK5, _OFFSET6, _RANK6 = _T["offset5"], _T["rank5"], _T["offset6"], _T["rank6"]
_OFFSET7, _RANK7 = _T["offset7"], _T["rank7"]
# First rank of each category, for documentation and tests.
CATEGORY_START = tuple(int(np.argmax(_CATEGORY[1:] == c)) + 1 for c in range(9))


# --- the kernels -------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _rank_of_key(key: int, offset: np.ndarray, table: np.ndarray, cards: tuple) -> np.int32:
    """Rank from a key sum: hashed rank keys, or the flush table if a suit counts five or more."""
    flush = key & _FLUSH_BITS
    if flush == 0:
        r = key >> _SUIT_BITS
        return np.int32(table[r + offset[r >> _ROW_SHIFT]])
    suit = 0
    while flush & (8 << (4 * suit)) == 0:
        suit += 1
    mask = 0
    for c in cards:
        if c & 3 == suit:
            mask |= 1 << (c >> 2)
    return np.int32(_FLUSH[mask])


@njit(cache=True, inline="always")
def evaluate7(c0: int, c1: int, c2: int, c3: int, c4: int, c5: int, c6: int) -> np.int32:
    """Rank (1..7462, higher is better) of the best five of seven distinct cards."""
    key = (
        _FLUSH_BIAS
        + _CARD_KEY[c0]
        + _CARD_KEY[c1]
        + _CARD_KEY[c2]
        + _CARD_KEY[c3]
        + _CARD_KEY[c4]
        + _CARD_KEY[c5]
        + _CARD_KEY[c6]
    )
    return _rank_of_key(key, _OFFSET7, _RANK7, (c0, c1, c2, c3, c4, c5, c6))


@njit(cache=True, inline="always")
def evaluate6(c0: int, c1: int, c2: int, c3: int, c4: int, c5: int) -> np.int32:
    """Rank of the best five of six distinct cards."""
    key = _FLUSH_BIAS + _CARD_KEY[c0] + _CARD_KEY[c1] + _CARD_KEY[c2] + _CARD_KEY[c3] + _CARD_KEY[c4] + _CARD_KEY[c5]
    return _rank_of_key(key, _OFFSET6, _RANK6, (c0, c1, c2, c3, c4, c5))


@njit(cache=True, inline="always")
def evaluate5(c0: int, c1: int, c2: int, c3: int, c4: int) -> np.int32:
    """Rank of five distinct cards."""
    key = _FLUSH_BIAS + _CARD_KEY[c0] + _CARD_KEY[c1] + _CARD_KEY[c2] + _CARD_KEY[c3] + _CARD_KEY[c4]
    return _rank_of_key(key, _OFFSET5, _RANK5, (c0, c1, c2, c3, c4))


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
    return np.int64(_CATEGORY[rank])


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
        while j >= 0 and idx[j] == 52 - n_cards + j:
            j -= 1
        if j < 0:
            return counts
        idx[j] += 1
        for m in range(j + 1, n_cards):
            idx[m] = idx[m - 1] + 1


def category_counts(n_cards: int) -> np.ndarray:
    """How many of the C(52, n_cards) hands fall in each category, high card first: int64[9]."""
    return np.bincount(_CATEGORY, weights=rank_counts(n_cards), minlength=9).astype(np.int64)


def evaluate(cards: str | Iterable[int]) -> int:
    """Rank of 5, 6 or 7 cards given as text (``"As Kd 7h 7c 2s"``) or integers."""
    arr = cards_to_array(cards)
    if not 5 <= arr.shape[0] <= 7:
        raise ValueError(f"a hand has 5, 6 or 7 cards, not {arr.shape[0]}")
    return int(evaluate_cards(arr))


def category_name(rank: int) -> str:
    """``"one pair"`` and so on: the name of a rank's category."""
    return CATEGORY_NAMES[int(_CATEGORY[rank])]


# --- the readable twin -------------------------------------------------------------------------


def _five_card_value(cards: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
    """(category, tie-break ranks) of exactly five cards, by the rules as a person states them."""
    ranks = sorted((c >> 2 for c in cards), reverse=True)
    is_flush = len({c & 3 for c in cards}) == 1
    distinct = sorted(set(ranks), reverse=True)
    straight_top = None
    if len(distinct) == 5 and ranks[0] - ranks[4] == 4:
        straight_top = ranks[0]
    elif distinct == [12, 3, 2, 1, 0]:  # the wheel: the ace plays low
        straight_top = 3
    # Group by (count, rank), most cards first, higher rank first: that is the tie-break order.
    groups = sorted(((n, r) for r, n in Counter(ranks).items()), reverse=True)
    shape = tuple(n for n, _ in groups)
    order = tuple(r for _, r in groups)
    if straight_top is not None and is_flush:
        return STRAIGHT_FLUSH, (straight_top,)
    if shape == (4, 1):
        return QUADS, order
    if shape == (3, 2):
        return FULL_HOUSE, order
    if is_flush:
        return FLUSH, order
    if straight_top is not None:
        return STRAIGHT, (straight_top,)
    category_of_shape = {(3, 1, 1): TRIPS, (2, 2, 1): TWO_PAIR, (2, 1, 1, 1): PAIR}
    return category_of_shape.get(shape, HIGH_CARD), order


@lru_cache(maxsize=1)
def _reference_classes() -> dict[tuple[int, tuple[int, ...]], int]:
    """Every five-card value numbered 1..7462 in increasing order, from one hand of each kind."""
    values = set()
    for ranks in itertools.combinations_with_replacement(range(13), 5):  # sorted rank multisets
        if max(Counter(ranks).values()) <= 4:
            # Suits c, d, h, s, c by position: equal ranks sit side by side, so no card repeats,
            # and no flush. Five distinct ranks also make a flush (all clubs).
            values.add(_five_card_value(tuple(4 * r + i % 4 for i, r in enumerate(ranks))))
            if len(set(ranks)) == 5:
                values.add(_five_card_value(tuple(4 * r for r in ranks)))
    return {v: i + 1 for i, v in enumerate(sorted(values))}


def evaluate_reference(cards: str | Iterable[int]) -> int:
    """Slow, plainly correct rank of 5, 6 or 7 cards: the best value over every five-card subset."""
    arr = [int(c) for c in cards_to_array(cards)]
    if not 5 <= len(arr) <= 7:
        raise ValueError(f"a hand has 5, 6 or 7 cards, not {len(arr)}")
    best = max(_five_card_value(sub) for sub in itertools.combinations(arr, 5))
    return _reference_classes()[best]

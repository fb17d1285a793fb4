"""The evaluator's tables, built at import from a direct count-based scorer (see ``holdem.evaluator``).

Each card has a 64-bit key: its rank's key (chosen so that the sums of any 7 ranks, at most 4 of each,
are distinct) above a 4-bit counter for its suit. A rank-key sum is looked up through a row-displacement
perfect hash (Tarjan & Yao, "Storing a sparse table", 1979), one table for 5, 6 and 7 cards; a flush by
its suit's 13-bit rank mask. Ranks number the 7,462 five-card classes from 1 (7-5-4-3-2 high) to 7,462.
"""

from __future__ import annotations

import itertools

import numpy as np
from numba import njit

from holdem.cards import NUM_CARDS

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
RANK_KEYS = np.array([0, 1, 5, 22, 98, 453, 2031, 8698, 22854, 83661, 262349, 636345, 1479181])
SUIT_BITS = 16  # the low 16 bits hold four 4-bit suit counters
FLUSH_BIAS = 0x3333  # counters start at 3, so a count of 5..7 sets the counter's top bit
FLUSH_BITS = 0x8888
ROW_SHIFT = 8  # perfect hash: row = key >> 8, column = key & 255 (smallest total table size)


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
    that one was placed (the slots before failed it too, mostly): a much faster build for a slightly
    larger table (docs/decisions.md). Offsets are stored minus ``row << shift`` so the lookup is one add.
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
        keys = counts @ RANK_KEYS
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
        offset, size = _row_displacement(keys, ROW_SHIFT)
        table = np.zeros(size, dtype=np.uint16)
        table[keys + offset[keys >> ROW_SHIFT]] = dense(codes)
        tables[f"offset{n}"], tables[f"rank{n}"] = offset, table
    tables["category"] = np.concatenate(([0], classes >> 20)).astype(np.uint8)  # by rank 0..7462
    card = np.arange(NUM_CARDS)
    tables["card_key"] = (RANK_KEYS[card >> 2] << SUIT_BITS) | (1 << (4 * (card & 3)))
    for t in tables.values():
        t.setflags(write=False)
    return tables


_T = _build_tables()
# Module-level arrays: the kernels that read them have them frozen in as constants (numba treats globals so).
CARD_KEY, FLUSH_RANK, CATEGORY = _T["card_key"], _T["flush"], _T["category"]
OFFSET5, RANK5, OFFSET6, RANK6 = _T["offset5"], _T["rank5"], _T["offset6"], _T["rank6"]
OFFSET7, RANK7 = _T["offset7"], _T["rank7"]
# First rank of each category, for documentation and tests.
CATEGORY_START = tuple(int(np.argmax(CATEGORY[1:] == c)) + 1 for c in range(9))

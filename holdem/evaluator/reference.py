"""The evaluator's readable twin: a hand's rank by the rules as a person states them, the best value over
every five-card subset; slow and plainly correct, so the tests can compare the kernels with it."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from holdem.cards import cards_to_array
from holdem.evaluator.tables import (
    FLUSH,
    FULL_HOUSE,
    HIGH_CARD,
    PAIR,
    QUADS,
    STRAIGHT,
    STRAIGHT_FLUSH,
    TRIPS,
    TWO_PAIR,
)


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

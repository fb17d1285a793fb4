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
1979): the 7-card path reads about 270 KB of tables, which stay in L2 cache.

The modules: ``tables`` builds the tables at import from a direct count-based scorer, ``lookup`` holds
the kernels that read them, and ``reference`` an independent plain-Python twin (best of the 5-card
subsets) that the tests compare with, as they do with eval7 and with the exact category counts of
every hand.
"""

from holdem.evaluator.lookup import (
    category,
    category_counts,
    category_name,
    evaluate,
    evaluate5,
    evaluate6,
    evaluate7,
    evaluate_batch,
    evaluate_cards,
    rank_counts,
)
from holdem.evaluator.reference import evaluate_reference
from holdem.evaluator.tables import (
    CATEGORY_NAMES,
    CATEGORY_START,
    FLUSH,
    FULL_HOUSE,
    HIGH_CARD,
    NUM_CLASSES,
    PAIR,
    QUADS,
    STRAIGHT,
    STRAIGHT_FLUSH,
    TRIPS,
    TWO_PAIR,
)

__all__ = [
    "CATEGORY_NAMES",
    "CATEGORY_START",
    "FLUSH",
    "FULL_HOUSE",
    "HIGH_CARD",
    "NUM_CLASSES",
    "PAIR",
    "QUADS",
    "STRAIGHT",
    "STRAIGHT_FLUSH",
    "TRIPS",
    "TWO_PAIR",
    "category",
    "category_counts",
    "category_name",
    "evaluate",
    "evaluate5",
    "evaluate6",
    "evaluate7",
    "evaluate_batch",
    "evaluate_cards",
    "evaluate_reference",
    "rank_counts",
]

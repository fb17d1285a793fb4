"""Cards as integers, their text form, the index of a two-card hole combination, and random deals.

Invariants (every module that touches cards relies on them):

* A card is one integer ``card = 4 * rank + suit`` in 0..51, the encoding postflop-solver and robopoker
  use. ``rank`` 0..12 is deuce, trey, …, king, ace (so ``rank = card >> 2`` orders cards by strength);
  ``suit`` 0..3 is clubs, diamonds, hearts, spades (``suit = card & 3``). So ``2c`` = 0, ``As`` = 51.
* The text form of a card is a rank character from ``23456789TJQKA`` and a suit character from
  ``cdhs``: ``"As"``, ``"Td"``. Parsing also accepts lower case, ``10`` for ten and the suit symbols
  ``♣♦♥♠``; formatting always writes the canonical form.
* A hole combination (two distinct cards, unordered) has an index 0..1325 in colexicographic order:
  ``combo_index(a, b) = hi * (hi - 1) / 2 + lo`` with ``lo < hi``. ``COMBO_CARDS[i]`` gives ``(lo, hi)``
  back and ``COMBO_INDEX[a, b]`` is the index as a table (-1 where ``a == b``); both are plain numpy
  arrays that numba kernels can take as arguments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import IntEnum

import numpy as np
from numba import njit

NUM_CARDS = 52
NUM_RANKS = 13
NUM_SUITS = 4
NUM_COMBOS = NUM_CARDS * (NUM_CARDS - 1) // 2  # 1326
NUM_PREFLOP_CLASSES = NUM_RANKS + 2 * (NUM_RANKS * (NUM_RANKS - 1) // 2)  # 169: pairs, suited, offsuit
# Arrays of cards are uint8: a 7-card hand is 7 bytes of memory traffic, and unsigned indices spare
# numba the negative-index fix-up on each table lookup (docs/decisions.md has the measurement).
CARD_DTYPE = np.uint8


class Street(IntEnum):
    """A betting round's index: into every per-street array (buckets, bucket counts, ``BOARD_CARDS``)."""

    PREFLOP = 0
    FLOP = 1
    TURN = 2
    RIVER = 3


STREETS = tuple(s.name.lower() for s in Street)  # ("preflop", "flop", "turn", "river")
NUM_STREETS = len(Street)
BOARD_CARDS = (0, 3, 4, 5)  # board cards dealt by each street (numba indexes it by a variable, not a member)
FULL_BOARD = BOARD_CARDS[Street.RIVER]

RANK_CHARS = "23456789TJQKA"
SUIT_CHARS = "cdhs"
_SUIT_SYMBOLS = {"♣": 0, "♦": 1, "♥": 2, "♠": 3}

# One card: a rank ("10" or one character) then a suit; used to split "AsKd" and to validate a token.
_CARD_RE = re.compile(r"(10|[2-9TJQKA])([CDHS♣♦♥♠])", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s,]+")


def make_card(rank: int, suit: int) -> int:
    """The card of ``rank`` (0 = deuce … 12 = ace) and ``suit`` (0..3 = c, d, h, s)."""
    if not (0 <= rank < NUM_RANKS and 0 <= suit < NUM_SUITS):
        raise ValueError(f"no card has rank {rank} and suit {suit}")
    return 4 * rank + suit


def card_rank(card: int) -> int:
    return card >> 2


def card_suit(card: int) -> int:
    return card & 3


def _parse_one(rank_text: str, suit_text: str) -> int:
    rank = 8 if rank_text == "10" else RANK_CHARS.index(rank_text.upper())
    suit = _SUIT_SYMBOLS.get(suit_text)
    if suit is None:
        suit = SUIT_CHARS.index(suit_text.lower())
    return 4 * rank + suit


def parse_card(text: str) -> int:
    """One card from its text form, e.g. ``"As"`` → 51, ``"10h"`` → 34."""
    token = text.strip()
    m = _CARD_RE.fullmatch(token)
    if m is None:
        raise ValueError(
            f"bad card {token!r}: expected a rank from {RANK_CHARS} (or 10) "
            f"and a suit from {SUIT_CHARS}, like 'As' or 'Td'"
        )
    return _parse_one(m.group(1), m.group(2))


def parse_cards(text: str) -> list[int]:
    """Cards from text: ``"As Kd"``, ``"AsKd"``, ``"as, kd"``, ``"10s 9s"`` → ``[51, 45]``-style lists.

    Tokens are separated by spaces or commas and may each hold several cards written together.
    Raises ValueError naming the first token that is not cards, or the first card given twice.
    """
    cards: list[int] = []
    for token in _SEPARATORS.split(text.strip()):
        if not token:
            continue
        pos = 0
        while pos < len(token):
            m = _CARD_RE.match(token, pos)
            if m is None:
                bad = token if pos == 0 else f"{token[pos:]}' in '{token}"
                raise ValueError(
                    f"bad card '{bad}': expected a rank from {RANK_CHARS} (or 10) "
                    f"and a suit from {SUIT_CHARS}, like 'As' or 'Td'"
                )
            cards.append(_parse_one(m.group(1), m.group(2)))
            pos = m.end()
    _check_distinct(cards)
    return cards


def _check_distinct(cards: list[int]) -> None:
    seen: set[int] = set()
    for c in cards:
        if c in seen:
            raise ValueError(f"card {format_card(c)} is given twice")
        seen.add(c)


def format_card(card: int) -> str:
    """The canonical text of one card: 51 → ``"As"``."""
    card = int(card)
    if not 0 <= card < NUM_CARDS:
        raise ValueError(f"{card} is not a card (cards are 0..51)")
    return RANK_CHARS[card >> 2] + SUIT_CHARS[card & 3]


def format_cards(cards: Iterable[int], sep: str = " ") -> str:
    """The canonical text of cards, in the given order: ``[51, 45]`` → ``"As Kd"``."""
    return sep.join(format_card(c) for c in cards)


def cards_to_array(cards: Iterable[int] | str) -> np.ndarray:
    """Cards (a text form or integers) as a uint8 array, validated: in 0..51 and distinct."""
    if isinstance(cards, str):
        return np.array(parse_cards(cards), dtype=CARD_DTYPE)
    out = [int(c) for c in cards]
    for c in out:
        format_card(c)  # range check with a clear message
    _check_distinct(out)
    return np.array(out, dtype=CARD_DTYPE)


# --- hole combinations -------------------------------------------------------------------------


@njit(cache=True, inline="always")
def combo_index(a: int, b: int) -> int:
    """Index 0..1325 of the unordered pair of distinct cards ``a``, ``b`` (colexicographic order)."""
    lo, hi = (a, b) if a < b else (b, a)
    return hi * (hi - 1) // 2 + lo


def _build_combo_tables() -> tuple[np.ndarray, np.ndarray]:
    cards = np.empty((NUM_COMBOS, 2), dtype=CARD_DTYPE)
    index = np.full((NUM_CARDS, NUM_CARDS), -1, dtype=np.int16)
    i = 0
    for hi in range(NUM_CARDS):  # colex: all pairs with a smaller top card come first
        for lo in range(hi):
            cards[i] = lo, hi
            index[lo, hi] = index[hi, lo] = i
            i += 1
    cards.setflags(write=False)
    index.setflags(write=False)
    return cards, index


COMBO_CARDS, COMBO_INDEX = _build_combo_tables()


def combo_cards(index: int) -> tuple[int, int]:
    """The two cards ``(lo, hi)``, ``lo < hi``, of hole combination ``index`` (0..1325)."""
    if not 0 <= index < NUM_COMBOS:
        raise ValueError(f"{index} is not a hole-combination index (0..{NUM_COMBOS - 1})")
    lo, hi = COMBO_CARDS[index]
    return int(lo), int(hi)


@njit(cache=True, nogil=True)
def random_hands(n: int, k: int, seed: int) -> np.ndarray:
    """``n`` rows of ``k`` distinct cards each (uint8[n, k]), uniform, reproducible from ``seed``.

    Each row is the first k cards of a partial Fisher-Yates shuffle. Uses numba's own generator,
    seeded here, so the stream is the same on every machine for one numba version.
    """
    np.random.seed(seed)
    deck = np.arange(NUM_CARDS).astype(np.uint8)
    out = np.empty((n, k), np.uint8)
    for i in range(n):
        for j in range(k):
            m = j + np.random.randint(NUM_CARDS - j)
            deck[j], deck[m] = deck[m], deck[j]
            out[i, j] = deck[j]
    return out

"""The hand evaluator against theory (exact category counts of every hand), against its plain-Python
twin, and against eval7 (a well-known C evaluator), plus the edge cases people get wrong."""

from __future__ import annotations

import itertools
import math
import warnings
from collections import Counter

import numpy as np
import pytest

with warnings.catch_warnings():
    # eval7's range parser (which we do not use) calls pyparsing names deprecated since pyparsing 3.
    warnings.simplefilter("ignore", DeprecationWarning)
    import eval7

from numba import njit

from holdem.cards import cards_to_array, format_card, parse_cards, random_hands
from holdem.evaluator import (
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
    category,
    category_counts,
    category_name,
    evaluate,
    evaluate7,
    evaluate_batch,
    evaluate_reference,
    rank_counts,
)

# Every poker text gives these (e.g. Wikipedia, "Poker probability"): hands of each category among
# all C(52, n) hands of n cards, high card first.
EXACT_COUNTS = {
    5: [1302540, 1098240, 123552, 54912, 10200, 5108, 3744, 624, 40],
    6: [6612900, 9730740, 2532816, 732160, 361620, 205792, 165984, 14664, 1844],
    7: [23294460, 58627800, 31433400, 6461620, 6180020, 4047644, 3473184, 224848, 41584],
}
# Distinct five-card classes per category (7,462 in all).
CLASSES_PER_CATEGORY = [1277, 2860, 858, 858, 10, 1277, 156, 156, 10]
EVAL7_NAMES = ["High Card", "Pair", "Two Pair", "Trips", "Straight", "Flush", "Full House", "Quads", "Straight Flush"]


@pytest.mark.parametrize("n_cards", [5, 6, 7])
def test_category_counts_over_every_hand_are_exact(n_cards):
    """All 2,598,960 / 20,358,520 / 133,784,560 hands, each ranked by the public kernel."""
    assert category_counts(n_cards).tolist() == EXACT_COUNTS[n_cards]


def test_every_five_card_class_holds_exactly_its_share_of_all_hands():
    """A class is a rank multiset (plus, for five distinct ranks, flush or not); its hands are the
    ways to pick suits: the product of C(4, count) over its ranks, of which 4 are flushes when the
    ranks are distinct. Every one of the 7,462 ranks must be hit exactly that often."""
    expected = np.zeros(NUM_CLASSES + 1, dtype=np.int64)
    for ranks in itertools.combinations_with_replacement(range(13), 5):
        counts = Counter(ranks)
        if max(counts.values()) > 4:
            continue
        ways = math.prod(math.comb(4, c) for c in counts.values())
        suits = [i % 4 for i in range(5)]  # c d h s c: equal ranks are adjacent, so never a flush
        plain = evaluate_reference([4 * r + s for r, s in zip(ranks, suits, strict=True)])
        if len(counts) == 5:
            expected[evaluate_reference([4 * r for r in ranks])] += 4
            ways -= 4
        expected[plain] += ways
    got = rank_counts(5)
    assert got[0] == 0 and np.all(got[1:] > 0)
    assert np.array_equal(got, expected)


def test_ranks_number_the_7462_classes_by_category():
    assert NUM_CLASSES == 7462
    assert CATEGORY_START[HIGH_CARD] == 1
    sizes = np.diff([*CATEGORY_START, NUM_CLASSES + 1]).tolist()
    assert sizes == CLASSES_PER_CATEGORY
    assert [category(r) for r in (1, 1277, 1278, 7462)] == [HIGH_CARD, HIGH_CARD, PAIR, STRAIGHT_FLUSH]
    assert category_name(7462) == "straight flush"
    assert evaluate("7s 5d 4h 3c 2s") == 1
    assert evaluate("As Ks Qs Js Ts") == NUM_CLASSES


@pytest.mark.parametrize("n_cards", [5, 6, 7])
def test_agrees_with_the_readable_twin_on_random_hands(n_cards):
    hands = random_hands(3000, n_cards, 100 + n_cards)
    fast = evaluate_batch(hands)
    slow = [evaluate_reference(h) for h in hands]
    assert fast.tolist() == slow


def _eval7_values(hands: np.ndarray) -> tuple[np.ndarray, list[str]]:
    deck = [eval7.Card(format_card(c)) for c in range(52)]
    values = [eval7.evaluate([deck[c] for c in h]) for h in hands.tolist()]
    return np.array(values, dtype=np.int64), [eval7.handtype(v) for v in values]


@pytest.mark.parametrize(("n_cards", "n_hands"), [(5, 50_000), (6, 50_000), (7, 200_000)])
def test_orders_hands_exactly_as_eval7(n_cards, n_hands):
    """On random hands our rank is a strictly increasing function of eval7's value: the two agree
    on every pair (which wins, or a tie) and on every category."""
    hands = random_hands(n_hands, n_cards, 7 * n_cards)
    ours = evaluate_batch(hands)
    theirs, names = _eval7_values(hands)
    assert [EVAL7_NAMES[category(r)] for r in ours] == names
    pairs = np.unique(np.stack([theirs, ours], axis=1), axis=0)  # sorted by eval7's value
    assert len(pairs) == len(np.unique(theirs)) == len(np.unique(ours))  # same ties
    assert np.all(np.diff(pairs[:, 1]) > 0)  # same order
    rng = np.random.default_rng(n_cards)
    a, b = rng.integers(0, n_hands, size=(2, 100_000))
    assert np.array_equal(np.sign(ours[a] - ours[b]), np.sign(theirs[a] - theirs[b]))


EDGE_CASES = [
    # (seven cards, category, the five-card hand it equals)
    ("Ah 2d 3c 4s 5h 9d Kc", STRAIGHT, "5h 4s 3c 2d Ad"),  # the wheel: the ace plays low
    ("Ah 2h 3h 4h 5h Kd Kc", STRAIGHT_FLUSH, "5s 4s 3s 2s As"),  # the steel wheel
    ("Ks Kd Kh 7c 7d 7h 2s", FULL_HOUSE, "Ks Kd Kh 7c 7d"),  # two trips: kings full of sevens
    ("5s 5d 5h Ks Kd Qs Qd", FULL_HOUSE, "5s 5d 5h Ks Kd"),  # trips and two pairs: the higher pair
    ("As Ad Ks Kd Qs Qd 2c", TWO_PAIR, "As Ad Ks Kd Qh"),  # three pairs: the third pair kicks
    ("As Ad Ks Kd 2s 2d Qc", TWO_PAIR, "As Ad Ks Kd Qh"),  # three pairs: a single kicks higher
    ("9h 8h 7d 6h 5c 2h Kh", FLUSH, "Kh 9h 8h 6h 2h"),  # flush over straight
    ("9h 8h 7h 6h 5h Ts Jd", STRAIGHT_FLUSH, "9c 8c 7c 6c 5c"),  # straight flush over higher straight
    ("Ah Kh 9h 7h 5h 3h 2h", FLUSH, "Ah Kh 9h 7h 5h"),  # seven suited: the best five
    ("7s 7d 7h 7c Ks Kd 2c", QUADS, "7s 7d 7h 7c Kh"),  # quads: the kicker may come from a pair
    ("7s 7d 7h 7c 5s 5d 5c", QUADS, "7s 7d 7h 7c 5h"),  # quads beside trips
    ("As Ad 9c 8d 7h 3s 2c", PAIR, "As Ad 9c 8d 7h"),  # pair: three kickers only
    ("Qs Qd Qc 9d 7h 3s 2c", TRIPS, "Qs Qd Qc 9d 7h"),
    ("As Ks 9c 8d 7h 3s 2c", HIGH_CARD, "As Ks 9c 8d 7h"),  # high card: five kickers only
    ("Ac 2d 3h 4s 5c 6d Kh", STRAIGHT, "6d 5c 4s 3h 2d"),  # six-high beats the wheel on the same cards
    ("Tc Jd Qh Ks Ac 2d 3h", STRAIGHT, "Tc Jd Qh Ks Ad"),  # broadway; no wrap-around Q-K-A-2-3
]


@pytest.mark.parametrize(("seven", "expected_category", "five"), EDGE_CASES)
def test_edge_cases(seven, expected_category, five):
    rank = evaluate(seven)
    assert category(rank) == expected_category, CATEGORY_NAMES[category(rank)]
    assert rank == evaluate(five) == evaluate_reference(seven) == evaluate_reference(five)
    assert evaluate(parse_cards(seven)[::-1]) == rank  # card order does not matter


def test_kickers_decide_and_a_board_that_plays_ties():
    assert evaluate("As Ad Kc Qd Jh 3s 2c") > evaluate("As Ad Kc Qd Th 9s 8c")  # J kicker beats T
    assert evaluate("Ac Ad Kh Kd Qs 2c 3d") == evaluate("Ac Ad Kh Kd Qs 4c 5d")  # the board plays
    assert evaluate("Ac Ad Kh Kd 7s 2c 3d") < evaluate("Ac Ad Kh Kd 8s 2c 3d")
    assert evaluate("2c 3d 4h 5s 6c") > evaluate("Ac 2d 3h 4s 5c")  # six-high straight over the wheel
    assert evaluate("2c 3c 4c 5c 6c") > evaluate("Ac 2c 3c 4c 5c")


def test_worst_and_best_hand_of_each_category_bound_its_ranks():
    worst_best = [
        ("7s 5d 4h 3c 2s", "As Kd Qh Jc 9s"),
        ("2s 2d 5h 4c 3s", "As Ad Kh Qc Js"),
        ("3s 3d 2h 2c 4s", "As Ad Kh Kc Qs"),
        ("2s 2d 2h 4c 3s", "As Ad Ah Kc Qs"),
        ("As 2d 3h 4c 5s", "As Kd Qh Jc Ts"),
        ("7s 5s 4s 3s 2s", "As Ks Qs Js 9s"),
        ("2s 2d 2h 3c 3s", "As Ad Ah Kc Ks"),
        ("2s 2d 2h 2c 3s", "As Ad Ah Ac Ks"),
        ("As 2s 3s 4s 5s", "As Ks Qs Js Ts"),
    ]
    bounds = [*CATEGORY_START, NUM_CLASSES + 1]
    for c, (worst, best) in enumerate(worst_best):
        assert evaluate(worst) == bounds[c] == evaluate_reference(worst), CATEGORY_NAMES[c]
        assert evaluate(best) == bounds[c + 1] - 1 == evaluate_reference(best), CATEGORY_NAMES[c]


def test_batches_of_every_size_and_dtype_agree_with_single_hands():
    for n_cards in (5, 6, 7):
        hands = random_hands(2000, n_cards, n_cards)
        ranks = evaluate_batch(hands)
        assert ranks.dtype == np.int32
        assert np.array_equal(ranks, evaluate_batch(hands.astype(np.int64)))
        assert ranks[:50].tolist() == [evaluate(h) for h in hands[:50]]


def test_kernels_compose_inside_other_numba_code():
    """How the game and the abstraction use it: a showdown written in numba."""

    @njit
    def showdown(board, hole0, hole1):  # +1 if player 0 wins, -1 if player 1 does, 0 on a tie
        b = board
        r0 = evaluate7(b[0], b[1], b[2], b[3], b[4], hole0[0], hole0[1])
        r1 = evaluate7(b[0], b[1], b[2], b[3], b[4], hole1[0], hole1[1])
        return int(r0 > r1) - int(r0 < r1), category(int(r0))

    board = cards_to_array("Ah Kd 7c 7s 2h")
    assert showdown(board, cards_to_array("7h 2c"), cards_to_array("Ac As")) == (-1, FULL_HOUSE)
    assert showdown(board, cards_to_array("7h 2c"), cards_to_array("Ac Kc")) == (1, FULL_HOUSE)
    assert showdown(board, cards_to_array("3c 4c"), cards_to_array("3d 4d")) == (0, PAIR)
    assert showdown(board, cards_to_array("Kc Qc"), cards_to_array("Ad 3s")) == (-1, TWO_PAIR)


def test_bad_hands_are_refused():
    with pytest.raises(ValueError, match="5, 6 or 7 cards"):
        evaluate("As Kd Qh Jc")
    with pytest.raises(ValueError, match="given twice"):
        evaluate("As Kd Qh Jc As")
    with pytest.raises(ValueError, match="5, 6 or 7 cards"):
        evaluate_reference("As Kd Qh Jc 9s 8s 7s 6s")
    with pytest.raises(ValueError, match="5, 6 or 7 cards"):
        category_counts(4)

"""Cards: the integer encoding, the text form both ways, hole-combination indices, random deals."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from holdem.cards import (
    COMBO_CARDS,
    COMBO_INDEX,
    NUM_COMBOS,
    card_rank,
    card_suit,
    cards_to_array,
    combo_cards,
    combo_index,
    format_card,
    format_cards,
    make_card,
    parse_card,
    parse_cards,
    random_hands,
)


def test_encoding_is_four_times_rank_plus_suit():
    assert parse_card("2c") == 0
    assert parse_card("2s") == 3
    assert parse_card("3c") == 4
    assert parse_card("As") == 51
    assert parse_cards("As Kd") == [51, 45]
    for card in range(52):
        assert make_card(card_rank(card), card_suit(card)) == card
    with pytest.raises(ValueError):
        make_card(13, 0)


def test_every_card_round_trips_through_text():
    texts = [format_card(c) for c in range(52)]
    assert len(set(texts)) == 52
    assert texts[:5] == ["2c", "2d", "2h", "2s", "3c"]
    assert parse_cards(" ".join(texts)) == list(range(52))
    assert format_cards([51, 45, 34]) == "As Kd Th"
    assert format_cards([51, 45], sep="") == "AsKd"


@pytest.mark.parametrize("text", ["As Kd", "AsKd", "as kd", "AS KD", "As,Kd", " As ,  Kd ", "A♠K♦"])
def test_accepted_spellings(text):
    assert parse_cards(text) == [51, 45]


def test_ten_as_t_or_10():
    assert parse_cards("10s") == parse_cards("Ts") == parse_cards("ts") == [35]
    assert parse_cards("10s10h9c") == [35, 34, 28]
    assert parse_cards("") == []


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("As Xd", "'Xd'"),
        ("As K", "'K'"),
        ("1s", "'1s'"),
        ("Asx", "'x' in 'Asx'"),
        ("11s", "'11s'"),
        ("As Kd Kq", "'Kq'"),
    ],
)
def test_a_bad_token_is_named(text, named):
    with pytest.raises(ValueError, match=named):
        parse_cards(text)


def test_duplicates_are_rejected():
    with pytest.raises(ValueError, match="As is given twice"):
        parse_cards("As Kd as")
    with pytest.raises(ValueError, match="given twice"):
        cards_to_array([3, 3])


def test_cards_to_array_validates_integers():
    assert cards_to_array("As Kd").tolist() == [51, 45]
    assert cards_to_array([0, 51]).dtype == np.uint8
    for bad in ([52], [-1]):
        with pytest.raises(ValueError, match="not a card"):
            cards_to_array(bad)
    with pytest.raises(ValueError, match="not a card"):
        format_card(52)


def test_combo_index_is_a_bijection_onto_0_1325():
    seen = set()
    for a in range(52):
        for b in range(52):
            if a == b:
                assert COMBO_INDEX[a, b] == -1
                continue
            i = combo_index(a, b)
            assert i == combo_index(b, a) == COMBO_INDEX[a, b]
            assert combo_cards(i) == (min(a, b), max(a, b))
            seen.add(i)
    assert seen == set(range(NUM_COMBOS))


def test_combo_order_is_colexicographic():
    assert [combo_cards(i) for i in range(4)] == [(0, 1), (0, 2), (1, 2), (0, 3)]
    assert combo_cards(NUM_COMBOS - 1) == (50, 51)
    lo, hi = COMBO_CARDS[:, 0].astype(int), COMBO_CARDS[:, 1].astype(int)
    assert np.all(lo < hi)
    assert np.all(np.diff(hi * 52 + lo) > 0)
    with pytest.raises(ValueError):
        combo_cards(NUM_COMBOS)


def test_combo_tables_work_inside_numba():
    @njit
    def round_trip(cards, index):
        ok = True
        for i in range(cards.shape[0]):
            a, b = cards[i, 0], cards[i, 1]
            ok &= combo_index(a, b) == i and index[b, a] == i
        return ok

    assert round_trip(COMBO_CARDS, COMBO_INDEX)


def test_random_hands_are_distinct_uniform_and_reproducible():
    hands = random_hands(200_000, 7, 5)
    assert hands.dtype == np.uint8 and hands.shape == (200_000, 7)
    assert np.array_equal(hands, random_hands(200_000, 7, 5))
    assert not np.array_equal(hands, random_hands(200_000, 7, 6))
    assert hands.max() == 51
    ordered = np.sort(hands, axis=1)
    assert np.all(np.diff(ordered, axis=1) > 0)  # no card twice in a hand
    counts = np.bincount(hands.ravel(), minlength=52)
    expected = hands.size / 52
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))  # 5 sigma

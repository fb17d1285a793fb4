"""The check-down part of hold'em leaves (``search.hunl_equity``): every pair of hands sharing no card,
over every runout, counted exactly by the sweep, whatever the number of threads."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from holdem.cards import parse_cards
from holdem.evaluator import evaluate7
from holdem.search.hunl_equity import bucket_equity, runouts
from holdem.search.hunl_leaves import PAIR_KEY, tables_from_samples, with_checkdown
from holdem.search.solve import most_workers


def some_hands(board: list[int], n: int, n_buckets: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    gen = np.random.default_rng(seed)
    live = [c for c in range(52) if c not in board]
    combos = list(itertools.combinations(live, 2))
    chosen = [combos[i] for i in gen.choice(len(combos), n, replace=False)]
    return np.array(chosen, dtype=np.int64), gen.integers(0, n_buckets, n).astype(np.int64)


def brute_force(cards, bucket, board, extra, nb):
    sign, pairs = np.zeros((nb, nb)), np.zeros((nb, nb))
    for r in extra.tolist():
        full = board + r
        for i, j in itertools.permutations(range(len(cards)), 2):
            a, b = cards[i].tolist(), cards[j].tolist()
            if set(a) & set(b) or set(a + b) & set(r):
                continue
            si, sj = evaluate7(*a, *full), evaluate7(*b, *full)
            sign[bucket[i], bucket[j]] += np.sign(si - sj)
            pairs[bucket[i], bucket[j]] += 1
    return sign, pairs


@pytest.mark.parametrize(
    "board, n_runouts",
    [
        (parse_cards("2c3c4c5c"), 0),  # every river card; flushes, straights
        (parse_cards("2h2d2c9s"), 0),  # trips on board: many ties
        (parse_cards("8sQc3d"), 6),
    ],
)  # the flop: sampled turns and rivers
def test_the_sweep_counts_every_pair_of_hands_over_every_runout(board, n_runouts):
    cards, bucket = some_hands(board, 60, 4, seed=len(board))
    got = bucket_equity(cards, bucket, board, 6, n_runouts, seed=3)
    want = brute_force(cards, bucket, board, runouts(board, n_runouts, 3), 6)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert got[1][4:].sum() == 0 and got[1][:, 4:].sum() == 0  # buckets nobody holds stay empty


def test_the_turn_runs_out_every_river_card_and_the_flop_samples_pairs():
    assert runouts([0, 4, 8, 12], 10, 1).shape == (48, 1)
    flop = runouts([5, 18, 33], 10, 1)
    assert flop.shape == (10, 2) and (flop[:, 0] != flop[:, 1]).all() and not np.isin(flop, [5, 18, 33]).any()
    np.testing.assert_array_equal(flop, runouts([5, 18, 33], 10, 1))  # seeded


@pytest.mark.skipif(most_workers() < 2, reason="needs two numba threads")
def test_two_threads_give_the_sums_of_one():
    board = [5, 18, 33]
    cards, bucket = some_hands(board, 200, 7, seed=9)
    one = bucket_equity(cards, bucket, board, 7, 20, seed=4, workers=1)
    two = bucket_equity(cards, bucket, board, 7, 20, seed=4, workers=2)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])


def test_a_leaf_table_is_its_chips_times_the_showdown_plus_the_betting_after_it():
    gen = np.random.default_rng(1)
    b0, b1 = gen.integers(0, 3, 30), gen.integers(0, 3, 30)
    betting = tables_from_samples(b0 * PAIR_KEY + b1, gen.normal(size=(30, 2)), 4)
    sign, pairs = np.zeros((4, 4)), np.zeros((4, 4))
    pairs[:3, :3] = gen.integers(1, 9, (3, 3))  # bucket 3: no hand on this board
    sign[:3, :3] = gen.integers(-1, 2, (3, 3)) * pairs[:3, :3]
    chips = np.array([150.0, 400.0])
    got = with_checkdown(betting, sign, pairs, chips)
    assert len(got.b0) == 9  # every pair the hands fill, reached by a deal or not
    want = betting.values()[:, :3, :3] + chips[:, None, None] * (sign[:3, :3] / pairs[:3, :3])[None]
    np.testing.assert_allclose(got.values()[:, :3, :3], want, rtol=1e-12)

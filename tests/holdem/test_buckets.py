"""The card abstraction: suit isomorphism, exact hand strength, and bucket tables that read right."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from numba import njit

from holdem.abstraction.buckets import MissingBuckets, load_buckets, preflop_class
from holdem.abstraction.isomorphism import BINOM, build_board_index
from holdem.evaluator import evaluate7
from holdem.games.hunl.game import bucket_spec
from holdem.solver.es_hunl import deal_buckets


@pytest.mark.parametrize("k, count", [(3, 1_755), (4, 16_432)])
def test_canonical_board_counts(k, count):
    index = build_board_index(k)
    assert index.n_canonical == count
    assert index.weight.sum() == BINOM[52, k]


def buckets_of(game, cards):
    b = game.buckets
    out = np.empty((2, 4), dtype=np.int64)
    winner = deal_buckets(np.asarray(cards, dtype=np.int64), b.arrays(), out)
    return out, winner


def test_renaming_suits_never_changes_a_bucket_or_the_winner(hunl_buckets):
    _, game = hunl_buckets
    rng = random.Random(5)
    for _ in range(300):
        cards = rng.sample(range(52), 9)
        perm = rng.choice(list(itertools.permutations(range(4))))
        renamed = [4 * (c // 4) + perm[c % 4] for c in cards]
        a, wa = buckets_of(game, cards)
        b, wb = buckets_of(game, renamed)
        assert np.array_equal(a, b) and wa == wb


def test_board_order_does_not_matter_within_a_street(hunl_buckets):
    _, game = hunl_buckets
    rng = random.Random(6)
    for _ in range(100):
        cards = rng.sample(range(52), 9)
        flop_shuffled = cards[:4] + [cards[6], cards[4], cards[5]] + cards[7:]
        assert np.array_equal(buckets_of(game, cards)[0], buckets_of(game, flop_shuffled)[0])


@njit(cache=True)
def brute_force_hs(hole, board):
    """Hand strength against every opponent hand, the slow obvious way."""
    dead = np.zeros(52, dtype=np.bool_)
    for c in hole:
        dead[c] = True
    for c in board:
        dead[c] = True
    me = evaluate7(hole[0], hole[1], board[0], board[1], board[2], board[3], board[4])
    score = 0.0
    n = 0
    for a in range(52):
        for b in range(a + 1, 52):
            if dead[a] or dead[b]:
                continue
            opp = evaluate7(a, b, board[0], board[1], board[2], board[3], board[4])
            score += 1.0 if me > opp else 0.5 if me == opp else 0.0
            n += 1
    return score / n


def test_river_strength_is_exact():
    from holdem.abstraction.features import river_strength
    from holdem.abstraction.isomorphism import hole_combos

    rng = np.random.default_rng(1)
    boards = np.array([np.sort(rng.choice(52, 5, replace=False)) for _ in range(4)], dtype=np.int64)
    out = np.empty((4, 1326), dtype=np.float32)
    river_strength(boards, hole_combos(), out)
    combos = hole_combos()
    for b in range(4):
        live = [h for h in range(1326) if not set(combos[h]) & set(boards[b])]
        for h in rng.choice(live, 25, replace=False):
            assert out[b, h] == pytest.approx(brute_force_hs(combos[h], boards[b]), abs=1e-6)
        assert all(np.isnan(out[b, h]) for h in range(1326) if h not in live)


def test_river_buckets_rise_with_hand_strength(hunl_buckets):
    _, game = hunl_buckets
    rng = random.Random(2)
    for _ in range(30):
        board = rng.sample(range(52), 5)
        scored = []
        for _ in range(20):
            rest = [c for c in range(52) if c not in board]
            hand = rng.sample(rest, 2)
            filler = [c for c in rest if c not in hand][:2]  # the other seat's cards, not looked at
            buckets, _ = buckets_of(game, hand + filler + board)
            scored.append((brute_force_hs(np.array(hand), np.array(sorted(board))), buckets[0, 3]))
        scored.sort()
        assert all(b1 <= b2 for (_, b1), (_, b2) in zip(scored, scored[1:]))


def test_preflop_has_169_classes_with_6_4_12_combos():
    classes = [preflop_class(a, b) for a, b in itertools.combinations(range(52), 2)]
    counts = np.bincount(classes, minlength=169)
    assert len(set(classes)) == 169
    assert sorted(set(counts)) == [4, 6, 12]
    assert preflop_class(51, 50) == 12  # aces
    assert preflop_class(0, 4) == 13  # 3c 2c: the lowest suited class
    assert preflop_class(0, 5) == 91  # 3d 2c: the lowest offsuit class


def test_bucket_tables_are_read_only_maps(hunl_buckets):
    _, game = hunl_buckets
    assert isinstance(game.buckets.river, np.memmap)
    with pytest.raises(ValueError):
        game.buckets.river[0, 0] = 1


def test_a_corrupt_bucket_file_is_detected(hunl_buckets, tmp_path):
    import shutil

    root, game = hunl_buckets
    spec = bucket_spec(game.abstraction)
    copy = tmp_path / "root"
    shutil.copytree(root, copy)
    flop = next(copy.rglob("flop.npy"))
    data = bytearray(flop.read_bytes())
    data[-10] ^= 0xFF
    flop.write_bytes(bytes(data))
    with pytest.raises(MissingBuckets):
        load_buckets(spec, copy)

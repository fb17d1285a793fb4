"""Local best response in hold'em: its parts against the evaluator and the training lookups, and the whole
against blueprints whose exploitation is known."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import numpy as np
import pytest
from holdem_proc import REPO, SMALL_HUNL

from holdem.abstraction import hand_kernels as H
from holdem.cards import BOARD_CARDS, COMBO_CARDS, COMBO_INDEX, NUM_CARDS, parse_cards
from holdem.evaluation import lbr_kernels as K
from holdem.evaluation.lbr import LbrSettings, hunl_target, local_best_response, run_deals
from holdem.evaluator import evaluate
from holdem.solver.es_hunl import deal_buckets
from holdem.storage.checkpoint import write_checkpoint

HANDS = np.ascontiguousarray(COMBO_CARDS, dtype=np.int64)  # row h is hole combo h
DECK = H.Deck(H.GAME_HUNL, NUM_CARDS, 5, np.array(BOARD_CARDS, dtype=np.int64), HANDS)


def uniform(tree) -> np.ndarray:
    out = np.zeros(tree.n_slots)
    for n in tree.decision_nodes():
        out[tree.node_slots(int(n))] = 1.0 / int(tree.num_children[n])
    return out


def first_action_always(tree) -> np.ndarray:
    """Fold whenever facing a bet, check otherwise: the first action of every node, with probability 1."""
    out = np.zeros(tree.n_slots)
    for n in tree.decision_nodes():
        out[tree.node_slots(int(n))[:, 0]] = 1.0
    return out


def test_equity_is_exact_over_the_runouts_flushes_included():
    me = parse_cards("Ah Kh")
    flop = parse_cards("Qh 7h 2c")
    board = np.array(flop + [0, 0], dtype=np.int64)
    dead = np.zeros(52, dtype=np.bool_)
    for c in me + flop:
        dead[c] = True
    opponents = [parse_cards(t) for t in ("Qc Qd", "7c 2d", "Jh Th", "As Kd", "3h 3s")]
    work = H.hand_scratch(DECK)
    work.weight[:] = 0.0
    for a, b in opponents:
        work.weight[COMBO_INDEX[a, b]] = 1.0
    work.dead[:] = dead
    H.equity_vector(DECK, me[0], me[1], board, 3, 1, np.ones(4, np.uint64), work)
    eq = work.eq
    for a, b in opponents:
        rest = [c for c in range(52) if c not in me + flop + [a, b]]
        score = 0.0
        for x, y in itertools.combinations(rest, 2):
            mine, theirs = evaluate(me + flop + [x, y]), evaluate([a, b] + flop + [x, y])
            score += 1.0 if mine > theirs else 0.5 if mine == theirs else 0.0
        assert eq[COMBO_INDEX[a, b]] == pytest.approx(score / 990, abs=1e-12)


def test_preflop_equity_by_sampled_boards_is_close_to_the_known_figure():
    me = parse_cards("As Ah")
    dead = np.zeros(52, dtype=np.bool_)
    dead[me] = True
    work = H.hand_scratch(DECK)
    kk = COMBO_INDEX[parse_cards("Kd")[0], parse_cards("Kc")[0]]
    work.weight[:] = 0.0
    work.weight[kk] = 1.0
    work.dead[:] = dead
    rng = np.empty(4, np.uint64)
    H.seed_stream(rng, 1, 0, 0)
    H.equity_vector(DECK, me[0], me[1], np.zeros(5, np.int64), 0, 20_000, rng, work)
    assert work.eq[kk] == pytest.approx(0.8195, abs=0.01)  # AA against KK, all in before the flop: 81.95%


def test_the_range_reads_the_same_buckets_as_training(hunl_buckets):
    _, game = hunl_buckets
    tables = game.buckets.arrays()
    rng = np.empty(4, np.uint64)
    cards = np.empty(9, np.int64)
    expected = np.empty((2, 4), np.int64)
    out = np.empty(1326, np.int64)
    for d in range(50):
        H.seed_stream(rng, 5, d, 2)
        H.deal_cards(rng, 52, 5, np.empty(52, np.int64), cards)
        deal_buckets(cards, tables, expected)
        dead = np.zeros(52, np.bool_)
        for street, known in enumerate(BOARD_CARDS):
            dead[cards[4 : 4 + known]] = True
            H.street_buckets(H.GAME_HUNL, street, cards[4:], known, HANDS, dead, tables, np.empty(5, np.int64), out)
            for seat in (0, 1):
                assert out[COMBO_INDEX[cards[2 * seat], cards[2 * seat + 1]]] == expected[seat, street]


def test_against_a_blueprint_that_folds_to_every_bet_lbr_fcpa_wins_exactly_the_blinds(hunl_buckets):
    _, game = hunl_buckets
    target = hunl_target(game, first_action_always(game.tree))
    result = local_best_response(target, LbrSettings("fcpa", hands=200, seed=1, workers=2))
    # On the button LBR raises and the big blind folds (+100); in the big blind, the button folds (+50).
    assert result.value == 750.0 and result.ci95 == (750.0, 750.0)
    assert [s[0] for s in result.seats] == [1000.0, 500.0]


def test_lbr_exploits_a_uniform_blueprint_and_gives_the_same_hands_on_any_worker_count(hunl_buckets):
    _, game = hunl_buckets
    target = hunl_target(game, uniform(game.tree))
    one = np.zeros((60, 2))
    run_deals(target, K.VARIANT_FC, 9, 0, one, 200)
    result = local_best_response(target, LbrSettings("fc", hands=120, seed=9, workers=2, preflop_samples=200))
    assert result.value == pytest.approx(one.mean() * 10.0)  # chips -> mbb at a big blind of 100
    wide = local_best_response(target, LbrSettings("fc", hands=600, seed=3, workers=2, preflop_samples=200))
    assert wide.ci95[0] > 0.0  # calling down with equity beats a player who bets and raises at random


def test_holdem_lbr_json_on_a_blueprint_folder(hunl_buckets, tmp_path):
    root, game = hunl_buckets
    sums = uniform(game.tree)  # a strategy sum normalises to its own average strategy
    write_checkpoint(
        tmp_path / "bp",
        42,
        {"strategy_sum": sums},
        {"game": "hunl", "game_hash": game.digest(), "config": {"game": "hunl", "hunl": SMALL_HUNL}},
        keep=1,
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "holdem",
            "lbr",
            str(tmp_path / "bp"),
            "--hands",
            "40",
            "--workers",
            "2",
            "--json",
            "--buckets-root",
            str(root),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["game"], out["unit"], out["hands"], out["iteration"]) == ("hunl", "mbb/hand", 40, 42)
    assert out["preflop_samples"] == 500 and out["variant"] == "fc" and out["workers"] == 2

"""Real-time search on the small games: the numba solver agrees with its Python twin, W threads give the
numbers of one, and the searched policy meets the bounds theory and the issue ask for (exact
exploitability of Kuhn and Leduc)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
from holdem_proc import REPO, write_config

from holdem.evaluation.exploitability import exploitability
from holdem.games import load_game
from holdem.games.tree import DECISION, FOLD, LEAF, SHOWDOWN
from holdem.search import small
from holdem.search.reference import ReferenceSolver
from holdem.search.solve import SolveOptions, expected_value, gadget_values, most_workers, pair_mass, solve
from holdem.search.subgame import Hands, LeafTables, SubgameBuilder
from holdem.solver.solver import Solver, SolverSettings


def blueprint(name: str, algorithm: str, iterations: int) -> np.ndarray:
    solver = Solver(load_game(name), SolverSettings(algorithm), seed=0)
    solver.run(iterations)
    return solver.average_strategy()


@pytest.fixture(scope="module")
def leduc_weak():
    return blueprint("leduc", "cfr", 300)


@pytest.fixture(scope="module")
def leduc_converged():
    return blueprint("leduc", "cfr+", 20_000)


def two_card_subgame():
    """A made-up street with two-card hands from 6 cards, tied strengths and depth-limit leaves: card
    removal of pairs, which the one-card games never exercise."""
    rng = np.random.default_rng(11)
    combos = [(a, b) for a in range(6) for b in range(a + 1, 6)]
    cards = np.array(combos, dtype=np.int64)
    hands = Hands(
        cards,
        rng.integers(0, 5, len(combos)).astype(np.int64),
        rng.integers(0, 3, len(combos)).astype(np.int64),
        tuple(map(str, combos)),
    )
    b = SubgameBuilder()
    root = b.add(DECISION, 0, -1, (2, 2), "")
    check = b.add(DECISION, 1, root, (2, 2), "c")
    b.add(SHOWDOWN, -1, check, (2, 2), "cc")
    bet = b.add(DECISION, 0, check, (2, 4), "cb")
    b.add(FOLD, 0, bet, (2, 4), "cbf")
    b.add(SHOWDOWN, -1, bet, (4, 4), "cbc")
    face = b.add(DECISION, 1, root, (4, 2), "b")
    b.add(FOLD, 1, face, (4, 2), "bf")
    choice = b.add(DECISION, 1, face, (4, 4), "bc|")
    b.add(LEAF, -1, choice, (4, 4), "bc|0", table=0)
    b.add(LEAF, -1, choice, (4, 4), "bc|1", table=1)
    sub = b.build(hands, rng.normal(0, 4, (2, 3, 3)), searcher=0)
    return sub, rng.random(len(combos)), rng.random(len(combos))


def _sparse_like(dense: np.ndarray, keep: list[tuple[int, int]]) -> LeafTables:
    """Tables as hold'em's leaves hold them: row and column effects (here the means) and a few pairs apart."""
    row, col = dense.mean(axis=2), dense.mean(axis=1) - dense.mean(axis=(1, 2))[:, None]
    b0 = np.array([a for a, _ in keep])
    b1 = np.array([b for _, b in keep])
    return LeafTables.sparse(row, col, b0, b1, dense[:, b0, b1] - row[:, b0] - col[:, b1] + 0.5)


def small_cases():
    kuhn, leduc = load_game("kuhn"), load_game("leduc")
    kp, lp = blueprint("kuhn", "cfr", 50), blueprint("leduc", "cfr", 50)
    cases = []
    for game, policy, root, searcher, board in (
        (kuhn, kp, 0, 0, None),
        (kuhn, kp, 0, 1, None),
        (leduc, lp, 0, 1, None),
        (leduc, lp, 25, 0, 2),
    ):
        cont = small.continuation_values(game, policy, searcher) if game.name == "leduc" else None
        sub = small.build_subgame(game, root, searcher, board, cont)
        r0, r1 = small.ranges(game, (policy, policy), root, sub.hands, board)
        cases.append(
            (f"{game.name}-{root}-{searcher}", sub, r0, r1, small.blueprint_in_subgame(game, sub, policy, board))
        )
    sub, r0, r1 = two_card_subgame()
    cases.append(("two-card", sub, r0, r1, np.full(sub.n_slots, 0.5)))
    cases.append(
        ("two-card-leaves-by-bucket", dataclasses.replace(sub, exact_leaves=False), r0, r1, np.full(sub.n_slots, 0.5))
    )
    sparse = dataclasses.replace(sub, leaves=_sparse_like(sub.leaf_values, keep=[(0, 1), (1, 1), (2, 0), (2, 2)]))
    cases.append(("two-card-sparse-leaves", sparse, r0, r1, np.full(sub.n_slots, 0.5)))
    cases.append(
        (
            "two-card-sparse-leaves-by-bucket",
            dataclasses.replace(sparse, exact_leaves=False),
            r0,
            r1,
            np.full(sub.n_slots, 0.5),
        )
    )
    return cases


@pytest.mark.parametrize("gadget", ["none", "resolve", "maxmargin"])
def test_numba_solver_agrees_with_the_python_twin(gadget):
    for name, sub, r0, r1, fixed in small_cases():
        if gadget == "maxmargin" and name.startswith("two-card"):
            continue  # its hand choice is an argmax: near-ties there make rounding decide (measured)
        mine = (r0, r1)[sub.searcher]
        alt = None
        if gadget != "none":
            alt = gadget_values(sub, fixed, mine)
            ref_alt = ReferenceSolver(sub, (r0, r1), None).best_response(fixed, mine)
            np.testing.assert_allclose(alt, ref_alt, atol=1e-12, err_msg=name)
        ref = ReferenceSolver(sub, (r0, r1), alt, gadget=gadget)
        for _ in range(25):
            ref.iteration()
        got = solve(sub, (r0, r1), alt, SolveOptions(iterations=25, gadget=gadget if alt is not None else "resolve"))
        assert got.iterations == 25
        np.testing.assert_allclose(got.average, ref.average(), atol=1e-10, err_msg=name)


@pytest.mark.skipif(most_workers() < 2, reason="needs two numba threads")
def test_two_workers_give_the_numbers_of_one():
    for name, sub, r0, r1, fixed in small_cases():
        alt = gadget_values(sub, fixed, (r0, r1)[sub.searcher])
        one = solve(sub, (r0, r1), alt, SolveOptions(iterations=200, workers=1))
        two = solve(sub, (r0, r1), alt, SolveOptions(iterations=200, workers=2))
        np.testing.assert_array_equal(one.average, two.average, err_msg=name)


def test_a_time_budget_stops_the_solver():
    """Whether it stops within 10% is measured on a quiet machine (benchmarks/search_latency.py)."""
    _name, sub, r0, r1, _fixed = small_cases()[-1]
    solve(sub, (r0, r1), None, SolveOptions(iterations=1))  # compiled
    got = solve(sub, (r0, r1), None, SolveOptions(ms=50))
    assert got.iterations > 10 and got.seconds < 0.5
    both = solve(sub, (r0, r1), None, SolveOptions(ms=10_000, iterations=30))
    assert both.iterations == 30  # the first limit reached ends it


def test_a_strategy_is_worth_the_same_to_one_player_as_it_costs_the_other_and_no_more_than_a_best_response():
    for name, sub, r0, r1, _fixed in small_cases():
        gen = np.random.default_rng(5)
        sigma = gen.random(sub.n_slots)
        for n in np.flatnonzero(sub.kind == DECISION).tolist():
            view = sub.node_strategy(sigma, n)
            view /= view.sum(axis=1, keepdims=True)
        v0 = expected_value(sub, sigma, 0, (r0, r1))
        assert expected_value(sub, sigma, 1, (r0, r1)) == pytest.approx(-v0, abs=1e-12), name
        o = 1 - sub.searcher  # the other's best response to sigma gains at least what sigma gets it
        mine, theirs = (r0, r1)[sub.searcher], (r0, r1)[o]
        best = (theirs * gadget_values(sub, sigma, mine)).sum() / pair_mass(sub.hands.cards, theirs, mine)
        assert expected_value(sub, sigma, o, (r0, r1)) <= best + 1e-12, name


def test_kuhns_converged_blueprint_is_worth_its_equilibrium_value_in_the_whole_game():
    game = load_game("kuhn")
    policy = blueprint("kuhn", "cfr+", 20_000)
    sub = small.build_subgame(game, 0, 0, None, None)
    ones = np.ones(sub.hands.n)
    value = expected_value(sub, small.blueprint_in_subgame(game, sub, policy, None), 0, (ones, ones))
    assert value == pytest.approx(-1 / 18, abs=1e-3)


def test_search_halves_the_exploitability_of_a_weak_leduc_blueprint(leduc_weak):
    game = load_game("leduc")
    before = exploitability(game, leduc_weak).exploitability
    assert before >= 0.05
    searched, count = small.searched_policy(game, leduc_weak, SolveOptions(iterations=1000))
    assert count == 32  # both players at the start of round one, and of round two on each board
    assert exploitability(game, searched).exploitability <= before / 2


def test_search_keeps_a_converged_leduc_blueprint_converged(leduc_converged):
    game = load_game("leduc")
    before = exploitability(game, leduc_converged).exploitability
    assert before <= 1e-4
    searched, _ = small.searched_policy(game, leduc_converged, SolveOptions(iterations=1000))
    assert exploitability(game, searched).exploitability <= before + 1e-3


def test_without_a_gadget_search_makes_a_converged_blueprint_exploitable(leduc_converged):
    """Why the gadget is there: solving each subgame from the blueprint's ranges alone (unsafe subgame
    solving) ignores hands the opponent could bring there, and a best response finds them."""
    game = load_game("leduc")
    searched, _ = small.searched_policy(game, leduc_converged, SolveOptions(iterations=1000, gadget="none"))
    assert exploitability(game, searched).exploitability > 1e-2


def test_kuhn_search_of_a_converged_blueprint_keeps_the_game_value():
    game = load_game("kuhn")
    searched, _ = small.searched_policy(game, blueprint("kuhn", "cfr+", 20_000), SolveOptions(iterations=2000))
    e = exploitability(game, searched)
    assert e.policy_value == pytest.approx(-1 / 18, abs=1e-3)
    assert e.exploitability <= 1e-3


def _holdem(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "holdem", *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=300
    )


def test_export_search_writes_a_policy_eval_measures(tmp_path):
    cfg = write_config(tmp_path / "leduc.yaml", "game: leduc\nalgorithm: cfr\nmetrics: {tensorboard: false}\n")
    inst = tmp_path / "leduc"
    assert _holdem("train", "--config", cfg, "--instance-dir", inst, "--iters", 300).returncode == 0
    out = tmp_path / "searched.json"
    done = _holdem("export", inst, "--out", out, "--search", "--search-iters", 1000)
    assert done.returncode == 0, done.stderr
    assert "32 searches" in done.stderr
    assert len(json.loads(out.read_text())["infosets"]) == 288
    plain = json.loads(_holdem("eval", inst, "--exploitability", "--json").stdout)["exploitability"]
    searched = json.loads(_holdem("eval", out, "--exploitability", "--json").stdout)["exploitability"]
    assert searched <= plain / 2


def test_export_search_refuses_a_bad_budget(tmp_path):
    cfg = write_config(tmp_path / "kuhn.yaml", "game: kuhn\nalgorithm: cfr+\nmetrics: {tensorboard: false}\n")
    inst = tmp_path / "kuhn"
    assert _holdem("train", "--config", cfg, "--instance-dir", inst, "--iters", 100).returncode == 0
    bad = _holdem("export", inst, "--out", tmp_path / "x.json", "--search", "--search-iters", 0)
    assert bad.returncode == 2 and "--search-iters must be at least 1, got 0" in bad.stderr

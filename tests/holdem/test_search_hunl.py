"""Search in heads-up hold'em: the subgame holds the real sizes, the river is exact, the agent plays
legal actions within its budget in matches, and a bad spot is refused with a message naming it."""

from __future__ import annotations

import dataclasses
import random
import subprocess
import sys

import numpy as np
import pytest
from holdem_proc import REPO

from holdem.blueprint.hunl import Blueprint
from holdem.games.tree import LEAF, SHOWDOWN
from holdem.play.agents import BlueprintAgent, OddSizesBot
from holdem.play.match import run_match
from holdem.play.search_agent import SearchAgent, SearchConfig
from holdem.search.hunl_subgame import HunlSubgame
from holdem.search.solve import SolveOptions
from holdem.search.spot import SpotError, parse_spot
from holdem.solver.regret import average_strategy
from holdem.solver.solver import Solver, SolverSettings


@pytest.fixture(scope="module")
def blueprint(hunl_buckets):
    root, game = hunl_buckets
    solver = Solver(game, SolverSettings("es-mccfr"), seed=1)
    solver.run(30_000)
    return Blueprint(game, average_strategy(game.tree, solver.strategy_sum), 30_000, root)


def solved(agent: SearchAgent) -> HunlSubgame:
    """The subgame the agent's latest search solved."""
    assert agent.hand.solution is not None
    return agent.hand.solution.game


def searcher(blueprint, iterations: int = 30) -> SearchAgent:
    return SearchAgent(blueprint, SearchConfig(SolveOptions(iterations=iterations), leaf_deals=500, first_street=1))


def test_the_opponents_off_tree_bet_is_an_action_of_its_own_in_the_subgame(blueprint):
    agent = searcher(blueprint)
    spot = parse_spot(blueprint.game.abstraction.rules, "AsKd", "Qh7c2s9d", "r300c/cc/r337")
    agent.decide(spot, random.Random(0))
    g = solved(agent)
    root_actions = [a.letter() for a in g.actions[g.path[0]]]
    assert "r337" in root_actions  # the real size, untranslated
    assert "r600" in root_actions  # and the blueprint's pot-sized bet (turn sizes: [1.0]) beside it
    assert g.path[-1] == g.sub.children[g.sub.child_start[g.path[0]] + root_actions.index("r337")]
    assert (g.sub.kind == LEAF).sum() > 0 and (g.sub.kind == SHOWDOWN).sum() == 0  # the turn ends in leaves


def test_search_bets_the_training_configs_search_sizes_unless_a_flag_says_otherwise(blueprint):
    spot = parse_spot(blueprint.game.abstraction.rules, "AsKd", "Qh7c2s9d", "r300c/cc/")
    configured = dataclasses.replace(blueprint, config={"search": {"bet_sizes": {"turn": [0.37, 1.7]}}})
    agent = SearchAgent(configured, SearchConfig(SolveOptions(iterations=5), leaf_deals=100))
    agent.decide(spot, random.Random(0))
    g = solved(agent)
    assert [a.letter() for a in g.actions[g.path[0]]] == ["c", "r222", "r1020", "r9700"]  # 0.37, 1.7 pot, all-in
    flagged = SearchAgent(configured, SearchConfig(SolveOptions(iterations=5), bet_sizes=((1.0,),) * 4, leaf_deals=100))
    assert flagged.bet_sizes[2] == (1.0,) and agent.bet_sizes[1] == blueprint.game.abstraction.bet_sizes[1]


def test_the_river_is_solved_to_showdown_without_leaves(blueprint):
    agent = searcher(blueprint)
    spot = parse_spot(blueprint.game.abstraction.rules, "AsKd", "Qh7c2s9d3c", "r300c/cc/cc/")
    action, strategy = agent.decide(spot, random.Random(0))
    sub = solved(agent).sub
    assert (sub.kind == LEAF).sum() == 0 and (sub.kind == SHOWDOWN).sum() > 0
    assert sub.hands.n == 1081  # every combo that misses a five-card board
    assert sum(strategy.values()) == pytest.approx(1.0)
    assert action.letter() in strategy


def test_a_search_agent_plays_legal_hands_reproducibly(blueprint):
    rules = blueprint.game.abstraction.rules
    first = run_match(searcher(blueprint), OddSizesBot(), rules, 8, seed=3)
    again = run_match(searcher(blueprint), OddSizesBot(), rules, 8, seed=3)
    assert first.mbb_per_hand == again.mbb_per_hand  # a match is a function of its seed
    agent = searcher(blueprint)
    run_match(agent, BlueprintAgent(blueprint), rules, 8, seed=4)
    assert agent.decisions and {d.street for d in agent.decisions} >= {1, 2}  # from the flop on, as asked
    assert all(d.iterations == 30 for d in agent.decisions if d.resolved)


def test_search_from_the_river_leaves_the_earlier_streets_to_the_blueprint(blueprint):
    rules = blueprint.game.abstraction.rules
    agent = SearchAgent(blueprint, SearchConfig(SolveOptions(iterations=5), leaf_deals=500))  # the default
    run_match(agent, BlueprintAgent(blueprint), rules, 40, seed=4)
    assert agent.decisions and all(d.street == 3 for d in agent.decisions)


def test_two_workers_search_the_same_strategy_as_one_on_an_iteration_budget(blueprint):
    """The threads split the solver's hands and terminals and the leaves' deals in fixed blocks with
    streams of their own, so W changes how fast a search runs, never what it finds."""
    spot = parse_spot(blueprint.game.abstraction.rules, "7s2d", "Qh7c2s", "r300c/r150")
    found = []
    for workers in (1, 2):
        agent = SearchAgent(blueprint, SearchConfig(SolveOptions(iterations=10, workers=workers), leaf_deals=700))
        found.append(agent.decide(spot, random.Random(1))[1])
    assert found[0].keys() == found[1].keys()
    assert all(found[0][a] == pytest.approx(found[1][a], abs=1e-12) for a in found[0])


def test_leaves_with_an_exact_check_down_hold_every_bucket_pair_the_board_fills(blueprint):
    spot = parse_spot(blueprint.game.abstraction.rules, "7s2d", "Qh7c2s", "r300c/r150")
    found = []
    for workers in (1, 2):
        agent = SearchAgent(
            blueprint, SearchConfig(SolveOptions(iterations=10, workers=workers), leaf_deals=300, leaf_checkdown=True)
        )
        found.append(agent.decide(spot, random.Random(1))[1])
        sub = solved(agent).sub
        present = np.unique(sub.hands.leaf_bucket)
        k = len(present)  # a pair within a bucket of one hand is the only pair that can be missing
        assert k * k - k <= len(sub.leaves.b0) <= k * k and set(sub.leaves.b0.tolist()) == set(present.tolist())
    assert found[0].keys() == found[1].keys()
    assert all(found[0][a] == pytest.approx(found[1][a], abs=1e-12) for a in found[0])


def test_searched_strategy_of_a_hand_is_a_distribution_over_legal_actions(blueprint):
    agent = searcher(blueprint)
    spot = parse_spot(blueprint.game.abstraction.rules, "7s2d", "Qh7c2s", "r300c/r150")
    _, strategy = agent.decide(spot, random.Random(1))
    legal = spot.state.legal()
    assert legal.min_raise_to is not None and legal.max_raise_to is not None
    for letter, p in strategy.items():
        assert p >= 0
        if letter.startswith("r"):
            assert legal.min_raise_to <= int(letter[1:]) <= legal.max_raise_to
    assert "f" in strategy and sum(strategy.values()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "hole, board, history, says",
    [
        ("AsXd", "Qh7c2s", "r300c/", "bad card 'Xd'"),
        ("AsKd", "AsQh7c", "r300c/", "card As is both in the hole and on the board"),
        ("AsKd", "Qh7c2s", "r300c/r20000", "'r20000' bets more than the stack allows on the flop (at most r9700"),
        ("AsKd", "Qh7c2s", "r300c/x", "unknown action 'x'"),
        ("AsKd", "", "cf", "'f' on the preflop with nothing to call"),
        ("AsKd", "Qh7c2s", "r300f/", "the hand is over before the flop"),
        ("AsKd", "", "r300fc", "the hand is over after 'f'"),
        ("AsKd", "Qh7c", "r300c/", "the flop needs 3 board cards, got 2"),
        ("AsKd", "Qh7c2s", "r300cr400/", "the preflop betting is over after 'c'"),
    ],
)
def test_a_bad_spot_is_refused_naming_what_is_wrong(blueprint, hole, board, history, says):
    with pytest.raises(SpotError) as err:
        parse_spot(blueprint.game.abstraction.rules, hole, board, history)
    assert says in str(err.value)


def _holdem(*args: object, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "holdem", *map(str, args)],
        cwd=REPO,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def instance(hunl_buckets, tmp_path_factory):
    import json

    from holdem_proc import SMALL_HUNL, write_config

    root, _ = hunl_buckets
    folder = tmp_path_factory.mktemp("search-bp")
    cfg = write_config(
        folder / "small.yaml",
        "game: hunl\nalgorithm: es-mccfr\nseed: 1\n"
        "metrics: {tensorboard: false}\nhunl: " + json.dumps(SMALL_HUNL) + "\n",
    )
    done = _holdem("train", "--config", cfg, "--instance-dir", folder / "i", "--iters", 20_000, "--buckets-root", root)
    assert done.returncode == 0, done.stderr
    return root, folder / "i"


def test_match_search_a_against_oddsizes_from_the_command_line(instance):
    root, folder = instance
    done = _holdem(
        "match",
        folder,
        "oddsizes",
        "--search-a",
        "--search-iters",
        20,
        "--search-from",
        "flop",
        "--hands",
        4,
        "--json",
        "--buckets-root",
        root,
    )
    assert done.returncode == 0, done.stderr
    assert '"a": "' + str(folder) + '+search"' in done.stdout and '"b": "oddsizes"' in done.stdout


def test_match_refuses_search_for_a_bot(instance):
    root, folder = instance
    done = _holdem("match", "call", folder, "--search-a", "--hands", 2, "--buckets-root", root)
    assert done.returncode == 2 and "'call' is a bot: only a blueprint can search" in done.stderr


def test_play_against_search_in_the_terminal(instance):
    root, folder = instance
    done = _holdem(
        "play",
        folder,
        "--search",
        "--search-ms",
        50,
        "--hands",
        2,
        "--seat",
        1,
        "--buckets-root",
        root,
        stdin="c\n" * 40,
    )
    assert done.returncode == 0, done.stderr
    assert "done. 2 hands" in done.stdout


def test_leaf_tables_shrink_each_pair_towards_its_rows_and_columns_means():
    from holdem.search.hunl_leaves import PAIR_KEY, tables_from_samples

    gen = np.random.default_rng(0)
    b0 = gen.integers(0, 5, size=40)
    b0[b0 == 2] = 3  # a row no deal reached counts as the table's mean
    b1 = gen.integers(0, 5, size=40)
    vals = gen.normal(size=(40, 3))
    counts = np.zeros((5, 5))
    sums = np.zeros((3, 5, 5))
    np.add.at(counts, (b0, b1), 1.0)
    for t in range(3):
        np.add.at(sums[t], (b0, b1), vals[:, t])
    mean = (sums.sum(axis=(1, 2)) / counts.sum())[:, None]
    row_n, col_n = counts.sum(axis=1), counts.sum(axis=0)
    row = np.where(row_n > 0, sums.sum(axis=2) / np.maximum(row_n, 1), mean)
    col = np.where(col_n > 0, sums.sum(axis=1) / np.maximum(col_n, 1), mean)
    model = row[:, :, None] + col[:, None, :] - mean[:, :, None]
    expected = (sums + model) / (counts + 1.0)[None, :, :]
    tables = tables_from_samples(b0 * PAIR_KEY + b1, vals, 5)
    assert np.allclose(tables.values(), expected, rtol=1e-12, atol=1e-14)
    assert len(tables.b0) == int((counts > 0).sum())  # only the pairs a deal reached are stored

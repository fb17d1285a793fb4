"""The numba kernels agree with the plain-Python reference and reach the values theory gives."""

import dataclasses

import numpy as np
import pytest
from numba import njit

from holdem.evaluation.exploitability import exploitability
from holdem.games import load_game
from holdem.solver import es
from holdem.solver.prefetch import prefetch
from holdem.solver.reference import KUHN, LEDUC, ReferenceCFR
from holdem.solver.solver import Solver, SolverSettings


@pytest.mark.parametrize("rules", [KUHN, LEDUC], ids=["kuhn", "leduc"])
@pytest.mark.parametrize("linear", [False, True])
def test_numba_cfr_agrees_with_the_python_reference(rules, linear):
    game = load_game(rules.name)
    ref = ReferenceCFR(rules, linear=linear)
    solver = Solver(game, SolverSettings("cfr", linear_averaging=linear), seed=0)
    for _ in range(15):
        ref.iteration()
    solver.run(15)
    avg, ref_avg = solver.average_strategy(), ref.average_strategy()
    assert len(ref_avg) == game.tree.n_infosets()
    for node, bucket in game.infosets():
        key = game.infoset_key(node, bucket)
        na = int(game.tree.num_children[node])
        o = game.tree.offset(node, bucket)
        np.testing.assert_allclose(avg[o : o + na], ref_avg[key], atol=1e-12, err_msg=key)
        np.testing.assert_allclose(solver.regrets[o : o + na], ref.regrets[key], atol=1e-12, err_msg=key)


def test_kuhn_cfr_plus_reaches_the_game_value():
    game = load_game("kuhn")
    solver = Solver(game, SolverSettings("cfr+"), seed=0)
    solver.run(20_000)
    e = exploitability(game, solver.average_strategy())
    assert e.exploitability < 1e-5
    assert e.policy_value == pytest.approx(-1 / 18, abs=1e-3)


@pytest.mark.parametrize("algorithm, iterations, bound", [("cfr+", 100_000, 1e-6), ("dcfr", 20_000, 3e-6)])
def test_leduc_full_traversal_reaches_micro_chips(algorithm, iterations, bound):
    game = load_game("leduc")
    solver = Solver(game, SolverSettings(algorithm), seed=0)
    solver.run(iterations)
    e = exploitability(game, solver.average_strategy())
    assert e.exploitability <= bound
    assert e.policy_value == pytest.approx(-0.0856, abs=1e-3)  # Leduc's value for player 0


def test_leduc_external_sampling_converges():
    game = load_game("leduc")
    solver = Solver(game, SolverSettings("es-mccfr"), seed=3)
    solver.run(1_000)
    early = exploitability(game, solver.average_strategy()).exploitability
    solver.run(300_000)
    late = exploitability(game, solver.average_strategy()).exploitability
    assert late < 0.05 < early


def test_pruning_that_prunes_nothing_changes_nothing():
    game = load_game("leduc")
    plain = Solver(game, SolverSettings("es-mccfr"), seed=3)
    never = Solver(game, SolverSettings("es-mccfr", prune=True, prune_threshold=-1e300), seed=3)
    assert plain.run(20_000) == never.run(20_000)
    assert np.array_equal(plain.strategy_sum, never.strategy_sum)


def test_pruning_skips_work_and_still_converges():
    game = load_game("leduc")
    plain = Solver(game, SolverSettings("es-mccfr"), seed=3)
    pruned = Solver(game, SolverSettings("es-mccfr", prune=True, prune_threshold=-1e9, prune_start=1000), seed=3)
    assert pruned.run(300_000) < plain.run(300_000)
    assert exploitability(game, pruned.average_strategy()).exploitability < 0.05


@pytest.mark.parametrize("algorithm", ["cfr", "cfr+", "dcfr", "es-mccfr"])
def test_chunking_never_changes_the_result(algorithm):
    game = load_game("leduc")
    whole = Solver(game, SolverSettings(algorithm), seed=7)
    whole.run(300)
    pieces = Solver(game, SolverSettings(algorithm), seed=7)
    for n in (1, 99, 200):
        pieces.run(n)
    assert whole.iteration == pieces.iteration == 300
    assert np.array_equal(whole.regrets, pieces.regrets)
    assert np.array_equal(whole.strategy_sum, pieces.strategy_sum)
    assert np.array_equal(whole.rng, pieces.rng)


def test_a_restored_solver_continues_bit_for_bit():
    game = load_game("leduc")
    original = Solver(game, SolverSettings("es-mccfr"), seed=11)
    original.run(500)
    copy = Solver(game, SolverSettings("es-mccfr"), seed=999)
    s = original.state()
    copy.restore(type(s)(s.iteration, s.regrets.copy(), s.strategy_sum.copy(), s.rng.copy()))
    original.run(500)
    copy.run(500)
    assert np.array_equal(original.strategy_sum, copy.strategy_sum)


def test_different_seeds_sample_differently():
    game = load_game("leduc")
    a, b = (Solver(game, SolverSettings("es-mccfr"), seed=s) for s in (1, 2))
    a.run(100)
    b.run(100)
    assert not np.array_equal(a.regrets, b.regrets)


def test_the_packed_node_table_holds_every_field_the_traversal_reads():
    tree = load_game("leduc").tree
    nodes = es.pack_nodes(tree)
    assert nodes.dtype == np.int32 and nodes.shape == (tree.n_nodes, 8)
    for column, field in (
        (es.KIND, tree.kind),
        (es.PLAYER, tree.player),
        (es.STREET, tree.street),
        (es.N_CHILDREN, tree.num_children),
        (es.CHILD_START, tree.child_start),
        (es.SUBTREE, tree.subtree_size),
        (es.SLOT, tree.slot),
        (es.STRIDE, tree.bucket_stride),
    ):
        np.testing.assert_array_equal(nodes[:, column], field)


def test_a_tree_too_large_for_int32_slots_is_refused_not_wrapped():
    tree = dataclasses.replace(load_game("leduc").tree, n_slots=2**31)
    with pytest.raises(ValueError, match="2\\^31"):
        es.pack_nodes(tree)


@njit(cache=True)
def _sum_with_prefetch(values, lookahead):
    total = 0.0
    for i in range(values.shape[0]):
        prefetch(values, i + lookahead)  # runs past the end: a prefetch never faults
        total += values[i]
    return total


def test_prefetch_is_only_a_hint():
    values = np.arange(1000, dtype=np.float64)
    assert _sum_with_prefetch(values, 64) == values.sum()
    assert _sum_with_prefetch(values, 10**9) == values.sum()

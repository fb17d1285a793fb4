"""W worker threads on one set of tables: W = 1 is the sequential solver bit for bit, W = 2 learns as well."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from holdem.blueprint.policy import root_weight
from holdem.evaluation.exploitability import exploitability
from holdem.games import load_game
from holdem.rng import seed_state
from holdem.solver.solver import Solver, SolverSettings
from holdem.solver.workers import worker_seed

# sha256 of (regrets, strategy_sum, generator state) after Leduc ES-MCCFR, seed 5, run(1), run(999),
# run(1000), computed with the solver as it was before workers existed (commit c495d26).
BEFORE_WORKERS = "02d3b6583889a0d57d2db1e594e5b70f9a4da9bb51c54ce22906791ce63982b0"


def digest(solver: Solver) -> str:
    h = hashlib.sha256()
    for a in (solver.regrets, solver.strategy_sum, solver.rng.reshape(-1)):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def test_one_worker_is_bit_identical_to_the_solver_before_workers():
    solver = Solver(load_game("leduc"), SolverSettings("es-mccfr"), seed=5, workers=1)
    for n in (1, 999, 1000):
        solver.run(n)
    assert digest(solver) == BEFORE_WORKERS


def test_worker_zero_keeps_the_instance_stream_and_the_others_are_unrelated():
    solver = Solver(load_game("leduc"), SolverSettings("es-mccfr"), seed=5, workers=3)
    states = solver.rng
    assert states.shape == (3, 4) and np.array_equal(states[0], seed_state(5))
    assert len({tuple(row) for row in states}) == 3
    assert worker_seed(5, 1) != worker_seed(6, 1) and worker_seed(5, 1) != worker_seed(5, 2)


def test_two_workers_run_every_iteration_once_with_its_own_weight():
    game = load_game("leduc")
    solver = Solver(game, SolverSettings("es-mccfr"), seed=1, workers=2)
    n = 40_000
    for chunk in (1, 3, n - 4):
        solver.run(chunk)
    assert solver.iteration == n
    assert not np.array_equal(solver.rng[0], seed_state(1)) and not np.array_equal(solver.rng[1], solver.rng[0])
    # Linear averaging adds weight t at the root once per iteration: sum(1..n) unless an addition of
    # one worker was overwritten by the other's at the same instant (lock-free tables, a rare loss).
    expected = n * (n + 1) / 2
    assert 0.999 * expected <= root_weight(game, solver.strategy_sum) <= expected * (1 + 1e-12)


def test_two_workers_converge_as_fast_per_iteration_as_one():
    game = load_game("leduc")
    result = {}
    for workers in (1, 2):
        values = []
        for seed in range(4):
            solver = Solver(game, SolverSettings("es-mccfr"), seed=seed, workers=workers)
            solver.run(200_000)
            values.append(exploitability(game, solver.average_strategy()).exploitability)
            solver.close()
        result[workers] = float(np.mean(values))
    assert result[1] < 0.05  # both learn ...
    assert result[2] <= 1.25 * result[1]  # ... and sharing the tables costs no convergence per iteration


def test_a_checkpoint_of_another_worker_count_restores_and_says_so():
    game = load_game("leduc")
    two = Solver(game, SolverSettings("es-mccfr"), seed=3, workers=2)
    two.run(1_000)
    s = two.state()
    assert s.rng.shape == (2, 4)

    one = Solver(game, SolverSettings("es-mccfr"), seed=3, workers=1)
    message = one.restore(s)
    assert message is not None and "dropped" in message and np.array_equal(one.rng[0], s.rng[0])
    assert np.array_equal(one.regrets, s.regrets) and one.iteration == 1_000

    three = Solver(game, SolverSettings("es-mccfr"), seed=3, workers=3)
    message = three.restore(s)
    assert message is not None and "fresh" in message and np.array_equal(three.rng[:2], s.rng)
    assert not np.array_equal(three.rng[2], Solver(game, SolverSettings("es-mccfr"), seed=3, workers=3).rng[2])
    assert two.restore(s) is None


def test_a_single_state_of_the_old_format_is_read_as_one_worker():
    game = load_game("leduc")
    a = Solver(game, SolverSettings("es-mccfr"), seed=4)
    a.run(500)
    s = a.state()
    b = Solver(game, SolverSettings("es-mccfr"), seed=99)
    assert b.restore(type(s)(s.iteration, s.regrets.copy(), s.strategy_sum.copy(), s.rng[0].copy())) is None
    a.run(500)
    b.run(500)
    assert np.array_equal(a.strategy_sum, b.strategy_sum)


@pytest.mark.parametrize("algorithm", ["cfr", "cfr+", "dcfr"])
def test_full_sweeps_run_on_one_thread_whatever_the_workers(algorithm):
    game = load_game("leduc")
    solver = Solver(game, SolverSettings(algorithm), seed=0, workers=4)
    plain = Solver(game, SolverSettings(algorithm), seed=0)
    solver.run(50)
    plain.run(50)
    assert solver.workers == 1 and np.array_equal(solver.strategy_sum, plain.strategy_sum)

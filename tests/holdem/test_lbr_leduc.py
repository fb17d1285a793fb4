"""Local best response on Leduc, against the exact best response: LBR is one strategy, so in each seat its
value can never exceed a best response's, and on a weak blueprint it comes close to it."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from holdem_proc import REPO

from holdem.blueprint.policy import LoadedPolicy, export_policy, write_json_atomic
from holdem.evaluation import lbr_kernels as K
from holdem.evaluation import lbr_reference as R
from holdem.evaluation.exploitability import exploitability, uniform_policy
from holdem.evaluation.lbr import LbrError, LbrSettings, leduc_target, local_best_response, run_deals
from holdem.games import load_game
from holdem.games.tree import ActionKind
from holdem.solver.solver import Solver, SolverSettings

GAME = load_game("leduc")


def cfr_policy(iters: int) -> np.ndarray:
    solver = Solver(GAME, SolverSettings("cfr"), seed=0)
    solver.run(iters)
    return solver.average_strategy()


@pytest.fixture(scope="module")
def blueprints() -> dict[str, np.ndarray]:
    """Five blueprints of very different quality: uniform, then 10 to 10,000 iterations of CFR."""
    out = {"uniform": uniform_policy(GAME)}
    for iters in (10, 100, 1000, 10000):
        out[f"cfr-{iters}"] = cfr_policy(iters)
    return out


def test_the_numba_kernel_and_the_python_twin_play_the_same_hands(blueprints):
    for name in ("uniform", "cfr-10", "cfr-1000"):
        target = leduc_target(GAME, blueprints[name])
        for variant in (K.VARIANT_FC, K.VARIANT_FCPA):
            out = np.zeros((300, 2))
            run_deals(target, variant, 7, 0, out, 1)
            twin = [[R.play_hand(GAME, blueprints[name], variant, 7, d, me) for me in (0, 1)] for d in range(300)]
            assert np.array_equal(out, np.array(twin)), (name, variant)


@pytest.mark.parametrize("variant", [K.VARIANT_FC, K.VARIANT_FCPA])
def test_lbr_never_beats_the_best_response_in_either_seat(blueprints, variant):
    for name, policy in blueprints.items():
        br = exploitability(GAME, policy)
        lbr = R.exact_lbr(GAME, policy, variant)
        for seat in (0, 1):
            assert lbr[seat] <= br.best_response_values[seat] + 1e-12, (name, seat)
        assert (lbr[0] + lbr[1]) / 2 <= br.exploitability + 1e-12


def test_on_the_weakest_blueprint_lbr_comes_within_ten_percent_of_the_exact_exploitability(blueprints):
    exact = exploitability(GAME, blueprints["uniform"]).exploitability
    lbr = sum(R.exact_lbr(GAME, blueprints["uniform"], K.VARIANT_FCPA)) / 2
    assert 0.9 * exact <= lbr <= exact  # 2.178 against 2.374 chips/hand
    # folding and calling alone exploits far less: raising is what punishes a player that folds a third
    assert sum(R.exact_lbr(GAME, blueprints["uniform"], K.VARIANT_FC)) / 2 < 0.5 * exact


def test_lbr_falls_as_the_blueprint_improves(blueprints):
    values = [sum(R.exact_lbr(GAME, p, K.VARIANT_FCPA)) / 2 for p in blueprints.values()]
    assert values == sorted(values, reverse=True)


@pytest.mark.parametrize("name", ["uniform", "cfr-100", "cfr-10000"])
def test_the_sampled_figure_estimates_the_exact_lbr_value_and_stays_below_the_exploitability(blueprints, name):
    policy = blueprints[name]
    result = local_best_response(leduc_target(GAME, policy), LbrSettings("fcpa", hands=200_000, seed=11))
    exact = R.exact_lbr(GAME, policy, K.VARIANT_FCPA)
    assert result.ci95[0] <= exploitability(GAME, policy).exploitability  # the bound, statistically
    # The exact value lies within 4 standard errors (1.96 SE is the 95% half-width) of each estimate.
    for (value, _lo, hi), truth in [((result.value, *result.ci95), sum(exact) / 2), *zip(result.seats, exact)]:
        assert abs(value - truth) <= 4 / 1.96 * (hi - value), (value, truth)


def test_the_figure_is_the_same_on_any_number_of_workers(blueprints):
    target = leduc_target(GAME, blueprints["cfr-10"])
    one = local_best_response(target, LbrSettings("fcpa", hands=50_000, seed=3, workers=1))
    three = local_best_response(target, LbrSettings("fcpa", hands=50_000, seed=3, workers=3))
    assert one.value == three.value and one.seats == three.seats
    other = local_best_response(target, LbrSettings("fcpa", hands=50_000, seed=4, workers=1))
    assert other.value != one.value


def test_against_a_player_who_always_folds_to_a_bet_lbr_wins_every_pot_it_raises():
    policy = np.zeros(GAME.tree.n_slots)
    t = GAME.tree
    for n in t.decision_nodes():
        n = int(n)
        first = int(t.action[t.children[t.child_start[n]]])
        slots = t.node_slots(n)
        slots_fold_or_call = slots[:, 0]  # fold when facing a bet, else check
        policy[slots_fold_or_call] = 1.0
        assert first in (ActionKind.FOLD, ActionKind.CALL)
    # LBR in seat 0 bets, seat 1 folds: +1 (the ante). In seat 1, seat 0 checks, LBR bets, seat 0 folds: +1.
    assert R.exact_lbr(GAME, policy, K.VARIANT_FCPA) == (1.0, 1.0)
    result = local_best_response(leduc_target(GAME, policy), LbrSettings("fcpa", hands=2_000, seed=1))
    assert result.value == 1.0 and result.ci95 == (1.0, 1.0)


def test_bad_settings_are_refused_naming_the_value():
    with pytest.raises(LbrError, match="--variant must be one of fc, fcpa"):
        LbrSettings("fcr")
    with pytest.raises(LbrError, match="--hands must be at least 2"):
        LbrSettings(hands=1)
    with pytest.raises(LbrError, match=r"--workers must be in \[1, 256\]"):
        LbrSettings(workers=0)
    with pytest.raises(LbrError, match="not 'kuhn'"):
        leduc_target(load_game("kuhn"), uniform_policy(load_game("kuhn")))


def holdem(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "holdem", *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=120
    )


def test_holdem_lbr_reports_leduc_in_chips_with_a_stable_json_shape(tmp_path, blueprints):
    path = tmp_path / "policy.json"
    write_json_atomic(path, export_policy(LoadedPolicy(GAME, 100, blueprints["cfr-100"], None, path)))
    done = holdem("lbr", path, "--variant", "fcpa", "--hands", 20_000, "--seed", 2, "--workers", 2, "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert set(out) == {
        "format",
        "version",
        "policy",
        "game",
        "iteration",
        "variant",
        "unit",
        "hands",
        "value",
        "ci95",
        "seats",
        "seed",
        "workers",
        "preflop_samples",
        "seconds",
        "hands_per_s",
    }
    assert (out["format"], out["version"], out["game"], out["unit"]) == ("holdem-lbr", 1, "leduc", "chips/hand")
    assert out["hands"] == 20_000 and out["variant"] == "fcpa" and out["iteration"] == 100
    assert out["ci95"][0] <= out["value"] <= out["ci95"][1]
    assert [s["seat"] for s in out["seats"]] == [0, 1]
    text = holdem("lbr", path, "--hands", 2_000)
    assert text.returncode == 0 and "chips/hand (Leduc's own units: ante 1)" in text.stdout


def test_holdem_lbr_exits_2_on_bad_input_naming_it(tmp_path):
    done = holdem("lbr", tmp_path / "nowhere", "--hands", 100)
    assert done.returncode == 2 and str(tmp_path / "nowhere") in done.stderr
    done = holdem("lbr", tmp_path / "nowhere", "--hands", 1)
    assert done.returncode == 2 and "--hands must be at least 2" in done.stderr

"""The evaluation ladder: bots, LBR-fc and the sanity probes, each probe failing exactly where a blueprint
folds what it must not."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from holdem_proc import SMALL_HUNL

from holdem.blueprint.hunl import Blueprint
from holdem.blueprint.policy import LoadedPolicy, export_policy, write_json_atomic
from holdem.cards import COMBO_INDEX, parse_cards
from holdem.cli import commands as cli
from holdem.evaluation.ladder import LadderSettings, run_ladder
from holdem.evaluation.probes import THRESHOLD, aces_never_fold, never_fold_for_free, nuts_never_fold
from holdem.games import load_game
from holdem.play import agents
from holdem.storage.checkpoint import write_checkpoint


def always(tree, kind: int) -> np.ndarray:
    """Play the child of action kind `kind` (0 fold, 1 check/call) wherever the node has it, else call."""
    out = np.zeros(tree.n_slots)
    for n in tree.decision_nodes().tolist():
        kinds = [
            int(tree.action[c]) for c in tree.children[tree.child_start[n] : tree.child_start[n] + tree.num_children[n]]
        ]
        out[tree.node_slots(n)[:, kinds.index(kind) if kind in kinds else kinds.index(1)]] = 1.0
    return out


def save(path, game, policy, sums=None):
    write_checkpoint(
        path,
        5,
        {"strategy_sum": policy if sums is None else sums},
        {"game": "hunl", "game_hash": game.digest(), "config": {"game": "hunl", "hunl": SMALL_HUNL}},
        keep=1,
    )
    return path


def test_a_blueprint_that_never_folds_passes_every_probe_and_ties_the_call_bot(hunl_buckets, tmp_path):
    root, game = hunl_buckets
    folder = save(tmp_path / "station", game, always(game.tree, 1))
    report = run_ladder(folder, root, LadderSettings(hands=200, lbr_hands=40, seed=2, workers=2))
    assert [m["opponent"] for m in report["matches"]] == list(agents.BOTS)
    call = next(m for m in report["matches"] if m["opponent"] == "call")
    assert call["mbb_per_hand"] == 0.0  # two calling stations on duplicate deals: every showdown cancels
    assert report["probes_passed"] == report["probes_total"] == 3
    assert all(p["failing"] == 0 and p["spots"] > 0 for p in report["probes"])
    assert report["lbr"]["variant"] == "fc" and report["lbr"]["hands"] == 40
    assert set(report) == {
        "format",
        "version",
        "policy",
        "game",
        "iteration",
        "seed",
        "matches",
        "lbr",
        "probes",
        "probes_passed",
        "probes_total",
        "seconds",
    }
    assert set(report["probes"][0]) == {
        "name",
        "description",
        "passed",
        "spots",
        "failing",
        "threshold",
        "failing_weight",
        "worst",
        "heaviest_failing",
    }


def test_a_blueprint_that_folds_to_every_bet_fails_the_aces_and_nuts_probes(hunl_buckets):
    _, game = hunl_buckets
    bp = Blueprint(game, always(game.tree, 0), 5, Path())
    aces, nuts, free = aces_never_fold(bp), nuts_never_fold(bp), never_fold_for_free(bp)
    assert aces.worst is not None
    assert not aces.passed and aces.failing == aces.spots and aces.worst["fold_probability"] == 1.0
    assert aces.worst["history"] == "" and aces.worst["hand"] == "AA"  # the first spot facing a bet: the root
    assert not nuts.passed and nuts.failing == nuts.spots
    assert free.passed and free.worst is None  # the tree offers no fold where checking is free


def test_the_aces_probe_fails_at_the_one_spot_where_aces_fold_and_weighs_it(hunl_buckets):
    _, game = hunl_buckets
    t = game.tree
    policy = always(t, 1)
    node = next(n for n in range(t.n_nodes) if t.history[n] == "r300")  # the big blind facing a raise
    ac, ad = parse_cards("Ac Ad")
    aces = int(game.buckets.preflop[COMBO_INDEX[ac, ad]])
    o = t.offset(node, aces)
    policy[o : o + int(t.num_children[node])] = 0.0
    policy[o] = 2 * THRESHOLD  # fold 2%, call the rest
    policy[o + 1] = 1 - 2 * THRESHOLD
    sums = np.ones(t.n_slots)  # every infoset equally trained
    result = aces_never_fold(Blueprint(game, policy, 5, Path()), sums)
    assert (result.passed, result.failing) == (False, 1)
    assert result.worst is not None
    assert result.worst["history"] == "r300" and result.worst["fold_probability"] == pytest.approx(0.02)
    assert result.failing_weight == pytest.approx(1 / result.spots, rel=0.5)  # one spot of a few equal ones
    policy[o], policy[o + 1] = THRESHOLD / 2, 1 - THRESHOLD / 2
    assert aces_never_fold(Blueprint(game, policy, 5, Path())).passed


def test_holdem_eval_ladder_json_and_refusals(hunl_buckets, tmp_path, capsys):
    root, game = hunl_buckets
    folder = save(tmp_path / "station", game, always(game.tree, 1))
    args = ["eval", str(folder), "--ladder", "--hands", "100", "--lbr-hands", "20", "--buckets-root", str(root)]
    assert cli.main(args + ["--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["format"], report["version"], report["iteration"]) == ("holdem-ladder", 1, 5)
    assert cli.main(args) == 0
    text = capsys.readouterr().out
    assert "PASS aa-never-folds-preflop" in text and "LBR-fc" in text and "vs random" in text
    leduc = load_game("leduc")
    policy_file = tmp_path / "leduc.json"
    uniform = np.full(leduc.tree.n_slots, 0.0)
    for n in leduc.tree.decision_nodes():
        uniform[leduc.tree.node_slots(int(n))] = 1.0 / int(leduc.tree.num_children[n])
    write_json_atomic(policy_file, export_policy(LoadedPolicy(leduc, 0, uniform, None, policy_file)))
    assert cli.main(["eval", str(policy_file), "--ladder"]) == 2
    assert "the ladder evaluates hold'em blueprints" in capsys.readouterr().err
    assert cli.main(args[:-2] + ["--lbr-hands", "1", "--buckets-root", str(root)]) == 2
    assert "--hands must be at least 2" in capsys.readouterr().err

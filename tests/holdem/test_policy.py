"""Policies: readable export, eval of every kind of source, and merge of instances."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from holdem_proc import REPO, write_config

from holdem.blueprint.policy import PolicyError, load_policy
from holdem.evaluation.exploitability import exploitability
from holdem.games.tree import Game

KUHN = "game: kuhn\nalgorithm: cfr+\nmetrics: {tensorboard: false}\n"
LEDUC_ES = "game: leduc\nalgorithm: es-mccfr\nmetrics: {tensorboard: false, exploitability_every_s: 0}\n"


def holdem(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "holdem", *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=300
    )


def train(tmp_path: Path, text: str, name: str, iters: int, seed: int = 0) -> Path:
    cfg = write_config(tmp_path / f"{name}.yaml", text)
    inst = tmp_path / name
    done = holdem("train", "--config", cfg, "--instance-dir", inst, "--iters", iters, "--seed", seed)
    assert done.returncode == 0, done.stderr
    return inst


def eval_json(path: Path) -> dict:
    out = holdem("eval", path, "--exploitability", "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_export_writes_readable_kuhn_keys_and_an_equilibrium(tmp_path):
    inst = train(tmp_path, KUHN, "kuhn", 20_000)
    out = tmp_path / "policy.json"
    assert holdem("export", inst, "--out", out).returncode == 0
    policy = json.loads(out.read_text())
    assert policy["game"] == "kuhn" and policy["iteration"] == 20_000
    table = policy["infosets"]
    assert len(table) == 12 and set(table["K:pb"]) == {"p", "b"}
    assert table["K:b"]["b"] == pytest.approx(1.0, abs=1e-3)  # the king always calls a bet
    assert table["J:b"]["p"] == pytest.approx(1.0, abs=1e-3)  # the jack always folds to one
    assert table["Q:"]["p"] == pytest.approx(1.0, abs=1e-2)  # player 0 never opens with the queen


def test_eval_gives_the_same_figure_for_instance_checkpoint_and_export(tmp_path):
    inst = train(tmp_path, LEDUC_ES, "leduc", 50_000)
    assert holdem("export", inst, "--out", tmp_path / "p.json").returncode == 0
    checkpoint = next((inst / "checkpoints").iterdir())
    results = [eval_json(p) for p in (inst, checkpoint, tmp_path / "p.json")]
    assert {r["game"] for r in results} == {"leduc"}
    assert {r["iteration"] for r in results} == {50_000}
    assert results[0]["exploitability"] == pytest.approx(results[2]["exploitability"], abs=1e-12)
    assert results[0]["exploitability"] == results[1]["exploitability"]
    assert results[0]["nash_conv"] == pytest.approx(2 * results[0]["exploitability"])


def test_merged_policy_is_no_more_exploitable_than_the_mean_of_its_instances(tmp_path):
    instances = [train(tmp_path, LEDUC_ES, f"i{k}", 100_000, seed=k + 1) for k in range(4)]
    single = [eval_json(i)["exploitability"] for i in instances]
    merged = holdem("merge", *instances, "--out", tmp_path / "merged")
    assert merged.returncode == 0, merged.stderr
    result = eval_json(tmp_path / "merged")
    assert result["iteration"] == 400_000
    assert result["exploitability"] <= np.mean(single)
    assert (tmp_path / "merged" / "policy.json").is_file()


def test_merge_refuses_instances_of_different_games(tmp_path):
    a = train(tmp_path, KUHN, "kuhn", 100)
    b = train(tmp_path, LEDUC_ES, "leduc", 100)
    out = holdem("merge", a, b, "--out", tmp_path / "m")
    assert out.returncode == 2 and "kuhn" in out.stderr


def test_a_policy_file_with_a_missing_infoset_is_refused(tmp_path):
    inst = train(tmp_path, KUHN, "kuhn", 100)
    path = tmp_path / "p.json"
    assert holdem("export", inst, "--out", path).returncode == 0
    data = json.loads(path.read_text())
    del data["infosets"]["K:b"]
    path.write_text(json.dumps(data))
    with pytest.raises(PolicyError, match="K:b"):
        load_policy(path)


def test_exported_probabilities_match_the_solver_average(tmp_path):
    inst = train(tmp_path, KUHN, "kuhn", 1_000)
    loaded = load_policy(inst)
    assert isinstance(loaded.game, Game)
    e = exploitability(loaded.game, loaded.policy)
    assert e.exploitability == pytest.approx(eval_json(inst)["exploitability"])


def test_eval_of_a_folder_without_checkpoints_is_a_clear_error(tmp_path):
    out = holdem("eval", tmp_path, "--exploitability", "--json")
    assert out.returncode == 2 and "neither" in out.stderr

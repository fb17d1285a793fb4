"""Training hold'em: the sampled kernel is deterministic, resumable, and keeps the instance contract."""

from __future__ import annotations

import json

import numpy as np
import pytest
from holdem_proc import SMALL_HUNL, write_config

from holdem.solver.solver import Solver, SolverSettings
from holdem.storage import checkpoint as ckpt
from holdem.storage.checkpoint import list_checkpoints, load_checkpoint


def test_chunking_and_restore_never_change_the_result(hunl_buckets):
    _, game = hunl_buckets
    whole = Solver(game, SolverSettings("es-mccfr"), seed=3)
    whole.run(400)
    first = Solver(game, SolverSettings("es-mccfr"), seed=3)
    first.run(150)
    s = first.state()
    second = Solver(game, SolverSettings("es-mccfr"), seed=99)
    second.restore(type(s)(s.iteration, s.regrets.copy(), s.strategy_sum.copy(), s.rng.copy()))
    second.run(50)
    second.run(200)
    assert np.array_equal(whole.regrets, second.regrets)
    assert np.array_equal(whole.strategy_sum, second.strategy_sum)


def test_regret_falls_as_training_goes_on(hunl_buckets):
    _, game = hunl_buckets
    solver = Solver(game, SolverSettings("es-mccfr"), seed=1)
    solver.run(2_000)
    early = solver.average_regret()
    solver.run(30_000)
    assert solver.average_regret() < early


def test_full_traversal_is_refused_for_holdem(hunl_buckets):
    _, game = hunl_buckets
    with pytest.raises(ValueError, match="es-mccfr"):
        Solver(game, SolverSettings("cfr+"), seed=0)


def hunl_config(tmp_path, extra: str = "") -> object:
    return write_config(
        tmp_path / "h.yaml",
        "game: hunl\nalgorithm: es-mccfr\nseed: 4\n"
        "checkpoint: {every_iterations: 5000, every_seconds: 0}\n"
        "metrics: {progress_interval_s: 0.1}\n" + extra + "hunl: " + json.dumps(SMALL_HUNL) + "\n",
    )


def test_holdem_train_runs_resumes_and_records_the_bucket_set(hunl_buckets, tmp_path, worker_factory):
    root, game = hunl_buckets
    cfg = hunl_config(tmp_path)
    args = ["train", "--config", cfg, "--instance-dir", tmp_path / "i", "--events", "jsonl", "--buckets-root", root]
    first = worker_factory(*args, "--iters", 10_000)
    assert first.finish()[0] == 0
    assert [e["event"] for e in first.events][-1] == "done"
    again = worker_factory(*args, "--iters", 20_000, "--resume")
    assert again.wait_for("started")["resumed_from"] == 10_000
    assert again.finish()[0] == 0
    alone = worker_factory(
        "train",
        "--config",
        cfg,
        "--instance-dir",
        tmp_path / "alone",
        "--events",
        "jsonl",
        "--buckets-root",
        root,
        "--iters",
        20_000,
    )
    assert alone.finish()[0] == 0
    final = "000000020000"
    resumed = load_checkpoint(tmp_path / "i" / "checkpoints" / final)
    assert resumed.manifest["files"] == load_checkpoint(tmp_path / "alone" / "checkpoints" / final).manifest["files"]
    assert resumed.meta["game_hash"] == game.digest()


def test_resume_against_another_bucket_set_is_refused(hunl_buckets, tmp_path, worker_factory):
    import shutil

    root, _ = hunl_buckets
    cfg = hunl_config(tmp_path)
    args = ["train", "--config", cfg, "--instance-dir", tmp_path / "i", "--events", "jsonl"]
    assert worker_factory(*args, "--buckets-root", root, "--iters", 1_000).finish()[0] == 0
    # The same abstraction, but bucket files that differ (here: a rewritten manifest).
    other = tmp_path / "other-root"
    shutil.copytree(root, other)
    manifest = next(other.rglob("manifest.json"))
    data = json.loads(manifest.read_text())
    data["rebuilt"] = True
    data[ckpt.SELF_CHECKSUM] = ckpt.manifest_checksum(data)  # a valid set, not a corrupt one
    manifest.write_text(json.dumps(data))
    code, stderr = worker_factory(*args, "--buckets-root", other, "--iters", 2_000, "--resume").finish()
    assert code == 2 and "refusing to resume" in stderr
    assert len(list_checkpoints(tmp_path / "i")) == 1


def test_holdem_instances_merge_into_a_blueprint_that_plays(hunl_buckets, tmp_path, worker_factory):
    import subprocess
    import sys

    from holdem_proc import REPO

    from holdem.blueprint.hunl import load_blueprint

    root, game = hunl_buckets
    cfg = hunl_config(tmp_path)
    for k in range(2):
        w = worker_factory(
            "train",
            "--config",
            cfg,
            "--instance-dir",
            tmp_path / f"i{k}",
            "--buckets-root",
            root,
            "--iters",
            3_000,
            "--seed",
            k + 1,
            "--events",
            "jsonl",
        )
        assert w.finish()[0] == 0
    merged = worker_factory(
        "merge", tmp_path / "i0", tmp_path / "i1", "--out", tmp_path / "m", "--buckets-root", root, "--events", "jsonl"
    )
    code, stderr = merged.finish()
    assert code == 0, stderr
    assert merged.events[-1]["event"] == "done" and merged.events[-1]["iter"] == 6_000
    blueprint = load_blueprint(tmp_path / "m", root)
    assert blueprint.iteration == 6_000 and blueprint.game.digest() == game.digest()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "holdem",
            "match",
            tmp_path / "m",
            "random",
            "--hands",
            "200",
            "--json",
            "--buckets-root",
            root,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["hands"] == 200

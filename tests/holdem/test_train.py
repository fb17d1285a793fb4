"""`holdem train` keeps the instance contract of docs/architecture.md ("The instance"), tested on the real process."""

from __future__ import annotations

import json
import random
import shutil
import signal
from pathlib import Path

import pytest
from holdem_proc import Worker, write_config

from holdem.storage.checkpoint import list_checkpoints, load_checkpoint

LEDUC_ES = """
game: leduc
algorithm: es-mccfr
seed: 5
checkpoint: {every_iterations: %d, every_seconds: 0, keep: 50}
metrics: {progress_interval_s: 0.1, exploitability_every_s: 0.5}
"""


def train_args(config: Path, inst: Path, *extra: object) -> list[object]:
    return ["train", "--config", config, "--instance-dir", inst, "--events", "jsonl", *extra]


def file_hashes(checkpoint_dir: Path) -> dict[str, str]:
    return {name: entry["sha256"] for name, entry in load_checkpoint(checkpoint_dir).manifest["files"].items()}


def test_a_run_streams_started_progress_checkpoint_done(tmp_path, worker_factory):
    cfg = write_config(tmp_path / "c.yaml", LEDUC_ES % 0)
    w = worker_factory(*train_args(cfg, tmp_path / "i", "--iters", 300_000))
    code, _ = w.finish()
    kinds = [e["event"] for e in w.events]
    assert code == 0
    assert kinds[0] == "started" and kinds[-2:] == ["checkpoint", "done"]
    assert all(e["v"] == 1 and {"event", "t", "iter"} <= set(e) for e in w.events)
    assert w.events[0]["target_iters"] == 300_000 and w.events[0]["resumed_from"] is None
    final = w.events[-2]
    assert final["iter"] == 300_000 and Path(final["path"]).name == "000000300000"
    assert len(final["sha256"]) == 64 and final["bytes"] > 0
    progress = [e for e in w.events if e["event"] == "progress"]
    assert progress and all(e["ips"] >= 0 and "avg_regret" in e["metrics"] for e in progress)
    assert progress[-1]["iter"] == 300_000 and progress[-1]["ips"] > 0  # the last one is of the whole run
    assert (tmp_path / "i" / "tensorboard").is_dir()


def test_sigterm_checkpoints_and_exits_zero(tmp_path, worker_factory):
    cfg = write_config(tmp_path / "c.yaml", LEDUC_ES % 0)
    w = worker_factory(*train_args(cfg, tmp_path / "i", "--iters", 10**10))
    while w.wait_for("progress")["iter"] == 0:
        pass
    w.proc.send_signal(signal.SIGTERM)
    ckpt = w.wait_for("checkpoint")
    stopped = w.wait_for("stopped")
    code, _ = w.finish()
    assert code == 0
    assert stopped["iter"] == ckpt["iter"] > 0
    assert load_checkpoint(Path(ckpt["path"])).iteration == ckpt["iter"]


def test_time_budget_ends_with_done(tmp_path, worker_factory):
    cfg = write_config(tmp_path / "c.yaml", LEDUC_ES % 0)
    w = worker_factory(*train_args(cfg, tmp_path / "i", "--time-budget", 1.0))
    code, _ = w.finish()
    assert code == 0 and w.events[-1]["event"] == "done"
    assert load_checkpoint(list_checkpoints(tmp_path / "i")[0]).manifest["elapsed_s"] >= 1.0


@pytest.mark.parametrize(
    "text, key",
    [
        ("game: leduc\nalgorithm: cfr+\nitertions: 5\n", "itertions"),
        ("game: leduc\nalgorithm: cfr+\niterations: many\n", "iterations"),
        ("game: leduc\nalgorithm: cfr+\niterations: -5\n", "iterations"),
        ("game: leduc\nalgorithm: cfr+\ncheckpoint: {keep: 0}\n", "checkpoint.keep"),
        ("game: poker\nalgorithm: cfr+\n", "game"),
    ],
)
def test_bad_config_exits_2_naming_the_key(tmp_path, worker_factory, text, key):
    cfg = write_config(tmp_path / "c.yaml", text)
    w = worker_factory(*train_args(cfg, tmp_path / "i"))
    code, stderr = w.finish()
    assert code == 2
    assert f"'{key}'" in stderr
    error = w.events[-1]
    assert error["event"] == "error" and error["permanent"] is True and f"'{key}'" in error["message"]


def test_negative_iterations_on_the_command_line_exit_2(tmp_path, worker_factory):
    cfg = write_config(tmp_path / "c.yaml", LEDUC_ES % 0)
    code, stderr = worker_factory(*train_args(cfg, tmp_path / "i", "--iters", -3)).finish()
    assert code == 2 and "--iters" in stderr


@pytest.fixture(scope="module")
def three_checkpoints_made(tmp_path_factory) -> Path:
    """A config and an instance of 30,000 iterations checkpointed every 10,000, trained once for the
    module; the tests below damage or resume copies of it."""
    folder = tmp_path_factory.mktemp("three-checkpoints")
    cfg = write_config(folder / "c.yaml", LEDUC_ES % 10_000)
    w = Worker(*train_args(cfg, folder / "i", "--iters", 30_000))
    try:
        assert w.finish()[0] == 0
    finally:
        w.proc.stdout.close()
        w.proc.stderr.close()
    return folder


def _three_checkpoints(tmp_path: Path, made: Path) -> tuple[Path, Path, list[Path]]:
    shutil.copytree(made, tmp_path / "copy")
    inst = tmp_path / "copy" / "i"
    return tmp_path / "copy" / "c.yaml", inst, list_checkpoints(inst)


@pytest.mark.parametrize("damage", ["truncate", "bitflip", "no-manifest"])
def test_resume_skips_a_damaged_newest_checkpoint(tmp_path, worker_factory, three_checkpoints_made, damage):
    cfg, inst, found = _three_checkpoints(tmp_path, three_checkpoints_made)
    assert [int(p.name) for p in found] == [30_000, 20_000, 10_000]
    victim = found[0] / "strategy_sum.npy"
    data = bytearray(victim.read_bytes())
    if damage == "truncate":
        victim.write_bytes(data[: len(data) // 2])
    elif damage == "bitflip":
        data[-3] ^= 0x10
        victim.write_bytes(bytes(data))
    else:
        (found[0] / "manifest.json").unlink()
    w = worker_factory(*train_args(cfg, inst, "--iters", 40_000, "--resume"))
    started = w.wait_for("started")
    code, stderr = w.finish()
    assert code == 0
    assert started["resumed_from"] == 20_000
    assert "skipping checkpoint" in stderr and "000000030000" in stderr


def test_resume_refuses_a_checkpoint_of_another_seed(tmp_path, worker_factory, three_checkpoints_made):
    cfg, inst, _ = _three_checkpoints(tmp_path, three_checkpoints_made)
    code, stderr = worker_factory(*train_args(cfg, inst, "--iters", 40_000, "--resume", "--seed", 6)).finish()
    assert code == 2 and "refusing to resume" in stderr


def test_existing_checkpoints_without_resume_are_not_overwritten(tmp_path, worker_factory, three_checkpoints_made):
    cfg, inst, before = _three_checkpoints(tmp_path, three_checkpoints_made)
    code, stderr = worker_factory(*train_args(cfg, inst, "--iters", 40_000)).finish()
    assert code == 2 and "--resume" in stderr
    assert list_checkpoints(inst) == before


def test_sigkilled_and_resumed_three_times_ends_bit_identical(tmp_path, worker_factory):
    target = 2_000_000
    cfg = write_config(tmp_path / "c.yaml", LEDUC_ES % 100_000)
    alone = tmp_path / "alone"
    assert worker_factory(*train_args(cfg, alone, "--iters", target)).finish()[0] == 0

    chaos = tmp_path / "chaos"
    rnd = random.Random(1234)
    kills = 0
    resumed_from = []
    while True:
        w = worker_factory(*train_args(cfg, chaos, "--iters", target, "--resume"))
        resumed_from.append(w.wait_for("started")["resumed_from"])
        if kills < 3:
            if kills == 0:  # a loaded machine may be slow: let the first segment leave a checkpoint
                w.wait_for("checkpoint")
            for _ in range(rnd.randint(1, 4)):  # a random moment: after 1-4 progress reports
                w.wait_for("progress")
            w.proc.send_signal(signal.SIGKILL)
            assert w.proc.wait(timeout=30) == -signal.SIGKILL
            kills += 1
            continue
        assert w.finish()[0] == 0
        break
    assert resumed_from[0] is None and any(r for r in resumed_from[1:])
    final = f"{target:012d}"
    assert file_hashes(chaos / "checkpoints" / final) == file_hashes(alone / "checkpoints" / final)


def test_instance_folder_cannot_be_trained_twice_at_once(tmp_path, worker_factory):
    cfg = write_config(tmp_path / "c.yaml", LEDUC_ES % 0)
    first = worker_factory(*train_args(cfg, tmp_path / "i", "--iters", 10**10))
    first.wait_for("started")
    code, stderr = worker_factory(*train_args(cfg, tmp_path / "i", "--iters", 10, "--resume")).finish()
    assert code == 3 and "in use" in stderr
    first.proc.send_signal(signal.SIGTERM)
    assert first.finish()[0] == 0


def test_events_are_the_only_thing_on_stdout(tmp_path, worker_factory):
    cfg = write_config(tmp_path / "c.yaml", LEDUC_ES % 0)
    w = worker_factory(*train_args(cfg, tmp_path / "i", "--iters", 1000))
    for line in w.proc.stdout:
        json.loads(line)
    assert w.proc.wait(timeout=60) == 0

"""TensorBoard scalars: what ScalarLog writes, TensorBoard's own reader reads back; no TensorFlow."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from holdem.instance.tensorboard import ScalarLog


def read_scalars(logdir: Path) -> dict[str, list[tuple[int, float, float]]]:
    """(step, value, wall_time) per tag, as TensorBoard itself loads the folder."""
    acc = EventAccumulator(str(logdir))
    acc.Reload()
    return {tag: [(e.step, e.value, e.wall_time) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_scalars_read_back_with_tags_steps_values_and_times(tmp_path: Path) -> None:
    logdir = tmp_path / "tensorboard"  # created on demand
    with ScalarLog(logdir) as log:
        for step in range(1, 6):
            log.add("train/ips", 1000.0 * step, step, wall_time=1_700_000_000.0 + step)
            log.add("eval/exploitability", 1.0 / step**2, step, wall_time=1_700_000_000.5 + step)
        log.add("train/regret", 7, 9)  # an int value and the current time

    scalars = read_scalars(logdir)

    assert sorted(scalars) == ["eval/exploitability", "train/ips", "train/regret"]
    assert scalars["train/ips"] == [(s, 1000.0 * s, 1_700_000_000.0 + s) for s in range(1, 6)]
    # TensorBoard keeps scalars as float32.
    assert [v for _, v, _ in scalars["eval/exploitability"]] == [float(np.float32(1.0 / s**2)) for s in range(1, 6)]
    [(step, value, wall)] = scalars["train/regret"]
    assert (step, value) == (9, 7.0) and wall > 1_700_000_000


def test_flush_makes_points_visible_while_the_log_is_open(tmp_path: Path) -> None:
    log = ScalarLog(tmp_path, flush_secs=3600)
    log.add("x", 0.5, 1)
    log.flush()
    [(step, value, _)] = read_scalars(tmp_path)["x"]
    assert (step, value) == (1, 0.5)
    log.close()
    log.close()  # twice is harmless
    with pytest.raises(ValueError, match="closed"):
        log.add("x", 1.0, 2)


def test_add_flushes_on_its_own_after_flush_secs(tmp_path: Path) -> None:
    with ScalarLog(tmp_path, flush_secs=0) as log:
        log.add("x", 2.0, 1)
        assert [v for _, v, _ in read_scalars(tmp_path)["x"]] == [2.0]


def test_each_log_gets_its_own_file(tmp_path: Path) -> None:
    with ScalarLog(tmp_path) as a, ScalarLog(tmp_path) as b:
        a.add("x", 1.0, 1)
        b.add("x", 2.0, 2)
    assert a.path != b.path and a.path.parent == b.path.parent == tmp_path
    assert sorted(step for step, _, _ in read_scalars(tmp_path)["x"]) == [1, 2]


def test_resume_purges_points_after_the_checkpoint(tmp_path: Path) -> None:
    with ScalarLog(tmp_path) as first:
        for step in range(1, 6):
            first.add("x", float(step), step)
    # The process died after step 5; it resumes from the checkpoint at step 3.
    with ScalarLog(tmp_path, purge_from_step=3) as second:
        for step in range(3, 5):
            second.add("x", 10.0 * step, step)

    assert first.path.name < second.path.name  # TensorBoard reads files in name order
    assert [(s, v) for s, v, _ in read_scalars(tmp_path)["x"]] == [(1, 1.0), (2, 2.0), (3, 30.0), (4, 40.0)]


def test_bad_tag_is_refused(tmp_path: Path) -> None:
    with ScalarLog(tmp_path) as log, pytest.raises(ValueError, match="tag"):
        log.add("", 1.0, 1)


def test_never_imports_tensorflow_even_when_installed(tmp_path: Path) -> None:
    # A stand-in `tensorflow` that fails loudly if anything imports it, as the real one would load.
    fake = tmp_path / "site" / "tensorflow"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise RuntimeError('tensorflow was imported')\n")
    script = textwrap.dedent(
        f"""
        import sys
        from holdem.instance.tensorboard import ScalarLog
        with ScalarLog({str(tmp_path / "tb")!r}, purge_from_step=1) as log:
            log.add("x", 1.0, 1)
            log.flush()
        assert "tensorflow" not in sys.modules
        print("ok")
        """
    )
    env_path = str(tmp_path / "site")
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok" and done.stderr == ""

"""Issue 14 end to end with the real `holdem`: the daemon refuses a bad config through holdem's own
validation before it accepts a run, and `make run` says what it starts and what to do next."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "supervisor"))
from sv_harness import PY, REAL_WORKER, REPO, HoldemD


async def test_a_bad_config_is_refused_by_holdems_own_validation_naming_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("game: leduc\nalgorithm: es-mccfr\ncheckpoint: {keep: -1}\n")
    d = HoldemD(tmp_path / "d", REAL_WORKER)
    try:
        await d.start()
        out = subprocess.run(
            [PY, "-m", "supervisor.ctl", "--socket", str(d.sock), "start", "--instances", "1", "--config", str(bad)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 1 and out.stdout == ""
        assert out.stderr == (
            f"holdemctl: {bad}: config key 'checkpoint.keep': expected an integer in [1, 1000], got -1\n"
        )
        assert (await d.call("runs.list"))["runs"] == []
    finally:
        await d.stop()
    hunl = tmp_path / "hunl.yaml"
    hunl.write_text("game: hunl\nalgorithm: es-mccfr\nhunl: {bet_sizes: {flop: [0]}}\n")
    out = subprocess.run(
        d.argv(["--instances", "1", "--config", str(hunl)]), capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert out.returncode == 2 and "config key 'hunl.bet_sizes.flop'" in out.stderr, out.stderr


def test_make_run_says_what_it_starts_and_what_to_do_next(tmp_path: Path) -> None:
    cfg = tmp_path / "small.yaml"
    cfg.write_text(
        "game: leduc\nalgorithm: es-mccfr\niterations: 200000\n"
        "checkpoint: {every_iterations: 100000, every_seconds: 0, keep: 2}\n"
        "metrics: {progress_interval_s: 0.2, exploitability_every_s: 0}\n"
    )
    root = tmp_path / "qs"
    argv = [sys.executable, "-m", "supervisor.quickstart", "--root", str(root), "--config", str(cfg)]
    first = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=REPO, stdin=subprocess.DEVNULL)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "starting a fresh run" in first.stdout and "previous run" not in first.stdout
    assert "running/prepare" in first.stdout or "[0]pending" in first.stdout or "[0]starting" in first.stdout
    assert "[0]stopped" not in first.stdout  # never launched is not stopped
    merged = first.stdout.split("merged blueprint: ", 1)[1].split()[0]
    assert "next:" in first.stdout and f"holdem eval {merged} --exploitability\n" in first.stdout
    second = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=REPO, stdin=subprocess.DEVNULL)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "starting a fresh run" in second.stdout
    assert f": the previous run {Path(merged).parent.name} is done; its blueprint stays in {merged}" in second.stdout


def test_make_run_with_a_bad_config_says_why_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("game: leduc\nalgorithm: es-mccfr\ncheckpoint: {keep: -1}\n")
    out = subprocess.run(
        [sys.executable, "-m", "supervisor.quickstart", "--root", str(tmp_path / "qs"), "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 1 and "Traceback" not in out.stderr and out.stderr.count("\n") == 1
    assert "holdemd exited with 2 before it was ready" in out.stderr and "config key 'checkpoint.keep'" in out.stderr


# issue 26 ---------------------------------------------------------------------------------------

TINY_HUNL = REPO / "tests" / "tui" / "tiny_hunl.yaml"
HAND = r"[2-9TJQKA]{2}[so]?"


def test_holdemctl_strategy_range_cells_read_as_holdem_strategys(hunl_build, tmp_path: Path) -> None:
    """`holdemctl strategy --range` prints the daemon's `holdem strategy --json` document (verbatim); its
    cells are what `holdem strategy --range` shows for the same blueprint: f/c/r and how often, never a
    number run into a percentage (`1100%`)."""
    import json
    import re

    from supervisor.ctl.blueprint_commands import format_strategy

    folder = tmp_path / "inst"
    train = [PY, "-m", "holdem", "train", "--config", str(TINY_HUNL), "--instance-dir", str(folder), "--iters", "2000"]
    assert subprocess.run(train, capture_output=True, timeout=300, cwd=REPO).returncode == 0
    policy = str(sorted((folder / "checkpoints").iterdir())[-1])
    strategy = [PY, "-m", "holdem", "strategy", policy, "--range"]
    doc = json.loads(subprocess.run([*strategy, "--json"], capture_output=True, text=True, timeout=120).stdout)
    holdem_text = subprocess.run(strategy, capture_output=True, text=True, timeout=120).stdout
    ours = format_strategy({**doc, "source": {"kind": "checkpoint", "path": policy, "instance": 0}})
    cells = re.findall(rf"({HAND}) +([fcr][ \d]{{2}}\d%)", ours)
    assert len(cells) == 169, ours
    assert not re.search(r"\d\d\d\d%", ours), ours
    # holdem draws each class over two lines: the hands, then their f/c/r cells
    theirs = re.findall(r"[fcr][ \d]{2}\d%", holdem_text)
    assert [cell for _, cell in cells] == theirs, (ours, holdem_text)

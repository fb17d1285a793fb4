"""What a newcomer meets at the `holdem` command line, second round (issue 26): help that tells the truth
and shows every default, progress with elapsed time and an ETA, a resume that needs no config, advice
that works, hand classes in `strategy`, plain unwrapped output in a pipe, a closed pipe that is no error.
Real subprocesses (on a pseudo-terminal where the behaviour is a terminal's) on small games."""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from holdem_proc import REPO, SMALL_HUNL, write_config

from holdem.cli.parser import build_parser
from holdem.evaluation.lbr import terminal_progress
from holdem.instance.pipes import PipeSafeHandler
from holdem.instance.progress import progress_text
from holdem.progress_bar import ProgressBar

KUHN = "game: kuhn\nalgorithm: cfr+\nmetrics: {tensorboard: false, progress_interval_s: 0.05}\n"
SMALL = "game: hunl\nalgorithm: es-mccfr\ncfr: {averaging: linear, linear_regrets: true}\nhunl: " + json.dumps(
    SMALL_HUNL
)


def holdem(*args: object, env: dict | None = None, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "holdem", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        input=stdin,
        env=None if env is None else {**os.environ, **env},
    )


def on_terminal(*args: object, timeout: float = 120.0) -> tuple[int, str]:
    """Run `holdem ARGS` with stdin, stdout and stderr on a pseudo-terminal: (exit code, all it wrote,
    its line ends as the program wrote them)."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "holdem", *map(str, args)], cwd=REPO, stdin=slave, stdout=slave, stderr=slave
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise AssertionError(f"holdem {args} did not finish in {timeout} s: {b''.join(chunks)!r}")
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the last writer closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return proc.wait(timeout=10), b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def blueprint(hunl_buckets, tmp_path_factory) -> Path:
    """A briefly trained hold'em instance of SMALL_HUNL (its buckets are the session's, $HOLDEM_BUCKETS)."""
    folder = tmp_path_factory.mktemp("newuser2")
    cfg = write_config(folder / "small.yaml", SMALL)
    done = holdem("train", "--config", cfg, "--instance-dir", folder / "bp", "--iters", 3000)
    assert done.returncode == 0, done.stderr
    return folder / "bp"


# ---------------------------------------------------------------- item 7: search help


def test_search_help_names_the_street_search_starts_from() -> None:
    for command, flags in (("match", ("--search-a", "--search-b")), ("play", ("--search",))):
        text = holdem(command, "--help", env={"COLUMNS": "400"}).stdout
        lines = {line.split()[0]: line for line in text.splitlines() if line.startswith("  --")}
        for flag in flags:
            assert "after the flop" not in lines[flag], lines[flag]
            assert "--search-from" in lines[flag] and "river" in lines[flag], lines[flag]


# ---------------------------------------------------------------- item 9: progress, elapsed, ETA


def test_match_shows_its_progress_on_a_terminal() -> None:
    code, text = on_terminal("match", "call", "random", "--hands", 400)
    assert code == 0, text
    assert "400/400 hands" in text and "100.0%" in text and "elapsed" in text, text
    assert "call vs random:" in text  # the result after the bar, on its own line
    piped = holdem("match", "call", "random", "--hands", 400)
    assert piped.returncode == 0 and piped.stderr == "" and piped.stdout.startswith("call vs random:")


def test_the_training_bar_shows_elapsed_time_and_an_eta(tmp_path: Path) -> None:
    snap: dict[str, Any] = {
        "iter": 500,
        "target_iters": 1000,
        "time_budget_s": None,
        "elapsed_s": 70.0,
        "ips": 10.0,
        "metrics": {},
    }
    text = progress_text(snap, ProgressBar(FakeTerminal(), width=10))
    assert "1:10 elapsed" in text and "0:50 left" in text, text
    budget = progress_text({**snap, "target_iters": None, "time_budget_s": 100.0}, ProgressBar(FakeTerminal()))
    assert "1:10 elapsed" in budget and "0:30 left" in budget, budget
    cfg = write_config(tmp_path / "kuhn.yaml", KUHN)
    code, drawn = on_terminal("train", "--config", cfg, "--instance-dir", tmp_path / "k", "--time-budget", 0.5)
    assert code == 0, drawn
    bars = [part for part in drawn.replace("\n", "\r").split("\r") if "it/s" in part]
    assert bars and all("elapsed" in bar and "left" in bar for bar in bars), bars


def test_the_lbr_bar_shows_elapsed_time_and_an_eta() -> None:
    out = FakeTerminal()
    show = terminal_progress("mbb/hand", out)
    show(5, 10, 12.5)
    assert "10/20 hands" in out.getvalue() and "elapsed" in out.getvalue() and "left" in out.getvalue()


# ---------------------------------------------------------------- items 10, 11: resume and its advice


def test_a_resume_takes_its_config_from_the_checkpoint(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "kuhn.yaml", KUHN)
    assert holdem("train", "--config", cfg, "--instance-dir", tmp_path / "k", "--iters", 50).returncode == 0
    cfg.unlink()  # the checkpoint holds the config: the file is not needed any more
    out = holdem("train", "--instance-dir", tmp_path / "k", "--resume", "--iters", 80)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "k" / "checkpoints" / "000000000080").is_dir()
    fresh = holdem("train", "--instance-dir", tmp_path / "new", "--iters", 10)
    assert fresh.returncode == 2 and "--config" in fresh.stderr and "--resume" in fresh.stderr, fresh.stderr
    empty = holdem("train", "--instance-dir", tmp_path / "empty", "--resume")
    assert empty.returncode == 2 and f"{tmp_path / 'empty'} has no checkpoint" in empty.stderr, empty.stderr


def test_a_folder_of_another_game_gets_advice_that_works(tmp_path: Path) -> None:
    kuhn = write_config(tmp_path / "kuhn.yaml", KUHN)
    leduc = write_config(tmp_path / "leduc.yaml", KUHN.replace("kuhn", "leduc"))
    assert holdem("train", "--config", kuhn, "--instance-dir", tmp_path / "k", "--iters", 20).returncode == 0
    for extra in ((), ("--resume",)):
        out = holdem("train", "--config", leduc, "--instance-dir", tmp_path / "k", "--iters", 20, *extra)
        assert out.returncode == 2, out.stderr
        assert "pass --resume" not in out.stderr
        assert "holds a kuhn run" in out.stderr and "another --instance-dir" in out.stderr, out.stderr
        assert "--config of game kuhn" in out.stderr, out.stderr
    same = holdem("train", "--config", kuhn, "--instance-dir", tmp_path / "k", "--iters", 20)
    assert same.returncode == 2 and "pass --resume to continue it" in same.stderr  # there it works


# ---------------------------------------------------------------- items 13, 14: strategy and play input


def test_strategy_takes_a_hand_class(blueprint: Path) -> None:
    out = holdem("strategy", blueprint, "--hand", "AKs", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["kind"] == "class" and data["hand"] == "AKs"
    assert sorted(c["hand"] for c in data["combos"]) == ["AcKc", "AdKd", "AhKh", "AsKs"]
    for i, action in enumerate(data["actions"]):
        mean = sum(c["probabilities"][i] for c in data["combos"]) / 4
        assert action["probability"] == pytest.approx(mean, abs=1e-5)
    board = holdem("strategy", blueprint, "--hand", "QQ", "--history", "cc", "--board", "Qh 7c 2d", "--json")
    assert board.returncode == 0, board.stderr
    assert len(json.loads(board.stdout)["combos"]) == 3  # the board holds one queen
    text = holdem("strategy", blueprint, "--hand", "AKo").stdout
    assert "mean of its 12 combos" in text and "AsKd" in text, text
    wrong = holdem("strategy", blueprint, "--hand", "AKx")
    assert wrong.returncode == 2 and "AsKd" in wrong.stderr and "AKs" in wrong.stderr and "--range" in wrong.stderr


def test_a_missing_blueprint_is_named_as_missing_and_bots_only_where_they_are_allowed(tmp_path: Path) -> None:
    nowhere = tmp_path / "nowhere"
    for args in (("strategy", nowhere, "--hand", "AsKd"), ("play", nowhere)):
        out = holdem(*args)
        assert out.returncode == 2 and f"holdem: {nowhere} does not exist" in out.stderr
        assert "bot" not in out.stderr, out.stderr
    out = holdem("match", nowhere, "call", "--hands", 2)
    assert out.returncode == 2 and f"{nowhere} does not exist" in out.stderr
    assert all(bot in out.stderr for bot in ("random", "call", "raise-pot", "oddsizes")), out.stderr


# ---------------------------------------------------------------- item 15: log lines and the bar


def test_a_log_line_never_runs_into_the_bar() -> None:
    screen = FakeTerminal()
    bar = ProgressBar(screen)
    log = logging.getLogger("test.bar")
    handler = PipeSafeHandler(screen)
    log.addHandler(handler)
    try:
        bar.show("[###] 3 it/s")
        log.warning("a line")
    finally:
        log.removeHandler(handler)
    assert "it/sa line" not in screen.getvalue()
    assert screen.getvalue().endswith("a line\n\r[###] 3 it/s\x1b[K")  # the bar is drawn again below


def test_trainings_log_lines_start_on_their_own_line_on_a_terminal(hunl_buckets, tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "small.yaml", SMALL + "\nmetrics: {progress_interval_s: 0.05}\n")
    code, drawn = on_terminal("train", "--config", cfg, "--instance-dir", tmp_path / "h", "--iters", 2000)
    assert code == 0, drawn
    for line in drawn.split("\n"):
        for part in line.split("\r"):
            assert not ("it/s" in part and " INFO " in part), line


# ---------------------------------------------------------------- item 16: no wrapping in a pipe


def test_piped_strategy_is_not_wrapped(blueprint: Path) -> None:
    for what in (("--range",), ("--hand", "AsKd")):
        out = holdem("strategy", blueprint, *what, env={"COLUMNS": "60"})
        assert out.returncode == 0, out.stderr
        title = [line for line in out.stdout.splitlines() if "on the preflop" in line]
        assert title and title[0].rstrip().endswith("iteration 3,000"), out.stdout
        assert "raise to 10000 (all-in)" in out.stdout


# ---------------------------------------------------------------- item 18: every default in --help


def _subparsers(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name), sub
                yield from _subparsers(sub, (*prefix, name))


def test_every_option_with_a_default_shows_it_in_help() -> None:
    missing = []
    for command, sub in _subparsers(build_parser()):
        text = holdem(*command, "--help", env={"COLUMNS": "1000"}).stdout
        blocks: dict[str, str] = {}
        for line in text.splitlines():
            if line.startswith("  -"):
                current = line.split()[0].rstrip(",")
                blocks[current] = line
            elif line.startswith("    ") and blocks:
                blocks[current] += line
        for action in sub._actions:
            if not action.option_strings or action.default in (None, False, argparse.SUPPRESS):
                continue
            help_text = blocks[action.option_strings[0]]
            shown = "default" in help_text and (str(action.default) in help_text or "every core" in help_text)
            if not shown:
                missing.append((" ".join(command), action.option_strings[0], action.default))
    assert not missing


# ---------------------------------------------------------------- item 19: what measures hold'em


def test_exploitability_of_a_holdem_blueprint_names_every_measure(blueprint: Path) -> None:
    out = holdem("eval", blueprint, "--exploitability")
    assert out.returncode == 2
    for measure in (f"holdem lbr {blueprint}", f"holdem eval {blueprint} --ladder", "holdem match"):
        assert measure in out.stderr, out.stderr


# ---------------------------------------------------------------- item 22: wording, a closed pipe


def test_play_names_a_split_pot_and_says_when_search_is_on(blueprint: Path) -> None:
    from holdem.play.terminal import outcome_text

    assert outcome_text(0.0, 0.0, 1).startswith("you split the pot;")
    assert outcome_text(150.0, 150.0, 1).startswith("you win 150;")
    out = holdem("play", blueprint, "--search", "--search-iters", 10, "--hands", 1, stdin="q\n")
    assert out.returncode == 0, out.stderr
    first = out.stdout.splitlines()[0]
    assert "with search from the river on (10 iterations a decision)" in first, first
    plain = holdem("play", blueprint, "--hands", 1, stdin="q\n")
    assert "(no search)" in plain.stdout.splitlines()[0]


def test_tree_names_the_real_config_in_its_bucket_hint(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "small.yaml", SMALL)
    out = holdem("tree", "--config", cfg, "--buckets-root", tmp_path / "none", "--sample-s", 0.1)
    assert out.returncode == 0, out.stderr
    assert f"holdem buckets build --config {cfg} --buckets-root {tmp_path / 'none'}" in out.stdout, out.stdout
    assert "FILE" not in out.stdout


def test_a_closed_pipe_is_not_an_error(blueprint: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "holdem", "strategy", str(blueprint), "--range"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before a line is written (like `| head -0`)
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0 and err == "", err

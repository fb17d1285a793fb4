"""Issue 14 end to end with the real `holdem`: the daemon refuses a bad config through holdem's own
validation before it accepts a run, and `make run` says what it starts and what to do next."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

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


def long_leduc(tmp_path: Path) -> Path:
    cfg = tmp_path / "long.yaml"
    cfg.write_text(
        "game: leduc\nalgorithm: es-mccfr\niterations: 2000000000\n"
        "checkpoint: {every_iterations: 0, every_seconds: 5, keep: 2}\n"
        "metrics: {progress_interval_s: 0.2, exploitability_every_s: 0}\n"
    )
    return cfg


class Quickstart:
    """`make run` without a terminal, as in `make run </dev/null | cat`: its output goes to files here."""

    def __init__(self, root: Path, cfg: Path, name: str) -> None:
        self.out, self.err = root.parent / f"{name}.out", root.parent / f"{name}.err"
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "supervisor.quickstart", "--root", str(root), "--config", str(cfg)],
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                cwd=REPO,
            )

    def said(self, needle: str, timeout: float = 180.0) -> str:
        """Its output once `needle` is in it."""
        deadline = time.monotonic() + timeout
        while needle not in (text := self.out.read_text()):
            assert self.proc.poll() is None, f"ended without {needle!r}:\n{text}\n{self.err.read_text()}"
            assert time.monotonic() < deadline, f"{needle!r} never printed:\n{text}"
            time.sleep(0.1)
        return text

    def ended(self, timeout: float = 120.0) -> tuple[int, str, str]:
        code = self.proc.wait(timeout)
        return code, self.out.read_text(), self.err.read_text()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def test_make_run_prints_its_socket_a_second_one_attaches_and_a_stop_from_outside_ends_both(tmp_path: Path) -> None:
    root, cfg = tmp_path / "qs", long_leduc(tmp_path)
    sock = root / "holdemd.sock"
    first = Quickstart(root, cfg, "first")
    second = None
    try:
        said = first.said(" running ")
        assert f"its socket: {sock}\n" in said, said
        assert f"holdemctl --socket {sock} status" in said and f"holdem-tui --socket {sock}" in said, said
        pid = int(said.split("holdemd (pid ", 1)[1].split(")")[0])
        run = said.split("starting a fresh run ", 1)[1].split()[0]
        second = Quickstart(root, cfg, "second")
        also = second.said(" running ")
        assert f"attaching to holdemd (pid {pid}), started by an earlier `make run`" in also, also
        assert "already using state dir" not in also
        stop = subprocess.run(
            [PY, "-m", "supervisor.ctl", "--socket", str(sock), "stop"], capture_output=True, text=True, timeout=120
        )
        assert stop.returncode == 0, stop.stderr
        code, out, err = first.ended()  # it returns: it no longer prints "stopped" for ever
        assert code == 1 and err == f"quickstart: run stopped: {run} (stopped by request)\n", out + err
        code, out, err = second.ended()  # it saw the run stopped, or its daemon stopped by the first
        assert code == 1 and err.startswith(("quickstart: run stopped: ", "quickstart: holdemd went away")), err
    finally:
        for quick in (first, second):
            if quick is not None:
                quick.kill()
        end_daemon(root)


def end_daemon(root: Path) -> None:
    """A daemon a failed test left behind (make run starts it in its own session): SIGTERM by the pid in
    its state dir's lock, and wait for it."""
    import os
    import signal

    from supervisor.protocol.messages import listening

    if not listening(root / "holdemd.sock"):
        return
    pid = int((root / "state" / "holdemd.lock").read_text().split()[0])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 120
    while listening(root / "holdemd.sock") and time.monotonic() < deadline:
        time.sleep(0.2)


class Terminal:
    """A program on a pseudo-terminal of 80x24, as a person runs `make run`: what it draws is read on a
    thread, and keys are typed into it."""

    def __init__(self, argv: list[str]) -> None:
        import fcntl
        import os
        import pty
        import struct
        import termios
        import threading

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, cwd=REPO, env=env, start_new_session=True
        )
        os.close(slave)
        self.output = b""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        import os

        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # the program ended and the pty closed
                return
            if not chunk:
                return
            self.output += chunk

    @property
    def text(self) -> str:
        return self.output.decode(errors="replace")

    def wait_for(self, needle: str, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            assert self.proc.poll() is None or needle in self.text, f"ended without {needle!r}:\n{self.text[-3000:]}"
            assert time.monotonic() < deadline, f"{needle!r} never shown:\n{self.text[-3000:]}"
            time.sleep(0.1)

    def type(self, keys: str) -> None:
        import os

        os.write(self.master, keys.encode())

    def ended(self, timeout: float = 180.0) -> int:
        code = self.proc.wait(timeout)
        time.sleep(0.2)  # the last output still in the pty
        return code


def test_make_run_q_leaves_holdemd_training_and_says_how_to_come_back_and_capital_q_stops_it(
    tmp_path: Path,
) -> None:
    from supervisor.protocol.messages import listening

    root, cfg = tmp_path / "qs", long_leduc(tmp_path)
    sock = root / "holdemd.sock"
    argv = [sys.executable, "-m", "supervisor.quickstart", "--root", str(root), "--config", str(cfg)]
    term = None
    try:
        term = Terminal(argv)
        term.wait_for("q leaves holdemd training, Q stops it")  # said on the TUI's first screen
        term.wait_for("▶ running")
        term.type("q")
        assert term.ended() == 0, term.text[-3000:]
        after = term.text.rsplit("goes on training; come back with:", 1)[-1]
        assert f"holdem-tui --socket {sock}" in after and f"holdemctl --socket {sock} status" in after, term.text
        assert listening(sock)  # training goes on: the daemon belongs to the user now

        term = Terminal(argv)  # `make run` again: attaches to it
        term.wait_for("attaching to holdemd (pid ")
        term.wait_for("q leaves holdemd training, Q stops it")
        term.type("Q")
        assert term.ended() == 0, term.text[-3000:]
        assert "holdemd stopped; its instances checkpointed" in term.text, term.text[-3000:]
        assert not listening(sock)
    finally:
        if term is not None and term.proc.poll() is None:
            import os
            import signal

            os.killpg(term.proc.pid, signal.SIGKILL)  # make run and its TUI (the daemon has its own session)
            term.proc.wait()
        end_daemon(root)


def test_the_first_make_run_installs_without_a_setuptools_warning_box(tmp_path: Path) -> None:
    """`make run` installs the checkout editable (`pip install -q -e .`): nothing of the build may reach
    the screen, such as setuptools' boxed BuildBackendWarning about folders named like the package."""
    import shutil

    source = tmp_path / "holdem"
    unshipped = (".git", ".venv", "runs", "build", "*.egg-info", "__pycache__", ".*_cache", "docs", "tests")
    shutil.copytree(REPO, source, symlinks=True, ignore=shutil.ignore_patterns(*unshipped))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "-e", str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if out.returncode != 0 and "Could not find a version" in out.stderr:
        pytest.skip("no package index reachable to fetch the build backend")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Warning" not in out.stdout + out.stderr and "****" not in out.stderr, out.stderr
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import holdem, supervisor, tui; print(holdem.__file__)"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert where.stdout.strip() == str(source / "holdem" / "__init__.py"), where.stderr

"""Faults around a training instance that must never cost its work (issue 27), on the real process:
its event and log pipes lose their reader (the daemon was killed), its TensorBoard disk fills up."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from holdem_proc import REPO
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from holdem.storage.checkpoint import latest_valid_checkpoint

sys.path.insert(0, str(REPO / "tests" / "supervisor"))
from sv_harness import fill, tmpfs  # a real small file system, as the disk-full tests make one

LEDUC_ES = REPO / "configs" / "leduc-es.yaml"


def train(inst: Path, stdout: int, stderr: int, config: Path = LEDUC_ES, *flags: object) -> subprocess.Popen[bytes]:
    """`holdem train` on inst with the event stream, for ever unless flags say otherwise."""
    flags = flags or ("--iters", 10**10)
    argv = ["train", "--config", config, "--instance-dir", inst, "--events", "jsonl", *flags]
    return subprocess.Popen(
        [sys.executable, "-m", "holdem.cli", *map(str, argv)], cwd=REPO, stdout=stdout, stderr=stderr
    )


def fifo(path: Path) -> tuple[int, int]:
    """(reader, writer) of a new FIFO; the reader opens first, so opening the writer does not block."""
    os.mkfifo(path)
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    writer = os.open(path, os.O_WRONLY)
    os.set_blocking(reader, True)
    return reader, writer


class Lines:
    """The lines arriving on a file descriptor, waited for with a deadline."""

    def __init__(self, fd: int) -> None:
        self.fd, self._buf = fd, b""
        self.seen: list[str] = []

    def wait_for(self, pattern: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while True:
            for line in self.seen:
                if re.search(pattern, line):
                    return line
            left = deadline - time.monotonic()
            assert left > 0, f"no line matching {pattern!r} within {timeout} s; saw:\n" + "\n".join(self.seen)
            if select.select([self.fd], [], [], left)[0]:
                chunk = os.read(self.fd, 65536)
                assert chunk, f"stream ended without {pattern!r}; saw:\n" + "\n".join(self.seen)
                *whole, self._buf = (self._buf + chunk).split(b"\n")
                self.seen += [w.decode(errors="replace") for w in whole]


def wait_for_file_line(path: Path, pattern: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> str:
    """The first line of `path` matching `pattern`, as soon as the process has written it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace") if path.exists() else ""
        if found := re.search(f".*{pattern}.*", text):
            return found.group(0)
        assert proc.poll() is None, f"the instance exited ({proc.returncode}) without writing {pattern!r} to {path}"
        time.sleep(0.05)
    raise AssertionError(f"no line matching {pattern!r} in {path} within {timeout} s")


def event(lines: Lines, kind: str, timeout: float = 60) -> dict:
    return json.loads(lines.wait_for(f'"event":"{kind}"', timeout))


def final_hashes(inst: Path, iteration: int) -> dict[str, str]:
    found = latest_valid_checkpoint(inst)
    assert found is not None and found.iteration == iteration
    return {name: entry["sha256"] for name, entry in found.manifest["files"].items()}


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=120)


def test_a_dead_event_pipe_costs_no_checkpoint(tmp_path: Path) -> None:
    """The issue's reproduction: stdout is a FIFO whose reader goes away mid-run (here once the run has
    trained, so the checkpoint at the stop holds work however slow the machine is)."""
    inst = tmp_path / "i"
    reader, writer = fifo(tmp_path / "events")
    proc = train(inst, writer, subprocess.PIPE)
    os.close(writer)
    try:
        events = Lines(reader)
        assert json.loads(events.wait_for("."))["event"] == "started"
        events.wait_for(r'"event":"progress","t":[\d.]+,"iter":[1-9]')
        os.close(reader)
        assert proc.stderr is not None
        log = Lines(proc.stderr.fileno())
        # The heartbeat has met the dead pipe (a dropped event; before the fix: its traceback).
        log.wait_for("reader is gone|BrokenPipeError")
        assert stop(proc) == 0
        stopped = log.wait_for(r"stopped at iteration \d+")
    finally:
        proc.kill()
        proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    found = latest_valid_checkpoint(inst)
    assert found is not None and found.iteration > 0
    assert stopped.endswith(f"stopped at iteration {found.iteration}")


def test_dead_event_and_log_pipes_leave_the_story_in_train_log(tmp_path: Path) -> None:
    """A killed daemon takes both pipes: the instance trains on, checkpoints on SIGTERM, and its
    log lines go to the instance's train.log, where the daemon keeps the child's stderr."""
    inst = tmp_path / "i"
    out_reader, out_writer = fifo(tmp_path / "events")
    err_reader, err_writer = fifo(tmp_path / "log")
    proc = train(inst, out_writer, err_writer)
    os.close(out_writer)
    os.close(err_writer)
    try:
        assert json.loads(Lines(out_reader).wait_for("."))["event"] == "started"
        os.close(out_reader)
        os.close(err_reader)
        wait_for_file_line(inst / "train.log", "the event stream's reader is gone", proc)
        code = stop(proc)
    finally:
        proc.kill()
        proc.wait()
    assert code == 0
    found = latest_valid_checkpoint(inst)
    assert found is not None and found.iteration > 0
    story = (inst / "train.log").read_text()
    assert "stderr's reader is gone" in story
    assert f"stopped at iteration {found.iteration}\n" in story


@pytest.fixture
def full_tensorboard_fs(tmp_path: Path) -> Iterator[Path]:
    """An instance folder whose tensorboard/ is a small file system of its own (root only)."""
    with tmpfs(tmp_path / "i" / "tensorboard", "1m") as mnt:
        yield mnt


def test_a_full_tensorboard_disk_drops_points_and_trains_on(full_tensorboard_fs: Path, worker_factory) -> None:
    inst = full_tensorboard_fs.parent
    w = worker_factory("train", "--config", LEDUC_ES, "--instance-dir", inst, "--events", "jsonl", "--iters", 10**10)
    while w.wait_for("progress")["iter"] == 0:  # the loop runs: the TensorBoard file is open
        pass
    filler = fill(full_tensorboard_fs)
    while not (dropped_at := w.wait_for("progress"))["metrics"].get("tensorboard_dropped"):
        pass
    filler.unlink()  # space returns: the points that follow are written again
    while (after := w.wait_for("progress"))["iter"] <= dropped_at["iter"] or after["elapsed_s"] < (
        dropped_at["elapsed_s"] + 3
    ):
        pass
    w.proc.send_signal(signal.SIGTERM)
    stopped = w.wait_for("stopped")
    assert w.finish()[0] == 0
    assert latest_valid_checkpoint(inst) is not None
    assert stopped["metrics"]["tensorboard_dropped"] >= dropped_at["metrics"]["tensorboard_dropped"] > 0
    acc = EventAccumulator(str(full_tensorboard_fs))
    acc.Reload()  # the file reads whole: no torn record where the disk was full
    steps = [e.step for e in acc.Scalars("speed/iterations_per_s")]
    assert steps == sorted(steps) and steps[-1] == stopped["iter"] > dropped_at["iter"]


def test_kills_long_before_the_regular_checkpoint_still_make_progress(tmp_path: Path) -> None:
    """Regular checkpoints every 10 minutes, a SIGKILL within seconds of every launch: the first
    checkpoint soon after each start (checkpoint.first_after_seconds: 1 s here, 5 s by default) lets
    every relaunch resume further on, and the run still ends bit-identical to one left alone (W = 1)."""
    config = tmp_path / "c.yaml"
    config.write_text(LEDUC_ES.read_text().replace("every_seconds: 30", "every_seconds: 600, first_after_seconds: 1"))
    resumed_from: list[int | None] = []
    for _ in range(3):  # for ever, unless killed (the target does not change the trajectory)
        proc = train(tmp_path / "chaos", subprocess.PIPE, subprocess.DEVNULL, config, "--iters", 10**10, "--resume")
        assert proc.stdout is not None
        try:
            events = Lines(proc.stdout.fileno())
            resumed_from.append(event(events, "started")["resumed_from"])
            first = event(events, "checkpoint")  # the regular one is 10 minutes away
            proc.send_signal(signal.SIGKILL)
            assert proc.wait(timeout=60) == -signal.SIGKILL
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()
    assert resumed_from[0] is None and 0 < resumed_from[1] < resumed_from[2] < first["iter"]  # type: ignore[operator]

    target = first["iter"] + 1_000_000
    for inst in ("chaos", "alone"):
        flags = ("--resume",) if inst == "chaos" else ()
        proc = train(tmp_path / inst, subprocess.DEVNULL, subprocess.DEVNULL, config, "--iters", target, *flags)
        assert proc.wait(timeout=600) == 0
    assert final_hashes(tmp_path / "chaos", target) == final_hashes(tmp_path / "alone", target)

"""A run's blueprint as the daemon hands it to holdem: which policy a request means, and holdem's one-shot
commands on it (`strategy --json`, `eval --ladder --json`, `tree --json`) run as bounded subprocesses.

The daemon imports no poker: it finds a policy by the run's files (the merged folder, an instance's newest
checkpoint folder) and asks `holdem` about it. Each command runs in its own session with a timeout,
from the event loop (other clients keep being served); on a timeout or a cancellation its process
group is killed. Its answer is the last JSON line of its stdout; a refusal (exit 2: a bad hand, a
history off the tree, a Kuhn run) is its own one-line message, which the API passes on as
`invalid_params`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from supervisor.executors.proc import proc_start_time, renice

SOURCES = ("merged", "latest")


@dataclass(frozen=True, slots=True)
class Source:
    """What a request evaluates: the merged blueprint, or one instance's newest checkpoint."""

    kind: str  # merged | checkpoint
    path: str
    instance: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "instance": self.instance}


class NoSource(Exception):
    """The run has no blueprint of the kind asked for yet (reported as `conflict`)."""


class HoldemFailed(Exception):
    """holdem refused (exit 2: `refused`) or failed; `message` is its own line."""

    def __init__(self, message: str, refused: bool) -> None:
        super().__init__(message)
        self.message = message
        self.refused = refused


def run_game(run_dir: Path) -> str | None:
    """The `game` of the run's frozen config (kuhn, leduc, hunl), read from run.yaml."""
    try:
        frozen = yaml.safe_load((run_dir / "run.yaml").read_text())
    except (OSError, yaml.YAMLError):
        return None
    config = frozen.get("config") if isinstance(frozen, dict) else None
    game = config.get("game") if isinstance(config, dict) else None
    return game if isinstance(game, str) else None


def newest_checkpoint(instance_dir: Path) -> Path | None:
    """The newest complete checkpoint folder (a checkpoint is renamed into place whole, manifest included)."""
    try:
        names = sorted((p.name for p in (instance_dir / "checkpoints").iterdir() if p.name[:1].isdigit()), reverse=True)
    except OSError:
        return None
    for name in names:
        if (instance_dir / "checkpoints" / name / "manifest.json").is_file():
            return instance_dir / "checkpoints" / name
    return None


def resolve_source(run_id: str, merged: str | None, instance_dirs: list[Path], wanted: str | None) -> Source:
    """`merged` (the default when the run has one), else `latest`: the newest checkpoint of the
    lowest-numbered instance that has one (instance 0 unless it has none); its path is the instance
    folder until holdem says which checkpoint it read (`checkpoint_path`)."""
    if wanted not in (None, *SOURCES):
        raise ValueError(f"'source' must be one of {', '.join(SOURCES)}, got {wanted!r}")
    has_merged = merged is not None and Path(merged).is_dir() and any(Path(merged).iterdir())
    if wanted in (None, "merged") and has_merged:
        return Source("merged", str(merged), None)
    if wanted == "merged":
        raise NoSource(
            f"run {run_id} has no merged blueprint yet (`holdemctl merge {run_id}` makes one; "
            'source "latest" takes the newest checkpoint)'
        )
    for k, d in enumerate(instance_dirs):
        # holdem is given the instance folder and takes its newest checkpoint that verifies when it
        # loads: a folder named here could be rotated away (keep K) before holdem reads it
        if newest_checkpoint(d) is not None:
            return Source("checkpoint", str(d), k)
    raise NoSource(f"run {run_id} has no checkpoint yet")


def checkpoint_path(source: Source, iteration: object) -> Source:
    """The checkpoint folder holdem read from an instance folder, by the iteration its answer gives."""
    if source.kind != "checkpoint" or not isinstance(iteration, int) or isinstance(iteration, bool):
        return source
    return Source(source.kind, str(Path(source.path) / "checkpoints" / f"{iteration:012d}"), source.instance)


def _message(stderr: str, code: int | None) -> str:
    """holdem's own one-line reason ('holdem: ...'), else its last stderr line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("holdem: "):
            return line[len("holdem: ") :]
    return lines[-1] if lines else f"exit code {code}"


def _last_json(stdout: str) -> dict[str, Any]:
    for line in reversed(stdout.splitlines()):
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            return obj
    raise HoldemFailed("holdem printed no JSON answer", refused=False)


async def run_holdem(
    argv: list[str],
    timeout: float,
    *,
    nice: int = 0,
    what: str = "holdem",
    on_start: Callable[[int, int | None], None] | None = None,
) -> dict[str, Any]:
    """Run one holdem command and return its JSON answer; HoldemFailed or asyncio.TimeoutError otherwise."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        )
    except OSError as exc:
        raise HoldemFailed(f"cannot run {argv[0]}: {exc}", refused=False) from None
    if nice:
        renice(proc.pid, nice)
    if on_start is not None:
        on_start(proc.pid, proc_start_time(proc.pid))
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except BaseException:  # a timeout, or the daemon shutting down: nothing to keep
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(proc.wait(), 10.0)
        raise
    if proc.returncode != 0:
        raise HoldemFailed(_message(err.decode(errors="replace"), proc.returncode), refused=proc.returncode == 2)
    return _last_json(out.decode(errors="replace"))


def strategy_argv(
    worker_cmd: tuple[str, ...], policy: str, hand: str | None, board: str, history: str, whole_range: bool
) -> list[str]:
    """`holdem strategy` with the values as `--flag=value`, so a value starting with '-' stays a value."""
    what = ["--range"] if whole_range else [f"--hand={hand}"]
    return [*worker_cmd, "strategy", policy, *what, f"--board={board}", f"--history={history}", "--json"]

"""What a run submission passes before it is accepted, and what `holdemd start`'s arguments mean.

The config is checked by holdem itself (`holdem check-config --json`, a subprocess: the supervisor
imports no poker), so a bad key is refused when the run is asked for, with holdem's own message,
instead of failing minutes later in the prepare phase. `same_run` tells whether an unfinished run
is what `holdemd start`'s arguments ask for, so a daemon restarted with the same arguments (systemd,
a reboot, `make run` again) continues that run instead of starting another.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from supervisor.config import StartSpec

CHECK_TIMEOUT_S = 60.0


class ConfigRefused(ValueError):
    """The config cannot make a run; the message names the file or the key and its allowed range."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def resolve_config(spec: StartSpec, default: Path | None) -> Path:
    """The absolute config path a spec stands for; a missing file is refused here, by name."""
    chosen = spec.config or default
    if chosen is None:
        raise ConfigRefused("no config given and no default config found")
    path = Path(chosen).resolve()
    if not path.exists():
        raise ConfigRefused(f"config {path} does not exist")
    if not path.is_file():
        raise ConfigRefused(f"config {path} is not a file")
    return path


def check_argv(worker_cmd: tuple[str, ...], path: Path) -> list[str]:
    return [*worker_cmd, "check-config", str(path), "--json"]


def verdict(returncode: int, stdout: str, stderr: str, path: Path) -> None:
    """Turn check-config's answer into nothing (valid) or a ConfigRefused naming the key."""
    answer: dict[str, Any] = {}
    for line in reversed(stdout.splitlines()):
        try:
            answer = json.loads(line)
            break
        except ValueError:
            continue
    if returncode == 0 and answer.get("ok") is True:
        return
    if isinstance(answer.get("message"), str):
        key = answer.get("key") if isinstance(answer.get("key"), str) else None
        raise ConfigRefused(f"{path}: {answer['message']}", key)
    last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit code {returncode}"
    raise ConfigRefused(f"{path}: the config check failed: {last}")


async def check_config(worker_cmd: tuple[str, ...], path: Path, timeout: float = CHECK_TIMEOUT_S) -> None:
    """`holdem check-config` in a subprocess, from the event loop (other clients keep being served)."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *check_argv(worker_cmd, path), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except OSError as exc:
        raise ConfigRefused(f"cannot run the config check {worker_cmd[0]}: {exc}") from None
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise ConfigRefused(f"{path}: the config check did not answer within {timeout:g}s") from None
    verdict(proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace"), path)


def check_config_sync(worker_cmd: tuple[str, ...], path: Path, timeout: float = CHECK_TIMEOUT_S) -> None:
    """The same check before the daemon's event loop starts (`holdemd start --config ...`)."""
    try:
        out = subprocess.run(
            check_argv(worker_cmd, path), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
        )
    except OSError as exc:
        raise ConfigRefused(f"cannot run the config check {worker_cmd[0]}: {exc}") from None
    except subprocess.TimeoutExpired:
        raise ConfigRefused(f"{path}: the config check did not answer within {timeout:g}s") from None
    verdict(out.returncode, out.stdout, out.stderr, path)


def same_run(run_dir: Path, spec: StartSpec, config: Path) -> bool:
    """Is the run in run_dir what `spec` asks for: same config file and bytes, instances and target?

    A value the arguments leave open (no --seed, no --iters) matches whatever the run resolved it to.
    """
    try:
        frozen = yaml.safe_load((run_dir / "run.yaml").read_text())
        same_bytes = (run_dir / "config.yaml").read_bytes() == config.read_bytes()
    except (OSError, yaml.YAMLError):
        return False
    if not isinstance(frozen, dict) or not same_bytes:
        return False
    if frozen.get("config_source") != str(config) or frozen.get("instances") != spec.instances:
        return False
    if spec.seed is not None and frozen.get("seed") != spec.seed:
        return False
    if spec.time_budget_s is not None or frozen.get("time_budget_s") is not None:
        return frozen.get("time_budget_s") == spec.time_budget_s
    return spec.iters is None or frozen.get("iters") == spec.iters


def describe_spec(spec: StartSpec, config: Path) -> str:
    """The arguments in words, for the log and the run's origin."""
    goal = (
        f"{spec.iters:,} iterations"
        if spec.iters is not None
        else f"{spec.time_budget_s:g} s per instance"
        if spec.time_budget_s is not None
        else "the config's iterations"
    )
    seed = f", seed {spec.seed}" if spec.seed is not None else ""
    return f"{spec.instances} instance{'s' if spec.instances != 1 else ''} of {config.name}, {goal}{seed}"

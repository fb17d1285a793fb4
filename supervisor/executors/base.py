"""What an executor is: the one part of the daemon that knows how a child is started and signalled.

A child is always a local process whose stdout is the worker's event stream: `local` runs the
worker itself, `slurm` runs `srun` (which relays the worker's stdio from a compute node). Above
this interface (child.py, instance.py, run.py) nothing knows which one runs; what an executor
tells the rest of the daemon is a `Placement` (job id, node) for status. After the submitit
pattern (facebookincubator/submitit): one small base, one module per backend.
"""

from __future__ import annotations

import shlex
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

EXECUTOR_NAMES = ("local", "slurm")


@dataclass(frozen=True, slots=True)
class ExecutorSpec:
    """Which executor a run uses and its options; frozen into run.yaml and the store."""

    name: str = "local"
    partition: str | None = None  # slurm: srun --partition
    account: str | None = None  # slurm: srun --account
    time_limit: str | None = None  # slurm: srun --time (e.g. "2-00:00:00"); none: the partition's
    options: tuple[str, ...] = ()  # slurm: further srun options, passed as given

    def __post_init__(self) -> None:
        if self.name not in EXECUTOR_NAMES:
            raise ValueError(f"executor must be one of {', '.join(EXECUTOR_NAMES)}, not {self.name!r}")
        if self.name == "local" and (self.partition or self.account or self.time_limit or self.options):
            raise ValueError("partition, account, time limit and srun options need executor 'slurm'")
        for key, value in (("partition", self.partition), ("account", self.account), ("time_limit", self.time_limit)):
            if value is not None and (not isinstance(value, str) or not value or any(c.isspace() for c in value)):
                raise ValueError(f"slurm {key} must be a non-empty word, not {value!r}")
        if not all(isinstance(o, str) and o.startswith("-") for o in self.options):
            raise ValueError(f"srun options must each start with '-': {list(self.options)!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "partition": self.partition,
            "account": self.account,
            "time_limit": self.time_limit,
            "options": list(self.options),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExecutorSpec:
        known = {"name", "partition", "account", "time_limit", "options"}
        extra = set(data) - known
        if extra:
            raise ValueError(f"unknown executor key(s): {', '.join(sorted(extra))}; known: {', '.join(sorted(known))}")
        options = data.get("options") or ()
        if isinstance(options, str):
            options = shlex.split(options)
        if not isinstance(options, (list, tuple)):
            raise ValueError(f"executor options must be a list of srun options, not {options!r}")
        return cls(
            name=data.get("name") or "local",
            partition=data.get("partition"),
            account=data.get("account"),
            time_limit=data.get("time_limit"),
            options=tuple(options),
        )


@dataclass(frozen=True, slots=True)
class Task:
    """One thing to launch: its name (`holdem-<run>-<k>`, `holdem-<run>-prepare`) and its CPUs."""

    name: str
    cpus: int = 1


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a launched child runs, as far as the executor knows (shown by status and the TUI)."""

    executor: str
    job_id: str | None = None
    node: str | None = None


@dataclass(slots=True)
class Launched:
    """The executor's handle on one started child: the local pid, and what the executor learnt."""

    task: Task
    pid: int
    start_time: int | None
    placement: Placement
    on_placed: Callable[[Placement], None] | None = None  # told when the placement becomes known

    def place(self, placement: Placement) -> None:
        if placement != self.placement:
            self.placement = placement
            if self.on_placed is not None:
                self.on_placed(placement)


class Executor(ABC):
    """Starts and signals children of one run. One instance per run; stateless between launches
    except for what it learns about the children it started (their job ids)."""

    name: ClassVar[str]

    def __init__(self, spec: ExecutorSpec) -> None:
        self.spec = spec

    @abstractmethod
    def command(self, task: Task, argv: Sequence[str]) -> list[str]:
        """The argv to spawn on this host for `argv` to run as `task`."""

    def preexec(self) -> Callable[[], None] | None:
        """A function run in the forked child before exec, or None."""
        return None

    def new_session(self) -> bool:
        """Start the child in its own session (a Ctrl-C at the daemon's terminal must not reach it)."""
        return True

    @abstractmethod
    def started(self, launched: Launched) -> None:
        """A child was spawned: learn where it runs (may finish later, in the background)."""

    @abstractmethod
    def terminate(self, launched: Launched) -> None:
        """Ask the worker to checkpoint and exit: it must receive SIGTERM."""

    @abstractmethod
    def kill(self, launched: Launched) -> None:
        """Make it gone now, wherever it runs."""

    @abstractmethod
    async def clear_leftover(
        self, task: Task, pid: int | None, start_time: int | None, grace_s: float, silence_s: float | None = None
    ) -> str | None:
        """Before relaunching after a daemon that died: make sure no earlier launch of `task` is
        still running (local: that pid, SIGKILLed once it shows no sign of life for silence_s, see
        proc.stop_orphan; slurm: a job of that name). Returns what was stopped, if anything
        ("orphan pid 123", "orphan slurm job 45")."""

    async def check_run_dir(self, run_dir: Path, timeout_s: float = 300.0) -> None:  # noqa: B027 (optional hook)
        """Raise ValueError (with the reason) unless the children can write to `run_dir`."""

    async def close(self) -> None:  # noqa: B027 (an optional hook: nothing to wait for by default)
        """Wait for background work (queries, signals in flight); the daemon is stopping."""

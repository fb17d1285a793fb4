"""What every child of one run shares (its folder, config, worker command, tuning, store, event
sink and executor), and how its children are named to the executor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supervisor.config import Tuning
from supervisor.executors import Executor, Task
from supervisor.state.store import Store

Publish = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class RunContext:
    """What every child of one run shares."""

    run_id: str
    run_dir: Path
    config_path: Path
    time_budget_s: float | None
    worker_cmd: tuple[str, ...]
    tuning: Tuning
    store: Store
    publish: Publish
    executor: Executor
    workers: int = 1  # `holdem train --workers`

    def task(self, what: str | int) -> Task:
        """`holdem-<run>-<k>` for instance k (its workers are its CPUs, srun --cpus-per-task),
        `holdem-<run>-prepare` / `-merge` for a phase (one CPU)."""
        return Task(f"holdem-{self.run_id}-{what}", self.workers if isinstance(what, int) else 1)

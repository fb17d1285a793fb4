"""The rows of the state database as frozen dataclasses, in the tables' column order, and the
columns that may change after a row is created."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RunRow:
    id: str
    dir: str
    config: str | None
    seed: int
    iters: int | None
    time_budget_s: float | None
    n_instances: int
    state: str
    desired: str
    phase: str
    reason: str | None
    merged: str | None
    created: float
    updated: float
    workers: int = 1  # worker threads per instance (holdem train --workers)


@dataclass(frozen=True, slots=True)
class InstanceRow:
    run_id: str
    idx: int
    dir: str
    seed: int
    target_iters: int | None
    state: str
    desired: str
    pid: int | None
    pid_start: int | None
    launches: int
    restarts: int
    iter: int
    last_checkpoint: str | None
    last_checkpoint_iter: int | None
    reason: str | None
    updated: float


@dataclass(frozen=True, slots=True)
class RestartRow:
    run_id: str
    idx: int
    t: float
    reason: str
    exit_code: int | None
    resumed_from: str | None
    counted: bool = False  # it follows a crash or a hang: it counts toward --max-restarts


RUN_COLUMNS = ("state", "desired", "phase", "reason", "merged")
INSTANCE_COLUMNS = (
    "state",
    "desired",
    "pid",
    "pid_start",
    "launches",
    "restarts",
    "iter",
    "last_checkpoint",
    "last_checkpoint_iter",
    "reason",
)


@dataclass(frozen=True, slots=True)
class PlacementRow:
    """Where an instance's current (or last) launch runs: executor, Slurm job id, node."""

    run_id: str
    idx: int
    executor: str
    job_id: str | None
    node: str | None


def as_params(row: Any) -> dict[str, Any]:
    """A row as named SQL parameters (`:id`, `:dir`, ...)."""
    return {name: getattr(row, name) for name in row.__slots__}

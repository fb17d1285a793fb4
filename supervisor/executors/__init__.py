"""How a child is launched and signalled: `local` (a subprocess of the daemon) or `slurm` (`srun`,
one task per instance, its stdout still a pipe to the daemon). See base.py for the interface."""

from __future__ import annotations

from .base import EXECUTOR_NAMES, Executor, ExecutorSpec, Launched, Placement, Task
from .local import LocalExecutor


def make_executor(spec: ExecutorSpec) -> Executor:
    """The executor a spec names (srun, squeue and scancel find their cluster through the
    environment holdemd inherited, SLURM_CONF and friends, like the children do)."""
    if spec.name == "slurm":
        from .slurm import SlurmExecutor

        return SlurmExecutor(spec)
    return LocalExecutor(spec)


__all__ = [
    "EXECUTOR_NAMES",
    "Executor",
    "ExecutorSpec",
    "Launched",
    "LocalExecutor",
    "Placement",
    "Task",
    "make_executor",
]

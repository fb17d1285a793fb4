"""What the TUI knows of one run and its instances (RunView, InstanceView), and what it derives from
them: progress, rates, the time left, the quality metric. Pure: no Textual, no I/O."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from supervisor.protocol import InstanceInfo, InstanceState, RunInfo, RunState

from .series import History

PREPARING = "preparing"  # a run state of earlier daemons (now RunInfo.phase); still shown right

LOG_LINES_KEPT = 300  # live log lines kept per instance (the pane asks the daemon for older ones)
ACTIVE_RUN_STATES = frozenset({PREPARING, RunState.RUNNING.value, RunState.STOPPING.value, RunState.MERGING.value})
METRIC_PREFERENCE = ("exploitability", "avg_regret", "average_regret", "regret")


def pick_metric(metrics: Mapping[str, Any] | None) -> tuple[str, float] | None:
    """The quality number to plot: exploitability when the worker reports it, else average regret."""
    if not isinstance(metrics, Mapping):
        return None
    for name in METRIC_PREFERENCE:
        value = metrics.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return name, float(value)
    return None


def checkpoint_iter(path: str | None) -> int | None:
    """Checkpoint folders are named by their zero-padded iteration (`checkpoints/000000001500`)."""
    if not path:
        return None
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return int(name) if name.isdigit() else None


@dataclass(slots=True)
class InstanceView:
    index: int
    state: str = InstanceState.STARTING.value
    iter: int = 0
    target_iters: int | None = None
    ips: float = 0.0
    elapsed_s: float = 0.0
    restarts: int = 0
    pid: int | None = None
    reason: str | None = None
    last_checkpoint: str | None = None
    checkpoint_iter: int | None = None
    checkpoint_t: float | None = None  # known only from a checkpoint event seen by this TUI
    last_error: str | None = None
    executor: str = "local"  # where it runs: local, or slurm with its job id and node
    job_id: str | None = None
    node: str | None = None
    metric_name: str | None = None
    metric: float | None = None
    updated: float = 0.0
    workers: int = 1
    rss_bytes: int | None = None
    ips_history: History = field(default_factory=History)
    metric_history: History = field(default_factory=History)
    log: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_LINES_KEPT))
    log_count: int = 0  # lines ever appended: a pane that wrote k of them writes the newest count-k

    def apply_info(self, info: InstanceInfo) -> None:
        self.state, self.iter, self.target_iters = info.state, info.iter, info.target_iters
        self.ips, self.elapsed_s, self.restarts, self.pid = info.ips, info.elapsed_s, info.restarts, info.pid
        self.reason, self.workers, self.rss_bytes = info.reason, info.workers, info.rss_bytes
        self.executor, self.job_id, self.node = info.executor, info.job_id, info.node
        if info.last_checkpoint != self.last_checkpoint:
            self.last_checkpoint = info.last_checkpoint
            self.checkpoint_iter = checkpoint_iter(info.last_checkpoint)
            self.checkpoint_t = None

    @property
    def fraction(self) -> float | None:
        if self.state == InstanceState.DONE.value:
            return 1.0
        if not self.target_iters:
            return None
        return min(1.0, self.iter / self.target_iters)

    @property
    def error_line(self) -> str | None:
        """Why it is failed or backing off, else the newest log line that reads like an error."""
        if self.state in (InstanceState.FAILED.value, InstanceState.BACKOFF.value) and self.reason:
            return self.reason
        return self.last_error


@dataclass(slots=True)
class RunView:
    id: str
    state: str
    dir: str = ""
    config: str | None = None
    seed: int | None = None
    iters: int | None = None
    time_budget_s: float | None = None
    created: float = 0.0
    reason: str | None = None
    merged: str | None = None
    desired: str = "running"
    phase: str = "train"
    phase_detail: str | None = None  # the prepare phase's stage, e.g. "river strength (2/7) 60,500/134,459 boards"
    origin: str | None = None  # why the daemon made the run active
    workers: int = 1  # per instance
    cores: int | None = None  # of the daemon's machine
    instances: dict[int, InstanceView] = field(default_factory=dict)
    ips_history: History = field(default_factory=History)
    metric_history: History = field(default_factory=History)
    log: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_LINES_KEPT))  # run/phase lines
    log_count: int = 0
    snapshot_t: float = 0.0  # when the newest snapshot applied to this run was requested
    eval: dict[str, Any] | None = None  # status "eval" (newer daemons): the ladder's state and report
    estimate: dict[str, Any] | None = None  # status "estimate": infosets, memory, speed of the budget
    game: str | None = None  # kuhn, leduc, hunl (None from older daemons): the ladder is for hunl only

    def apply_info(self, info: RunInfo) -> None:
        for name in (
            "state",
            "dir",
            "config",
            "seed",
            "iters",
            "time_budget_s",
            "created",
            "reason",
            "merged",
            "desired",
            "phase",
            "phase_detail",
            "origin",
            "workers",
            "cores",
            "game",
        ):
            setattr(self, name, getattr(info, name))
        seen = set()
        for inst in info.instances:
            seen.add(inst.index)
            self.instance(inst.index).apply_info(inst)
        for gone in set(self.instances) - seen:
            del self.instances[gone]

    def instance(self, index: int) -> InstanceView:
        inst = self.instances.get(index)  # not setdefault: that would build a view per event
        if inst is None:
            inst = self.instances[index] = InstanceView(index)
        return inst

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_RUN_STATES

    @property
    def shown_state(self) -> str:
        """The state a person wants to read: a running run in its prepare phase is "preparing"."""
        if self.state == RunState.RUNNING.value and self.phase == "prepare":
            return PREPARING
        return self.state

    @property
    def total_iter(self) -> int:
        return sum(i.iter for i in self.instances.values())

    @property
    def total_target(self) -> int | None:
        targets = [i.target_iters for i in self.instances.values()]
        if not targets or any(t is None for t in targets):
            return self.iters
        return sum(t for t in targets if t is not None)

    @property
    def cores_in_use(self) -> int:
        """Worker threads of the running instances."""
        return sum(i.workers for i in self.instances.values() if i.state == InstanceState.RUNNING.value)

    @property
    def total_ips(self) -> float:
        return sum(i.ips for i in self.instances.values() if i.state == InstanceState.RUNNING.value)

    @property
    def elapsed_s(self) -> float:
        """Training time of the slowest instance (what the workers report; wall time is `created`)."""
        return max((i.elapsed_s for i in self.instances.values()), default=0.0)

    @property
    def fraction(self) -> float | None:
        if self.state == RunState.DONE.value:
            return 1.0
        target = self.total_target
        if target:
            return min(1.0, self.total_iter / target)
        if self.time_budget_s:
            return min(1.0, self.elapsed_s / self.time_budget_s)
        return None

    @property
    def eta_s(self) -> float | None:
        """Time until the last running instance reaches its target at its current rate."""
        if not self.active:
            return None
        worst = None
        for inst in self.instances.values():
            if inst.state in (InstanceState.DONE.value, InstanceState.FAILED.value):
                continue
            if inst.target_iters is not None:
                if inst.ips <= 0:
                    return None
                left = max(0, inst.target_iters - inst.iter) / inst.ips
            elif self.time_budget_s:
                left = max(0.0, self.time_budget_s - inst.elapsed_s)
            else:
                return None
            worst = left if worst is None else max(worst, left)
        return worst

    @property
    def metric(self) -> tuple[str, float] | None:
        """The run's quality number: the mean over instances that report one."""
        values = [(i.metric_name, i.metric) for i in self.instances.values() if i.metric is not None]
        if not values:
            return None
        return str(values[0][0]), sum(v for _, v in values if v is not None) / len(values)

    def state_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for inst in self.instances.values():
            counts[inst.state] = counts.get(inst.state, 0) + 1
        return counts

"""The TUI's picture of the daemon: runs and instances built from RunInfo snapshots plus events.

Pure and synchronous (no Textual, no I/O), so it is unit-tested directly. Invariants:
- A snapshot (`runs.list`) replaces what it covers; an event older than the snapshot request
  (its `t_recv`/`t` is before the request was sent) is ignored, because the snapshot already
  holds its effect. Daemon and TUI share a host (a Unix socket), hence one clock.
- Histories are bounded for runs that last days: `History` halves its resolution when full.
"""

from __future__ import annotations

import math
import re
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from supervisor.protocol import InstanceInfo, InstanceState, RunInfo, RunState

PREPARING = "preparing"  # a run state of earlier daemons (now RunInfo.phase); still shown right

LOG_LINES_KEPT = 300  # live log lines kept per instance (the pane asks the daemon for older ones)
HISTORY_POINTS = 600
ERROR_WORDS = re.compile(r"(error|exception|traceback|failed|fatal|killed|crash)", re.IGNORECASE)
ACTIVE_RUN_STATES = frozenset({PREPARING, RunState.RUNNING.value, RunState.STOPPING.value, RunState.MERGING.value})
METRIC_PREFERENCE = ("exploitability", "avg_regret", "average_regret", "regret")


class History:
    """A bounded time series at whole-run coverage: when full, every other point is dropped and
    the sampling interval doubles, so a week-long run still fits in `capacity` points."""

    __slots__ = ("_last_t", "capacity", "interval", "points")

    def __init__(self, capacity: int = HISTORY_POINTS, interval: float = 1.0) -> None:
        self.capacity = capacity
        self.interval = interval
        self.points: list[tuple[float, float]] = []
        self._last_t = -math.inf

    def add(self, t: float, value: float) -> bool:
        """Record `value` at `t` unless the last point is less than one interval old."""
        if t - self._last_t < self.interval * 0.999:
            return False
        self.points.append((t, value))
        self._last_t = t
        if len(self.points) >= self.capacity:
            self.points = self.points[::2] if len(self.points) % 2 else self.points[1::2]
            self.interval *= 2
        return True

    def values(self) -> list[float]:
        return [v for _, v in self.points]

    def times(self) -> list[float]:
        return [t for t, _ in self.points]

    def __len__(self) -> int:
        return len(self.points)


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


class Model:
    """Every run the daemon reported, newest first, kept current by `apply_event`."""

    def __init__(self) -> None:
        self.runs: dict[str, RunView] = {}
        self.daemon_log: deque[str] = deque(maxlen=LOG_LINES_KEPT)
        self.last_event_t: float | None = None  # the child's `t` of the newest progress event applied
        self.last_recv_t: float | None = None  # when the daemon read it (`t_recv`)
        self.oldest_undrawn_t: float | None = None  # the first progress event since the last frame
        self.version = 0  # bumped on every change; views redraw when it moved

    def ordered(self) -> list[RunView]:
        return sorted(self.runs.values(), key=lambda r: (r.created, r.id), reverse=True)

    def apply_snapshot(self, runs: Iterable[RunInfo], requested_t: float, complete: bool = True) -> None:
        """Take the daemon's word for every run listed; `complete` (runs.list) also forgets the rest."""
        seen = set()
        for info in runs:
            seen.add(info.id)
            run = self.runs.get(info.id) or self.runs.setdefault(info.id, RunView(info.id, info.state))
            run.apply_info(info)
            run.snapshot_t = max(run.snapshot_t, requested_t)
        if complete:
            for gone in set(self.runs) - seen:
                del self.runs[gone]
        self.version += 1

    def apply_extras(self, runs: Iterable[Mapping[str, Any]]) -> None:
        """What newer daemons add to a run's status beyond RunInfo: the ladder and the estimate.
        A reply without the key (an older daemon, or `runs.list`) leaves what is known."""
        for raw in runs:
            run = self.runs.get(str(raw.get("id")))
            if run is None:
                continue
            for name in ("eval", "estimate"):
                if name in raw:
                    setattr(run, name, raw[name] if isinstance(raw[name], dict) else None)

    def apply_event(self, ev: Mapping[str, Any]) -> str | None:
        """Fold one subscribe event in; returns the run it touched (None if ignored)."""
        kind = ev.get("event")
        run_id = ev.get("run")
        t = ev.get("t_recv") or ev.get("t") or 0.0
        if kind == "log":
            return self._apply_log(ev)
        if not isinstance(run_id, str):
            return None
        run = self.runs.get(run_id)
        if run is None:
            # a run this client has not seen yet (started elsewhere): the next snapshot fills it in
            run = self.runs[run_id] = RunView(run_id, RunState.RUNNING.value, created=float(ev.get("t") or 0.0))
        elif isinstance(t, (int, float)) and t < run.snapshot_t:
            return None  # the snapshot already holds its effect
        index = ev.get("instance")
        if kind == "progress" and isinstance(index, int):
            inst = run.instance(index)
            if isinstance(ev.get("iter"), int):
                inst.iter = ev["iter"]
            if isinstance(ev.get("target_iters"), int):
                inst.target_iters = ev["target_iters"]
            inst.ips = float(ev.get("ips") or 0.0)
            inst.elapsed_s = float(ev.get("elapsed_s") or 0.0)
            if isinstance(ev.get("rss_bytes"), int):
                inst.rss_bytes = ev["rss_bytes"]
            metric = pick_metric(ev.get("metrics"))
            if metric is not None:
                inst.metric_name, inst.metric = metric
            if inst.state in (InstanceState.STARTING.value, InstanceState.BACKOFF.value):
                inst.state = InstanceState.RUNNING.value
            inst.updated = float(ev.get("t") or time.time())
            if isinstance(ev.get("t"), (int, float)):
                self.last_event_t = max(self.last_event_t or 0.0, float(ev["t"]))
                if self.oldest_undrawn_t is None:
                    self.oldest_undrawn_t = float(ev["t"])
            if isinstance(ev.get("t_recv"), (int, float)):
                self.last_recv_t = max(self.last_recv_t or 0.0, float(ev["t_recv"]))
        elif kind == "state":
            state = ev.get("state")
            if not isinstance(state, str):
                return None
            if isinstance(index, int):
                inst = run.instance(index)
                if state == InstanceState.BACKOFF.value and inst.state != state:
                    inst.restarts += 1  # the daemon records a restart right before backing off
                inst.state, inst.reason = state, ev.get("reason")
                if isinstance(ev.get("executor"), str):  # the executor learnt a job id / node
                    inst.executor, inst.job_id, inst.node = ev["executor"], ev.get("job_id"), ev.get("node")
                if state != InstanceState.RUNNING.value:
                    inst.ips = 0.0
            else:
                run.state, run.reason = state, ev.get("reason")
        elif kind == "checkpoint" and isinstance(index, int):
            inst = run.instance(index)
            inst.last_checkpoint = ev.get("path") if isinstance(ev.get("path"), str) else inst.last_checkpoint
            it = ev.get("iter")
            inst.checkpoint_iter = it if isinstance(it, int) else checkpoint_iter(inst.last_checkpoint)
            inst.checkpoint_t = float(ev.get("t") or time.time())
        else:
            return None
        self.version += 1
        return run_id

    def _apply_log(self, ev: Mapping[str, Any]) -> str | None:
        line = ev.get("line")
        if not isinstance(line, str):
            return None
        run_id, index = ev.get("run"), ev.get("instance")
        self.version += 1
        if not isinstance(run_id, str) or run_id not in self.runs:
            self.daemon_log.append(line)
            return None
        run = self.runs[run_id]
        if not isinstance(index, int):
            run.log.append(line)
            run.log_count += 1
            return run_id
        inst = run.instance(index)
        inst.log.append(line)
        inst.log_count += 1
        if ERROR_WORDS.search(line):
            inst.last_error = line.strip()
        return run_id

    def sample(self, now: float) -> None:
        """Append the current rates and metrics to the histories (the app calls this once a second)."""
        for run in self.runs.values():
            if not run.active:
                continue
            run.ips_history.add(now, run.total_ips)
            metric = run.metric
            if metric is not None:
                run.metric_history.add(now, metric[1])
            for inst in run.instances.values():
                inst.ips_history.add(now, inst.ips if inst.state == InstanceState.RUNNING.value else 0.0)
                if inst.metric is not None:
                    inst.metric_history.add(now, inst.metric)

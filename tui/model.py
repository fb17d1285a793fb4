"""The TUI's picture of the daemon: runs and instances built from RunInfo snapshots plus events.

Pure and synchronous (no Textual, no I/O), so it is unit-tested directly. Invariants:
- A snapshot (`runs.list`) replaces what it covers; an event older than the snapshot request
  (its `t_recv`/`t` is before the request was sent) is ignored, because the snapshot already
  holds its effect. Daemon and TUI share a host (a Unix socket), hence one clock.
- Histories are bounded for runs that last days: `series.History` halves its resolution when full.

The views of one run and its instances are in views.py.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from supervisor.protocol import InstanceState, RunInfo, RunState

from .views import LOG_LINES_KEPT, RunView, checkpoint_iter, pick_metric

ERROR_WORDS = re.compile(r"(error|exception|traceback|failed|fatal|killed|crash)", re.IGNORECASE)


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

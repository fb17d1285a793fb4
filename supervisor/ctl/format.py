"""What holdemctl prints about runs: a run and its instances in lines under 80 columns, and the
one plain progress line of `watch` on a pipe (and of `make run`)."""

from __future__ import annotations

import time

from supervisor.protocol import InstanceInfo, RunInfo
from supervisor.protocol.describe import describe_estimate, instances_and_workers, summary_line

ACTIVE_RUN_STATES = frozenset({"running", "stopping", "merging"})
FINAL_RUN_STATES = frozenset({"done", "failed", "stopped"})


def why_shown(run: RunInfo, asked: bool) -> str | None:
    """A listed run that is not active says so, and why it is listed."""
    if run.state in ACTIVE_RUN_STATES:
        return None
    if asked:
        return "not active"
    return "not active: the newest run, shown because no run is active (--all lists every run)"


def eta(remaining: float, ips: float) -> str:
    """Time left at the current rate: `4m05s`, `2h07m`; `0s` when there is none left, `-` at no rate."""
    if remaining <= 0:
        return "0s"
    if ips <= 0:
        return "-"
    s = int(remaining / ips)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def instance_eta(run: RunInfo, i: InstanceInfo) -> str | None:
    """An instance's time left: to its target at its rate, or what its time budget leaves; None when
    it is not training."""
    if i.state != "running":
        return None
    if i.target_iters:
        return eta(i.target_iters - i.iter, i.ips)
    if run.time_budget_s:
        return eta(run.time_budget_s - i.elapsed_s, 1.0)
    return None


def run_eta(run: RunInfo) -> str | None:
    """The run's time left: its slowest running instance's (None when none is training)."""
    left = []
    for i in run.instances:
        if i.state != "running":
            continue
        if i.target_iters and i.ips > 0:
            left.append((i.target_iters - i.iter) / i.ips)
        elif run.time_budget_s:
            left.append(run.time_budget_s - i.elapsed_s)
        else:
            return "-"  # running at no rate yet: unknown
    return eta(max(left), 1.0) if left else None


def format_run(run: RunInfo, why_shown: str | None = None) -> str:
    """A run and its instances in lines under 80 columns (widths follow the numbers shown)."""
    lines = [f"run {run.id}  {run.state}" + (f" ({run.reason})" if run.reason else "") + f"  {run.dir}"]
    left = run_eta(run) if run.state in ACTIVE_RUN_STATES else None
    lines.append(
        f"  {instances_and_workers(len(run.instances), run.workers)}; cores in use {run.cores_in_use}"
        + (f" of {run.cores}" if run.cores else "")
        + (f"; ETA {left}" if left else "")
    )
    if why_shown:
        lines.append(f"  {why_shown}")
    elif run.origin and run.state in ACTIVE_RUN_STATES:
        lines.append(f"  active: {run.origin}")
    if run.phase == "prepare" and run.state not in ("done",):
        lines.append(
            "  phase prepare: instances start when it is over" + (f"; {run.phase_detail}" if run.phase_detail else "")
        )
    counts = [f"{i.iter:,}/{i.target_iters or 0:,}" for i in run.instances]
    cw = max(map(len, counts), default=0)
    rates = [f"{i.ips:,.0f}" for i in run.instances]
    rw = max(map(len, rates), default=0)
    pw = max((len(str(i.pid or "-")) for i in run.instances), default=1)
    etas = [instance_eta(run, i) for i in run.instances]
    ew = max((len(e) for e in etas if e), default=0)
    for i, count, rate, time_left in zip(run.instances, counts, rates, etas):
        target = i.target_iters or 0
        pct = f"{100 * i.iter / target:5.1f}%" if target else "    - "
        extra = f"  {i.reason}" if i.reason else ""
        rate = f"{rate:>{rw}} it/s" + (f"  ETA {time_left:>{ew}}" if time_left else " " * (ew + 6) if ew else "")
        where = f"  {i.executor}" + (f" job {i.job_id}" if i.job_id else "") + (f" on {i.node}" if i.node else "")
        rss = f"  {i.rss_bytes / 2**20:,.0f} MiB" if i.rss_bytes else ""  # workers: on the run's line
        lines.append(
            f"  [{i.index}] {i.state:<8} pid {i.pid or '-'!s:<{pw}}  {count:>{cw}} {pct}  {rate}"
            f"{rss}  restarts {i.restarts}{where}{extra}"
        )
    if run.merged:
        lines.append(f"  merged: {run.merged}")
    lines += [f"  {line}" for line in (describe_estimate(run.estimate), summary_line(run.eval)) if line]
    return "\n".join(lines)


def progress_line(run: RunInfo) -> str:
    """One plain line for a run: time, state (and phase), progress, rate, every instance's state."""
    done = sum(i.iter for i in run.instances)
    target = sum(i.target_iters or 0 for i in run.instances)
    ips = sum(i.ips for i in run.instances if i.state == "running")
    pct = f"{100 * done / target:5.1f}%" if target else "  ?  "
    states = " ".join(f"[{i.index}]{i.state}" for i in run.instances)
    state = f"{run.state}/prepare" if run.phase == "prepare" and run.state == "running" else run.state
    detail = f"  ({run.phase_detail})" if run.phase == "prepare" and run.phase_detail else ""
    counts = f"{pct} {done:,}/{target:,} {ips:,.0f} it/s"
    return f"{time.strftime('%H:%M:%S')} run {run.id} {state:<9} {counts}  {states}{detail}"

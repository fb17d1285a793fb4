"""What holdemctl prints about runs: a run and its instances in lines under 80 columns, and the
one plain progress line of `watch` on a pipe (and of `make run`)."""

from __future__ import annotations

import time

from supervisor.protocol import RunInfo
from supervisor.protocol.describe import describe_estimate, summary_line

ACTIVE_RUN_STATES = frozenset({"running", "stopping", "merging"})
FINAL_RUN_STATES = frozenset({"done", "failed", "stopped"})


def why_shown(run: RunInfo, asked: bool) -> str | None:
    """A listed run that is not active says so, and why it is listed."""
    if run.state in ACTIVE_RUN_STATES:
        return None
    if asked:
        return "not active"
    return "not active: the newest run, shown because no run is active (--all lists every run)"


def format_run(run: RunInfo, why_shown: str | None = None) -> str:
    """A run and its instances in lines under 80 columns (widths follow the numbers shown)."""
    lines = [f"run {run.id}  {run.state}" + (f" ({run.reason})" if run.reason else "") + f"  {run.dir}"]
    lines.append(
        f"  {len(run.instances)} instances x {run.workers} workers; cores in use {run.cores_in_use}"
        + (f" of {run.cores}" if run.cores else "")
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
    for i, count, rate in zip(run.instances, counts, rates):
        target = i.target_iters or 0
        pct = f"{100 * i.iter / target:5.1f}%" if target else "    - "
        extra = f"  {i.reason}" if i.reason else ""
        where = f"  {i.executor}" + (f" job {i.job_id}" if i.job_id else "") + (f" on {i.node}" if i.node else "")
        rss = f"  {i.rss_bytes / 2**20:,.0f} MiB" if i.rss_bytes else ""  # workers: on the run's line
        lines.append(
            f"  [{i.index}] {i.state:<8} pid {i.pid or '-'!s:<{pw}}  {count:>{cw}} {pct}  {rate:>{rw}} it/s"
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

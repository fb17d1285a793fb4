"""One-line descriptions of a run's evaluation and estimate (status fields), for holdemctl and the logs.
Standard library only: holdemctl imports it."""

from __future__ import annotations

import time
from typing import Any


def instances_and_workers(instances: int, workers: int) -> str:
    """`2 instances × 1 worker`: how a run is spread, in words that agree with the numbers."""
    return f"{instances} instance{'' if instances == 1 else 's'} × {workers} worker{'' if workers == 1 else 's'}"


def summary_line(ev: dict[str, Any] | None) -> str | None:
    """'eval (merged, iteration 1,200,000): LBR-fc 840 ± 120 mbb/hand; beats 3/3 bots; probes 3/3 passed'."""
    if not ev:
        return None
    src = ev.get("source") or {}
    what = "merged" if src.get("kind") == "merged" else f"instance {src.get('instance')} checkpoint"
    if ev.get("state") == "running":
        return f"eval ({what}): running since {time.strftime('%H:%M:%S', time.localtime(ev.get('started') or 0))}"
    if ev.get("state") == "failed":
        return f"eval ({what}): failed: {ev.get('error')}"
    ladder = ev.get("ladder") or {}
    lbr = ladder.get("lbr") or {}
    parts = []
    if isinstance(lbr.get("value"), (int, float)):
        lo, hi = (lbr.get("ci95") or [lbr["value"], lbr["value"]])[:2]
        parts.append(f"LBR-fc {lbr['value']:,.0f} ± {(hi - lo) / 2:,.0f} mbb/hand")
    matches = ladder.get("matches") or []
    won = sum(1 for m in matches if (m.get("ci95") or [0])[0] > 0)
    parts.append(f"beats {won}/{len(matches)} bots")
    parts.append(f"probes {ladder.get('probes_passed', 0)}/{ladder.get('probes_total', 0)} passed")
    it = ladder.get("iteration")
    at = f", iteration {it:,}" if isinstance(it, int) else ""
    return f"eval ({what}{at}): " + "; ".join(parts)


def describe_estimate(est: dict[str, Any] | None) -> str | None:
    """'estimate: 1,234,567 infosets, 312 MiB per instance; 17,000 it/s per instance, about 12 min'."""
    if not est:
        return None
    if est.get("error"):
        return f"estimate: failed: {est['error']}"
    parts = []
    if isinstance(est.get("infosets"), int):
        parts.append(f"{est['infosets']:,} infosets")
    if isinstance(est.get("memory_bytes_per_instance"), int):
        parts.append(f"{est['memory_bytes_per_instance'] / 2**20:,.0f} MiB per instance")
    line = "estimate: " + ", ".join(parts)
    if isinstance(est.get("iterations_per_s"), (int, float)):
        line += f"; {est['iterations_per_s']:,.0f} it/s per instance (sampled)"
        secs = est.get("estimated_seconds")
        if isinstance(est.get("estimated_iterations"), int):
            line += f", about {est['estimated_iterations']:,} iterations in the budget"
        elif isinstance(secs, (int, float)):
            line += f", the budget in at most about {_duration(secs)}"
    elif not est.get("sampled"):
        line += "; speed: sampled after the prepare phase"
    return line


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"

"""Folding the daemon's `history` reply into the model's plot series, so a late TUI plots the whole run.

Pure (no Textual, no I/O). The daemon's points are the record up to its last point; the TUI's own
samples after that point continue it, so the merged series has neither duplicates nor a gap. Every
merged series is fed through `History.add` in time order, the same thinning live sampling uses.
The run's rate is the sum of its instances' rates: a sweep over all points in time order keeps each
instance's last reported rate (zero once it has been silent for twice its own reporting interval,
so an instance that finished an hour ago does not count for ever); the run's quality is the mean of
the instances that reported one, as `RunView.metric` is.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeGuard

from .series import History
from .views import RunView, pick_metric

MIN_SILENCE_S = 1.0  # an instance counts as silent after max(this, 2 x its median reporting interval)

Point = tuple[float, float]


def merged(local: History, points: Sequence[Point]) -> History:
    """The daemon's points, then the local samples after the last of them, thinned like live samples."""
    if not points:
        return local
    ordered = sorted(points)
    last = ordered[-1][0]
    out = History(local.capacity)
    for t, v in (*ordered, *(p for p in local.points if p[0] > last)):
        out.add(t, v)
    return out


def instance_points(raw: Iterable[Any]) -> tuple[list[Point], list[Point], list[tuple[float, float, float | None]]]:
    """(rate points, metric points, (t, ips, metric)) from one instance's history, bad entries skipped."""
    ips: list[Point] = []
    metric: list[Point] = []
    rows: list[tuple[float, float, float | None]] = []
    for p in raw:
        if not isinstance(p, Mapping):
            continue
        t, rate = p.get("t"), p.get("ips")
        if not _number(t):
            continue
        value = float(rate) if _number(rate) else 0.0
        picked = pick_metric(p.get("metrics"))
        ips.append((float(t), value))
        if picked is not None:
            metric.append((float(t), picked[1]))
        rows.append((float(t), value, picked[1] if picked else None))
    return ips, metric, rows


def run_points(per_instance: Mapping[int, list[tuple[float, float, float | None]]]) -> tuple[list[Point], list[Point]]:
    """The run's total rate and mean quality at every instance point, by one sweep in time order."""
    events: list[tuple[float, int, float, float | None, bool]] = []  # t, instance, ips, metric, silent
    for k, rows in per_instance.items():
        rows = sorted(rows)
        if not rows:
            continue
        gaps = sorted(b[0] - a[0] for a, b in zip(rows, rows[1:]))
        silence = max(MIN_SILENCE_S, 2 * gaps[len(gaps) // 2]) if gaps else MIN_SILENCE_S
        for i, (t, ips, metric) in enumerate(rows):
            events.append((t, k, ips, metric, False))
            nxt = rows[i + 1][0] if i + 1 < len(rows) else math.inf
            if nxt - t > silence:
                events.append((t + silence, k, 0.0, None, True))
    events.sort(key=lambda e: (e[0], e[1]))
    last_t = max((e[0] for e in events if not e[4]), default=-math.inf)
    rate: dict[int, float] = {}
    quality: dict[int, float] = {}
    ips_out: list[Point] = []
    metric_out: list[Point] = []
    for i, (t, k, ips, metric, silent) in enumerate(events):
        if t > last_t:
            break  # after the newest report only the live samples speak
        rate[k] = ips
        if metric is not None and not silent:
            quality[k] = metric
        if i + 1 < len(events) and events[i + 1][0] == t:
            continue  # instances that reported at the same moment make one point
        ips_out.append((t, sum(rate.values())))
        if quality:
            metric_out.append((t, sum(quality.values()) / len(quality)))
    return ips_out, metric_out


def apply_history(run: RunView, reply: Mapping[str, Any]) -> int:
    """Merge a `history` reply into `run`'s series; returns the number of points read."""
    instances = reply.get("instances")
    if not isinstance(instances, Mapping):
        return 0
    rows: dict[int, list[tuple[float, float, float | None]]] = {}
    count = 0
    for key, raw in instances.items():
        try:
            index = int(key)
        except (TypeError, ValueError):
            continue
        if not isinstance(raw, list):
            continue
        ips, metric, rows[index] = instance_points(raw)
        count += len(rows[index])
        inst = run.instance(index)
        inst.ips_history = merged(inst.ips_history, ips)
        inst.metric_history = merged(inst.metric_history, metric)
    if rows and set(rows) >= set(run.instances):
        # the run's series only when every instance was asked for (else the sum would be short)
        ips_total, metric_mean = run_points(rows)
        run.ips_history = merged(run.ips_history, ips_total)
        run.metric_history = merged(run.metric_history, metric_mean)
    return count


def _number(x: Any) -> TypeGuard[float]:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)

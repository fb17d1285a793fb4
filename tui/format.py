"""How numbers, durations, states and progress look on screen: one place, so every view agrees.

Pure functions returning str or rich Text; widths are fixed where a table column depends on them.
"""

from __future__ import annotations

import math

from rich.text import Text

from supervisor.protocol import InstanceState, RunState

from .views import PREPARING

DASH = "—"

# icon and style per state; a colour-blind user still has the icon and the word
STATE_STYLE: dict[str, tuple[str, str]] = {
    InstanceState.PENDING.value: ("…", "dim cyan"),
    InstanceState.STARTING.value: ("◌", "bold cyan"),
    InstanceState.RUNNING.value: ("▶", "bold green"),
    InstanceState.BACKOFF.value: ("↻", "bold yellow"),
    InstanceState.STOPPING.value: ("◼", "yellow"),
    InstanceState.STOPPED.value: ("■", "dim"),
    InstanceState.DONE.value: ("✔", "bold blue"),
    InstanceState.FAILED.value: ("✖", "bold red"),
    PREPARING: ("◌", "bold cyan"),
    RunState.MERGING.value: ("⧉", "bold magenta"),
}


def state_text(state: str) -> Text:
    icon, style = STATE_STYLE.get(state, ("?", ""))
    return Text(f"{icon} {state}", style=style)


def bar(fraction: float | None, width: int = 12, label: bool = True) -> Text:
    """A progress bar in eighths of a cell, with the percentage after it."""
    if fraction is None:
        return Text(("░" * width) + ("    ?" if label else ""), style="dim")
    fraction = min(1.0, max(0.0, fraction))
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[part] if part and full < width else ""
    filled = "█" * full + partial
    text = Text(filled, style="green" if fraction < 1 else "blue")
    text.append("░" * (width - len(filled)), style="dim")
    if label:
        text.append(f" {fraction * 100:3.0f}%")
    return text


def duration(seconds: float | None) -> str:
    """Compact: 45s, 12m05s, 3h07m, 2d04h."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return DASH
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def count(n: float | None) -> str:
    """Iterations: 999, 12.3k, 4.56M, 1.2G."""
    if n is None:
        return DASH
    n = float(n)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= limit:
            v = n / limit
            return f"{v:.3g}{suffix}" if v < 100 else f"{v:.0f}{suffix}"
    return f"{n:.0f}"


def rate(ips: float | None) -> str:
    if ips is None or ips <= 0:
        return DASH
    return f"{count(ips)}/s" if ips >= 1000 else f"{ips:.1f}/s" if ips < 10 else f"{ips:.0f}/s"


def memory(n: int | None) -> str:
    """Resident memory: 812M, 1.4G (binary units, as top shows them)."""
    if n is None or n <= 0:
        return DASH
    for limit, suffix in ((2**30, "G"), (2**20, "M"), (2**10, "k")):
        if n >= limit:
            v = n / limit
            return f"{v:.2g}{suffix}" if v < 10 else f"{v:.0f}{suffix}"
    return f"{n}B"


def metric(value: float | None) -> str:
    if value is None:
        return DASH
    return f"{value:.4g}"


def config_name(path: str | None) -> str:
    if not path:
        return DASH
    return path.rstrip("/").rsplit("/", 1)[-1]


def evaluating(ev: object) -> bool:
    """Is the run's evaluation ladder (status `eval`) running now?"""
    return isinstance(ev, dict) and ev.get("state") == "running"


def clip(line: str | None, width: int) -> str:
    if not line:
        return ""
    line = line.replace("\n", " ").strip()
    return line if len(line) <= width else line[: width - 1] + "…"


SPARK = "▁▂▃▄▅▆▇█"


def spark(values: list[float], width: int, bounds: tuple[float, float] | None = None) -> str:
    """A one-line sparkline of the newest values, bucket-averaged down to `width` cells, on a
    given scale (`bounds`) or else on the values' own range."""
    if width <= 0 or not values:
        return ""
    if len(values) > width:
        step = len(values) / width
        values = [
            sum(values[int(i * step) : max(int((i + 1) * step), int(i * step) + 1)])
            / max(1, int((i + 1) * step) - int(i * step))
            for i in range(width)
        ]
    lo, hi = bounds if bounds is not None else (min(values), max(values))
    span = hi - lo
    return "".join(SPARK[0 if span <= 0 else max(0, min(7, int((v - lo) / span * 8)))] for v in values)


def estimate(est: dict | None) -> Text | None:
    """The prepare phase's estimate (status `estimate`, from `holdem tree`): infosets, memory per
    instance, the sampled it/s and how long the budget takes (an upper bound: a run's first
    iterations are its slowest) or how many iterations a time budget buys (a lower bound)."""
    if not isinstance(est, dict):
        return None
    if est.get("error") and est.get("infosets") is None:
        return Text(f"estimate failed: {est['error']}", style="yellow")
    parts = [f"{count(est.get('infosets'))} infosets", f"{memory(est.get('memory_bytes_per_instance'))}/instance"]
    ips = est.get("iterations_per_s")
    if isinstance(ips, (int, float)) and ips > 0:
        parts.append(f"{rate(ips)} per instance")
        if isinstance(est.get("estimated_iterations"), (int, float)):
            parts.append(f"budget ≥ {count(est['estimated_iterations'])} iterations")
        elif isinstance(est.get("estimated_seconds"), (int, float)):
            parts.append(f"budget ≤ {duration(est['estimated_seconds'])}")
    elif est.get("sample_error") or est.get("sample_skipped"):
        parts.append(f"no speed sample ({est.get('sample_error') or est.get('sample_skipped')})")
    else:
        parts.append("speed: sampled once the buckets are ready")
    return Text.assemble(("estimate ", "dim"), " · ".join(parts))

"""The evaluation ladder of a run as text: the state of the newest `run.eval` (status `eval`) and, once
it is done, its figures (a `holdem eval --ladder --json` document): LBR-fc in mbb/hand with its 95%
interval, each bot's result, and each sanity probe, pass or fail, with its worst spot."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text

from .. import format as fmt

NO_EVAL = "no evaluation yet: `e` runs the ladder (bots, LBR-fc, sanity probes) on this source"


def _interval(value: Any, ci: Any) -> str:
    """`+123.4 ± 56.7`: the half-width of the 95% interval beside the figure."""
    if not isinstance(value, (int, float)):
        return fmt.DASH
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(isinstance(x, (int, float)) for x in ci):
        return f"{value:+.1f} ± {(ci[1] - ci[0]) / 2:.1f}"
    return f"{value:+.1f}"


def _source(source: Any) -> str:
    if not isinstance(source, dict):
        return str(source or "")
    kind = source.get("kind") or source.get("source") or "?"
    inst = source.get("instance")
    return f"{kind}" + (f" of instance {inst}" if isinstance(inst, int) else "")


def _spot(w: dict[str, Any]) -> str:
    board = f" on {w['board']}" if w.get("board") else ""
    fold = w.get("fold_probability")
    return f"{w.get('hand', '?')} at {w.get('history') or '(first action)'}{board}" + (
        f" folds {fold:.0%}" if isinstance(fold, (int, float)) else ""
    )


def no_ladder_text(game: str, merged: str | None) -> Text:
    """What a Kuhn or Leduc run has instead of the ladder: its exact exploitability, and the command."""
    where = merged or "RUN_DIR/merged"
    return Text.assemble(
        (f"no ladder for a {game} run: ", "dim"),
        "its exploitability is exact:\n",
        (f"holdem eval {where} --exploitability", "bold"),
    )


def ladder_text(ev: dict[str, Any] | None, now: float | None = None) -> Text:
    if not isinstance(ev, dict):
        return Text(NO_EVAL, style="dim")
    now = time.time() if now is None else now
    state = str(ev.get("state") or "?")
    out = Text()
    out.append("ladder ", style="bold")
    if state == "running":
        started = ev.get("started")
        since = fmt.duration(now - started) if isinstance(started, (int, float)) else fmt.DASH
        out.append(f"◌ running for {since}", style="bold cyan")
    elif state == "done":
        out.append("✔ done", style="bold blue")
    else:
        out.append(f"✖ {state}", style="bold red")
    out.append(f"  on {_source(ev.get('source'))}", style="dim")
    if state == "failed" and ev.get("error"):
        out.append("\n" + str(ev["error"]), style="red")
    ladder = ev.get("ladder")
    if not isinstance(ladder, dict):
        return out
    if isinstance(ladder.get("iteration"), int):
        out.append(f", iteration {ladder['iteration']:,}", style="dim")
    lbr = ladder.get("lbr") or {}
    out.append("\nLBR-fc ", style="bold")
    out.append(f"{_interval(lbr.get('value'), lbr.get('ci95'))} mbb/hand", style="bold yellow")
    if isinstance(lbr.get("hands"), int):
        out.append(f"  {lbr['hands']:,} hands, a lower bound on the exploitability", style="dim")
    for m in ladder.get("matches") or ():
        value = m.get("mbb_per_hand")
        good = isinstance(value, (int, float)) and value > 0
        out.append(f"\n vs {m.get('opponent', '?')!s:<10}")
        out.append(f"{_interval(value, m.get('ci95')):>16} mbb/hand", style="green" if good else "red")
    passed, total = ladder.get("probes_passed"), ladder.get("probes_total")
    if isinstance(total, int):
        out.append(f"\nprobes {passed} of {total} pass", style="bold" if passed == total else "bold red")
    for p in ladder.get("probes") or ():
        ok = bool(p.get("passed"))
        out.append("\n PASS " if ok else "\n FAIL ", style="green" if ok else "bold red")
        out.append(str(p.get("name", "?")))
        if not ok and isinstance(p.get("worst"), dict):
            out.append(
                f": {fmt.count(p.get('failing'))} of {fmt.count(p.get('spots'))} spots; worst {_spot(p['worst'])}",
                style="dim",
            )
    return out

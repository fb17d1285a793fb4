"""A log: the daemon's tail first, then the live lines as they come.

It follows one source, keyed (run, instance) — or (run, None) for the run's own log (its phases
and the daemon's notes). `follow(key)` switches; `load_tail` writes the fetched tail and then
whatever arrived live meanwhile (skipping lines the tail already holds), so nothing shows twice
or goes missing. A source is anything with `log` (the newest lines) and `log_count` (lines ever).
A line wider than the pane is wrapped (its continuation indented), never cut; the pane keeps the
lines as written and wraps them again when its width changes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from typing import Protocol

from rich.markup import escape
from textual.widgets import Log

from .. import format as fmt
from .css import css_beside


class Source(Protocol):
    @property
    def log(self) -> Sequence[str]: ...
    @property
    def log_count(self) -> int: ...


Key = tuple[str, int | None]
MAX_LINES = 2000
INDENT = "  "  # a wrapped line's continuation


def wrapped(line: str, width: int) -> list[str]:
    """`line` cut into pieces of at most `width` characters, the continuations indented."""
    if width <= len(INDENT) or len(line) <= width:
        return [line]
    pieces, rest = [line[:width]], line[width:]
    step = width - len(INDENT)
    pieces += [INDENT + rest[i : i + step] for i in range(0, len(rest), step)]
    return pieces


class LogPane(Log):
    DEFAULT_CSS = css_beside(__file__)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, max_lines=MAX_LINES, highlight=False, auto_scroll=True)
        self.raw: deque[str] = deque(maxlen=MAX_LINES)  # the lines as written, before wrapping
        self._wrap_width = 0
        self.key: Key | None = None
        self._written = 0  # how many of the instance's live lines (log_count) are on screen
        self._waiting_tail = False

    def follow(self, key: Key | None, inst: Source | None) -> None:
        """Start following another source; its tail arrives through load_tail."""
        if key == self.key:
            return
        self.key = key
        self._clear()
        self._written = inst.log_count if inst is not None else 0
        self._waiting_tail = key is not None
        if key is None:
            self.border_title = "log"
        else:
            self.border_title = f"log · instance {key[1]}" if key[1] is not None else "log · run (l: instance)"

    def show_error(self, line: str | None) -> None:
        """The instance's last error under the pane (the table clips it on narrow terminals)."""
        subtitle = f"[red]{escape(fmt.clip(line, max(10, self.size.width - 8)))}[/]" if line else ""
        if subtitle != self.border_subtitle:
            self.border_subtitle = subtitle

    def load_tail(self, key: Key, lines: Sequence[str], inst: Source | None) -> None:
        if key != self.key:
            return  # the user moved on while it was fetched
        self._waiting_tail = False
        self._clear()
        self._write([line.rstrip("\n") for line in lines])
        tail = set(lines)
        if inst is not None:
            fresh = self._fresh(inst)
            self._write([line for line in fresh if line not in tail and line.removeprefix("[holdemd] ") not in tail])
            self._written = inst.log_count

    def catch_up(self, inst: Source | None) -> None:
        """Write live lines that arrived since the last call (while the tail is pending, wait)."""
        if inst is None or self._waiting_tail or inst.log_count == self._written:
            return
        self._write(self._fresh(inst))
        self._written = inst.log_count

    def _wrap_at(self) -> int:
        return self.scrollable_content_region.width

    def _write(self, lines: Iterable[str]) -> None:
        lines = list(lines)
        self.raw.extend(lines)
        width = self._wrap_width = self._wrap_at()
        self.write_lines([piece for line in lines for piece in wrapped(line, width)])

    def _clear(self) -> None:
        self.raw.clear()
        self.clear()

    def on_resize(self) -> None:
        if self._wrap_at() != self._wrap_width and self.raw:
            lines = list(self.raw)
            self._clear()
            self._write(lines)

    def _fresh(self, inst: Source) -> list[str]:
        n = min(inst.log_count - self._written, len(inst.log))
        return list(inst.log)[-n:] if n > 0 else []

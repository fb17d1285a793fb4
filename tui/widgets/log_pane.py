"""A log: the daemon's tail first, then the live lines as they come.

It follows one source, keyed (run, instance) — or (run, None) for the run's own log (its phases
and the daemon's notes). `follow(key)` switches; `load_tail` writes the fetched tail and then
whatever arrived live meanwhile (skipping lines the tail already holds), so nothing shows twice
or goes missing. A source is anything with `log` (the newest lines) and `log_count` (lines ever).
"""

from __future__ import annotations

from collections.abc import Sequence
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


class LogPane(Log):
    DEFAULT_CSS = css_beside(__file__)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, max_lines=2000, highlight=False, auto_scroll=True)
        self.key: Key | None = None
        self._written = 0  # how many of the instance's live lines (log_count) are on screen
        self._waiting_tail = False

    def follow(self, key: Key | None, inst: Source | None) -> None:
        """Start following another source; its tail arrives through load_tail."""
        if key == self.key:
            return
        self.key = key
        self.clear()
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
        self.clear()
        self.write_lines([line.rstrip("\n") for line in lines])
        tail = set(lines)
        if inst is not None:
            fresh = self._fresh(inst)
            self.write_lines(
                [line for line in fresh if line not in tail and line.removeprefix("[holdemd] ") not in tail]
            )
            self._written = inst.log_count

    def catch_up(self, inst: Source | None) -> None:
        """Write live lines that arrived since the last call (while the tail is pending, wait)."""
        if inst is None or self._waiting_tail or inst.log_count == self._written:
            return
        self.write_lines(self._fresh(inst))
        self._written = inst.log_count

    def _fresh(self, inst: Source) -> list[str]:
        n = min(inst.log_count - self._written, len(inst.log))
        return list(inst.log)[-n:] if n > 0 else []

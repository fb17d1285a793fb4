"""The one progress bar: a line for a person at a terminal, redrawn in place.

Where the output is not a terminal (a pipe, a log file) the bar writes a plain line at most every
`every_s` seconds, and one when the work completes; with `every_s=None` it stays silent there, for
commands whose printed result must be the only output. Callers compose the text after the gauge.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

_CLEAR_TO_END = "\x1b[K"


class ProgressBar:
    """'[#####-----]  50.0%  <text>' on one line of `out` (stderr by default)."""

    def __init__(self, out: TextIO | None = None, width: int = 30, every_s: float | None = 10.0) -> None:
        self._out = out if out is not None else sys.stderr
        self._tty = self._out.isatty()
        self._width = width
        self._every_s = every_s
        self._last_line = 0.0
        self._line_open = False  # a terminal line is drawn without its newline yet

    @property
    def on_terminal(self) -> bool:
        return self._tty

    def gauge(self, frac: float) -> str:
        """'[###-------]  30.0%' for a fraction done (the bar is cut at the width)."""
        filled = int(frac * self._width)
        return f"[{'#' * filled}{'-' * (self._width - filled)}] {frac:6.1%}"

    def show(self, text: str, final: bool = False) -> None:
        """Redraw in place on a terminal (ending the line when `final`); elsewhere a line every `every_s`
        seconds and the final one."""
        if self._tty:
            self._out.write("\r" + text + _CLEAR_TO_END + ("\n" if final else ""))
            self._line_open = not final
        elif self._every_s is not None and (final or time.monotonic() - self._last_line >= self._every_s):
            self._last_line = time.monotonic()
            self._out.write(text + "\n")
        self._out.flush()

    def finish(self, text: str) -> None:
        """The last line, written wherever the output goes."""
        self._out.write(("\r" if self._tty else "") + text + "\n")
        self._line_open = False
        self._out.flush()

    def abandon(self) -> None:
        """End without a final line (the work failed): only end a half-drawn terminal line."""
        if self._tty and self._line_open:
            self._out.write("\n")
            self._line_open = False
            self._out.flush()

    def count_text(self, label: str, done: int, total: int, unit: str, per_s: float) -> str:
        """A bar in real units: '[###---]  40.0%  river strength 53,784/134,459 boards  8,210 boards/s'."""
        frac = min(1.0, done / total) if total > 0 else 0.0
        rate = f"  {per_s:,.0f} {unit}/s" if per_s > 0 else ""
        return f"{self.gauge(frac)}  {label} {done:,}/{total:,} {unit}{rate}"

    def draw_count(self, label: str, done: int, total: int, unit: str, per_s: float = 0.0) -> None:
        """Show `count_text`; the line is final when the stage completes."""
        self.show(self.count_text(label, done, total, unit, per_s), final=done >= total)

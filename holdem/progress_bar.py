"""The one progress bar: a line for a person at a terminal, redrawn in place.

Where the output is not a terminal (a pipe, a log file) the bar writes a plain line at most every
`every_s` seconds, and one when the work completes; with `every_s=None` it stays silent there, for
commands whose printed result must be the only output. Callers compose the text after the gauge;
`clock` adds the elapsed time and what is left.

A log line written to the bar's stream goes through `own_line`, which erases the half-drawn bar first
and draws it again below the line, so the two never share a line.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

_CLEAR_TO_END = "\x1b[K"
REDRAW_S = 0.1  # a terminal line is redrawn at most this often (the final one always)

# The bar whose terminal line is drawn without its newline, per stream; the lock orders its draws
# (a heartbeat thread) against log lines (any thread).
_open_bars: dict[int, ProgressBar] = {}
_lock = threading.RLock()


class ProgressBar:
    """'[#####-----]  50.0%  <text>' on one line of `out` (stderr by default)."""

    def __init__(self, out: TextIO | None = None, width: int = 30, every_s: float | None = 10.0) -> None:
        self._out = out if out is not None else sys.stderr
        self._tty = self._out.isatty()
        self._width = width
        self._every_s = every_s
        self._last_line = 0.0
        self._last_draw = float("-inf")
        self._text = ""  # the terminal line last drawn, drawn again after a log line
        self._started = time.monotonic()

    @property
    def on_terminal(self) -> bool:
        return self._tty

    def gauge(self, frac: float) -> str:
        """'[###-------]  30.0%' for a fraction done (the bar is cut at the width)."""
        filled = int(frac * self._width)
        return f"[{'#' * filled}{'-' * (self._width - filled)}] {frac:6.1%}"

    def clock_for(self, frac: float) -> str:
        """`clock` since this bar was made, what is left extrapolated from the fraction done."""
        elapsed = time.monotonic() - self._started
        return clock(elapsed, elapsed * (1 - frac) / frac if frac > 0 else None)

    def show(self, text: str, final: bool = False) -> None:
        """Redraw in place on a terminal (ending the line when `final`; at most every REDRAW_S before);
        elsewhere a line every `every_s` seconds and the final one."""
        with _lock:
            if self._tty:
                if not final and time.monotonic() - self._last_draw < REDRAW_S:
                    return
                self._last_draw = time.monotonic()
                self._out.write("\r" + text + _CLEAR_TO_END + ("\n" if final else ""))
                self._text = text
                self._set_open(not final)
            elif self._every_s is not None and (final or time.monotonic() - self._last_line >= self._every_s):
                self._last_line = time.monotonic()
                self._out.write(text + "\n")
            self._out.flush()

    def finish(self, text: str) -> None:
        """The last line, written wherever the output goes."""
        with _lock:
            self._out.write(("\r" if self._tty else "") + text + "\n")
            self._set_open(False)
            self._out.flush()

    def abandon(self) -> None:
        """End without a final line (the work failed): only end a half-drawn terminal line."""
        with _lock:
            if _open_bars.get(id(self._out)) is self:
                self._out.write("\n")
                self._set_open(False)
                self._out.flush()

    def _set_open(self, line_open: bool) -> None:
        if line_open:
            _open_bars[id(self._out)] = self
        elif _open_bars.get(id(self._out)) is self:
            del _open_bars[id(self._out)]

    def count_text(self, label: str, done: int, total: int, unit: str, per_s: float) -> str:
        """A bar in real units: '[###---]  40.0%  river strength 53,784/134,459 boards  8,210 boards/s'."""
        frac = min(1.0, done / total) if total > 0 else 0.0
        rate = f"  {per_s:,.0f} {unit}/s" if per_s > 0 else ""
        return f"{self.gauge(frac)}  {label} {done:,}/{total:,} {unit}{rate}"

    def draw_count(self, label: str, done: int, total: int, unit: str, per_s: float = 0.0) -> None:
        """Show `count_text`; the line is final when the stage completes."""
        self.show(self.count_text(label, done, total, unit, per_s), final=done >= total)


@contextmanager
def own_line(stream: TextIO) -> Iterator[None]:
    """Around a write of whole lines to `stream`: a bar half drawn there is erased before and drawn
    again after, so the lines never run into it."""
    with _lock:
        bar = _open_bars.get(id(stream))
        if bar is not None:
            stream.write("\r" + _CLEAR_TO_END)
        yield
        if bar is not None:
            stream.write("\r" + bar._text + _CLEAR_TO_END)
            stream.flush()


def clock(elapsed_s: float, left_s: float | None) -> str:
    """'1:10 elapsed, 0:50 left' ('-:-- left' while no rate is known)."""
    left = duration(left_s) if left_s is not None else "-:--"
    return f"{duration(elapsed_s)} elapsed, {left} left"


def duration(seconds: float) -> str:
    """'0:07', '12:34', '3:02:01': minutes and seconds, hours when there are any."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"

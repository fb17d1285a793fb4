"""Output to pipes whose reader may go away: a supervisor killed with ``kill -9`` leaves its children
writing events and log lines into dead pipes, and that must never cost them a checkpoint.

Invariants:
* A write to a pipe without a reader (EPIPE; Python ignores SIGPIPE, so it raises) is dropped and
  counted, never raised; the stream stays dead from then on.
* The dead stream's file descriptor is pointed at /dev/null, so Python's own flush at exit cannot
  fail on it (that would turn a clean exit 0 into 120).
* Log lines that stderr can no longer take go to the fallback file when one is set (``holdem train``
  sets its instance's ``train.log``, the file the daemon appends the child's stderr to); otherwise
  they are dropped and counted.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TextIO

from holdem.progress_bar import own_line

__all__ = ["PipeSafeHandler", "log_to_file_when_stderr_is_gone", "silence"]


def silence(stream: TextIO) -> None:
    """Point the stream's file descriptor at /dev/null (a stream without one, e.g. StringIO, is left)."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


class PipeSafeHandler(logging.StreamHandler[TextIO]):
    """Log lines on a stream (stderr); once its reader is gone, on the fallback file or nowhere."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.fallback: Path | None = None
        self.gone = False
        self.dropped = 0  # lines neither the stream nor the fallback file took

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        if not self.gone:
            try:
                with own_line(self.stream):  # never on the line of a half-drawn progress bar
                    self.stream.write(line)
                    self.flush()
                return
            except BrokenPipeError:  # emit runs under the handler's lock: this happens once
                self.gone = True
                silence(self.stream)
                line = self.format(_gone_record(record, self.fallback)) + self.terminator + line
        self._append(line)

    def _append(self, text: str) -> None:
        if self.fallback is None:
            self.dropped += 1
            return
        try:  # O_APPEND: the daemon that comes next appends to the same file
            fd = os.open(self.fallback, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, text.encode(errors="replace"))
            finally:
                os.close(fd)
        except OSError:
            self.dropped += 1


def _gone_record(record: logging.LogRecord, fallback: Path | None) -> logging.LogRecord:
    where = f"log lines continue in {fallback}" if fallback else "log lines are dropped from now on"
    return logging.LogRecord(record.name, logging.WARNING, __file__, 0, f"stderr's reader is gone; {where}", None, None)


def log_to_file_when_stderr_is_gone(path: Path) -> None:
    """Give every PipeSafeHandler of the root logger a file for the lines stderr cannot take."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, PipeSafeHandler):
            handler.fallback = path

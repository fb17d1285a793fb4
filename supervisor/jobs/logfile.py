"""Log files that never raise: on a full disk or an I/O error a line is dropped and counted, the daemon
says so once, and the count is written into the log as soon as a write succeeds again.

Used for the children's logs (their stderr), the daemon's notes in them and the runs' own logs.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

log = logging.getLogger("holdemd")


class LogDrops:
    """Lines that could not be written, per log file: counted, told once per episode, then noted
    in the file itself when it takes writes again. `total` is shown in the daemon's status."""

    total = 0
    _open: dict[str, tuple[int, str]] = {}  # path -> (lines dropped, error) of the current episode

    @classmethod
    def failed(cls, path: Path, exc: OSError, lines: int = 1) -> None:
        cls.total += lines
        n, _ = cls._open.get(str(path), (0, ""))
        why = exc.strerror or str(exc)
        if str(path) not in cls._open:
            log.warning("cannot write %s (%s): dropping its log lines until writes succeed again", path, why)
        cls._open[str(path)] = (n + lines, why)

    @classmethod
    def failing(cls) -> list[str]:
        """The log files whose last write failed."""
        return list(cls._open)

    @classmethod
    def note(cls, path: Path) -> bytes:
        """The line to write before the next one, if lines were dropped; empty otherwise."""
        n, why = cls._open.get(str(path), (0, ""))
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        return f"{stamp} [holdemd] {n} log line(s) dropped here: {why}\n".encode() if str(path) in cls._open else b""

    @classmethod
    def retry(cls) -> None:
        """Write the pending 'dropped' notes now (called periodically): a log that takes writes
        again says so at once, not only with its next line."""
        for path in list(cls._open):
            fd = open_log(Path(path), lines=0)
            if fd is not None:
                try:
                    write_line(fd, Path(path), b"")
                finally:
                    os.close(fd)


def write_line(fd: int, path: Path, data: bytes) -> bool:
    """Append `data` (whole lines) to an open log, after the note of lines dropped before; never raises."""
    lines = data.count(b"\n")
    try:
        note = LogDrops.note(path)
        if note:
            os.write(fd, note)
            LogDrops._open.pop(str(path), None)
        if data:
            os.write(fd, data)  # O_APPEND: a short write on a full disk leaves a cut line, then ENOSPC
        return True
    except OSError as exc:
        LogDrops.failed(path, exc, lines)
        return False


def open_log(path: Path, lines: int = 1) -> int | None:
    """An O_APPEND descriptor for a log file, or None if it cannot be had (`lines` counted as dropped)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        LogDrops.failed(path, exc, lines)
        return None


def append_log(path: Path, line: str) -> None:
    """A daemon-side note in a child's log (restarts, orphans), so `logs` tells the whole story.
    Never raises: on a full disk the note is dropped and counted like a child's line."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    fd = open_log(path)
    if fd is None:
        return
    try:
        write_line(fd, path, f"{stamp} [holdemd] {line}\n".encode())
    finally:
        os.close(fd)

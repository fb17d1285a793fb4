"""TensorBoard scalars for one instance, written without TensorFlow and without a background thread.

An event file is TFRecord framing around `Event` protobufs; we build them with the `tensorboard`
package's own protos and record writer. We do not use `tensorboard.summary.Writer`: it reaches
TensorFlow through `tensorboard.compat.tf` whenever TensorFlow happens to be installed, and flushes
from a thread of its own. Invariants: writes are synchronous and in call order; after `flush()` or
`close()` every added point is in the file, unless the disk was full; nothing here imports TensorFlow.

Metrics are not worth a crash: a flush that meets a full disk drops the points it held (counted in
`dropped`) and cuts the file back to its last whole record, so TensorBoard never reads a torn one;
the points that follow are written as soon as there is room again.
"""

from __future__ import annotations

import errno
import itertools
import logging
import os
import socket
import time
from pathlib import Path
from types import TracebackType

from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.record_writer import RecordWriter

_FILE_VERSION = "brain.Event:2"  # TensorBoard's current event file format
_serial = itertools.count()  # keeps file names unique for logs opened in the same second
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)

log = logging.getLogger("holdem.train")


class ScalarLog:
    """Appends scalar points to a new event file in `logdir` (one file per ScalarLog)."""

    def __init__(self, logdir: Path, *, purge_from_step: int | None = None, flush_secs: float = 1.0) -> None:
        """Open a new event file.

        purge_from_step: after a resume from the checkpoint at this step, tells TensorBoard to drop
        the points an earlier process logged from this step on (they belong to the abandoned
        stretch between the checkpoint and the crash).
        flush_secs: `add` flushes on its own once this long has passed since the last flush.
        """
        self.logdir = Path(logdir)
        self.logdir.mkdir(parents=True, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}.{next(_serial)}"
        self.path = self.logdir / name
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        self._pending = _Pending()  # framed records not in the file yet
        self._records = RecordWriter(self._pending)
        self._in_file = 0  # bytes of whole records in the file
        self._points = 0  # points waiting in _pending
        self.dropped = 0  # points lost to a full disk
        self._full = False  # the last flush met a full disk
        self._flush_secs = flush_secs
        self._last_flush = time.monotonic()
        self._write(event_pb2.Event(wall_time=time.time(), file_version=_FILE_VERSION))
        if purge_from_step is not None:
            # TensorBoard reads SessionLog.START at step s as "a restart: forget points at >= s".
            restart = event_pb2.SessionLog(status=event_pb2.SessionLog.START)
            self._write(event_pb2.Event(wall_time=time.time(), step=purge_from_step, session_log=restart))
        self._header = len(self._pending)  # written before any point, never dropped
        self.flush()

    def add(self, tag: str, value: float, step: int, wall_time: float | None = None) -> None:
        """Record `value` for `tag` at `step` (stored as float32, as TensorBoard scalars are)."""
        if not isinstance(tag, str) or not tag:
            raise ValueError(f"tag must be a non-empty string, got {tag!r}")
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=float(value))])
        when = time.time() if wall_time is None else float(wall_time)
        self._write(event_pb2.Event(wall_time=when, step=int(step), summary=summary))
        self._points += 1
        if time.monotonic() - self._last_flush >= self._flush_secs:
            self.flush()

    def flush(self) -> None:
        """Hand everything added so far to the OS, where a TensorBoard reading the folder sees it
        (on a full disk: drop it, and count the points)."""
        fd = self._open_fd()
        self._last_flush = time.monotonic()
        pending = self._pending
        done = 0
        try:
            while done < len(pending):
                done += os.pwrite(fd, memoryview(pending)[done:], self._in_file + done)
        except OSError as exc:
            if exc.errno not in _DISK_FULL:
                raise
            os.ftruncate(fd, self._in_file)  # no torn record: back to the last whole one
            if not self._full:
                log.warning("TensorBoard: the disk is full; points are dropped until there is room (%s)", exc)
            self._full = True
            self.dropped += self._points
            del pending[self._header :]
            self._points = 0
            return
        if self._full:
            log.info("TensorBoard: writing again (%d point(s) dropped so far)", self.dropped)
            self._full = False
        self._in_file += len(pending)
        pending.clear()
        self._header = self._points = 0

    def close(self) -> None:
        """Flush and close; closing twice is harmless."""
        if self._fd is not None:
            try:
                self.flush()
            finally:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> ScalarLog:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _write(self, event: event_pb2.Event) -> None:
        self._open_fd()
        self._records.write(event.SerializeToString())

    def _open_fd(self) -> int:
        if self._fd is None:
            raise ValueError(f"ScalarLog {self.path} is closed")
        return self._fd


class _Pending(bytearray):
    """What RecordWriter frames records into: memory, written to the file by `ScalarLog.flush`."""

    def write(self, data: bytes) -> None:
        self.extend(data)

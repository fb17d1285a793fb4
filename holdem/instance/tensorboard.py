"""TensorBoard scalars for one instance, written without TensorFlow and without a background thread.

An event file is TFRecord framing around `Event` protobufs; we build them with the `tensorboard`
package's own protos and record writer. We do not use `tensorboard.summary.Writer`: it reaches
TensorFlow through `tensorboard.compat.tf` whenever TensorFlow happens to be installed, and flushes
from a thread of its own. Invariants: writes are synchronous and in call order; after `flush()` or
`close()` every added point is in the file; nothing here imports TensorFlow.
"""

from __future__ import annotations

import itertools
import os
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.record_writer import RecordWriter

_FILE_VERSION = "brain.Event:2"  # TensorBoard's current event file format
_serial = itertools.count()  # keeps file names unique for logs opened in the same second


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
        self._file: BinaryIO | None = open(self.path, "xb")  # noqa: SIM115 (held until close())
        self._records = RecordWriter(self._file)
        self._flush_secs = flush_secs
        self._last_flush = time.monotonic()
        self._write(event_pb2.Event(wall_time=time.time(), file_version=_FILE_VERSION))
        if purge_from_step is not None:
            # TensorBoard reads SessionLog.START at step s as "a restart: forget points at >= s".
            restart = event_pb2.SessionLog(status=event_pb2.SessionLog.START)
            self._write(event_pb2.Event(wall_time=time.time(), step=purge_from_step, session_log=restart))
        self.flush()

    def add(self, tag: str, value: float, step: int, wall_time: float | None = None) -> None:
        """Record `value` for `tag` at `step` (stored as float32, as TensorBoard scalars are)."""
        if not isinstance(tag, str) or not tag:
            raise ValueError(f"tag must be a non-empty string, got {tag!r}")
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=float(value))])
        when = time.time() if wall_time is None else float(wall_time)
        self._write(event_pb2.Event(wall_time=when, step=int(step), summary=summary))
        if time.monotonic() - self._last_flush >= self._flush_secs:
            self.flush()

    def flush(self) -> None:
        """Hand everything added so far to the OS, where a TensorBoard reading the folder sees it."""
        self._open_file().flush()
        self._last_flush = time.monotonic()

    def close(self) -> None:
        """Flush and close; closing twice is harmless."""
        if self._file is not None:
            self._file.flush()
            self._file.close()
            self._file = None

    def __enter__(self) -> ScalarLog:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _write(self, event: event_pb2.Event) -> None:
        self._open_file()
        self._records.write(event.SerializeToString())

    def _open_file(self) -> BinaryIO:
        if self._file is None:
            raise ValueError(f"ScalarLog {self.path} is closed")
        return self._file

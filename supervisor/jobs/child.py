"""One child process speaking the worker event stream: spawn, read, heartbeat, classify its exit.

The daemon never imports the solver; a child is `argv` plus a pipe of JSON Lines on stdout and
human log lines on stderr (appended to its log file). Nothing here knows about restarts: that
policy lives in instance.py, which reuses this for train, prepare and merge alike. How the child
is started and signalled (a local process, or `srun`) is its executor's business (executors/).

Its stderr goes to its log file through logfile.py, whose writes never raise (a full disk drops and
counts lines).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supervisor.executors import Executor, ExecutorSpec, Launched, LocalExecutor, Placement, Task
from supervisor.executors.proc import proc_start_time, renice
from supervisor.jobs.logfile import open_log, write_line
from supervisor.protocol import MAX_LINE_BYTES

# A child's stderr line longer than this is cut: a log line is for a person.
MAX_LOG_LINE = 64 * 1024
TERMINAL_EVENTS = frozenset({"done", "stopped"})

EventSink = Callable[[dict[str, Any], float], None]
LogSink = Callable[[str], None]
RECENT_LINES = 20  # stderr lines kept in memory per child, to tell why it died (even if unwritten)
log = logging.getLogger("holdemd")


@dataclass(frozen=True, slots=True)
class Exit:
    """How a child ended, as facts; the restart policy interprets them."""

    code: int  # the returncode; negative means killed by that signal
    last_event: str | None  # the last event name the child sent (done / stopped / error / ...)
    error: str | None  # the message of its last `error` event
    hung: bool  # we killed it because it sent nothing for the heartbeat timeout
    runtime_s: float

    @property
    def clean_done(self) -> bool:
        return self.code == 0 and self.last_event == "done"

    def describe(self) -> str:
        if self.hung:
            return "no event within the heartbeat timeout (hung); killed"
        if self.code < 0:
            try:
                name = signal.Signals(-self.code).name
            except ValueError:
                name = f"signal {-self.code}"
            what = f"killed by {name}"
        else:
            what = f"exit code {self.code}"
            if self.code == 0 and self.last_event == "stopped":
                what = "stopped by a signal that holdemd did not send"
            elif self.code == 0 and self.last_event not in TERMINAL_EVENTS:
                what += " without a done/stopped event"
        return f"{what}: {self.error}" if self.error else what


class LineSplitter:
    """Cuts a byte stream into lines as it arrives, with a hard cap per line (synchronous twin of
    protocol.LineReader, for protocol callbacks). An over-long line yields one None, then is skipped."""

    __slots__ = ("_buf", "_limit", "_skipping")

    def __init__(self, limit: int) -> None:
        self._buf = b""
        self._limit = limit
        self._skipping = False

    def feed(self, data: bytes) -> list[bytes | None]:
        buf = self._buf + data if self._buf else data
        *lines, rest = buf.split(b"\n")
        out: list[bytes | None] = []
        for line in lines:
            if self._skipping:
                self._skipping = False
            elif len(line) >= self._limit:
                out.append(None)
            else:
                out.append(line)
        if len(rest) >= self._limit:
            if not self._skipping:
                out.append(None)
            self._skipping = True
            rest = b""
        self._buf = rest
        return out

    def tail(self) -> bytes:
        """An unterminated last line at end of stream."""
        rest, self._buf = self._buf, b""
        return b"" if self._skipping else rest


# Wake-up coalescing. Each child writes a line every ~50 ms; waking the daemon for every line of
# 64 children costs more (epoll, read, context switch) than handling the line. After a read the
# loop pauses once for COALESCE_S (a blocking sleep, no CPU), so the next iteration finds many
# pipes ready at once: at most ~1/COALESCE_S wake-ups a second under load, unchanged when idle.
COALESCE = {"s": 0.0, "pending": False}


def set_coalesce(seconds: float) -> None:
    COALESCE["s"] = max(0.0, seconds)


def coalesce(loop: asyncio.AbstractEventLoop) -> None:
    if COALESCE["s"] and not COALESCE["pending"]:
        COALESCE["pending"] = True
        loop.call_soon(_pause)


def _pause() -> None:
    COALESCE["pending"] = False
    time.sleep(COALESCE["s"])


class _Pipes(asyncio.SubprocessProtocol):
    """Callbacks straight from the event loop: a progress line costs one callback and one
    json.loads, with no StreamReader, task switch or timeout object per line."""

    def __init__(self, child: Child) -> None:
        self.child = child
        self.out = LineSplitter(MAX_LINE_BYTES)
        self.err = LineSplitter(MAX_LOG_LINE)
        # kept: asyncio.get_running_loop() costs a getpid() system call, per line on the hot path
        self.loop = loop = asyncio.get_running_loop()
        self.exited: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self._open = {1, 2}

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        coalesce(self.loop)
        if fd == 1:
            for line in self.out.feed(data):
                self.child._stdout_line(line)
        else:
            for line in self.err.feed(data):
                self.child._stderr_line(line)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        last = (self.out if fd == 1 else self.err).tail()
        if last:
            (self.child._stdout_line if fd == 1 else self.child._stderr_line)(last)
        self._open.discard(fd)
        if not self._open and not self.closed.done():
            self.closed.set_result(None)

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)


class Child:
    """A running child. `start()`, then `wait()` returns its Exit once it is gone."""

    def __init__(
        self,
        argv: Sequence[str],
        log_path: Path,
        on_event: EventSink,
        on_log: LogSink,
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        nice: int = 0,
        executor: Executor | None = None,
        task: Task | None = None,
        on_placed: Callable[[Placement], None] | None = None,
    ) -> None:
        self.executor = executor or LocalExecutor(ExecutorSpec())
        self.task = task or Task(log_path.parent.name)
        self.on_placed = on_placed
        self.launched: Launched | None = None
        self.argv = list(argv)
        self.log_path = log_path
        self.on_event = on_event
        self.on_log = on_log
        self.cwd = cwd
        self.env = env
        self.nice = nice
        self.transport: asyncio.SubprocessTransport | None = None
        self.pipes: _Pipes | None = None
        self.pid: int | None = None
        self.start_time: int | None = None
        self._log_fd: int | None = None
        self._started_at = 0.0
        self._last_event: str | None = None
        self._error: str | None = None
        self._hung = False
        self._progressed = False
        self._last_line = 0.0
        self.recent: deque[str] = deque(maxlen=RECENT_LINES)

    async def start(self) -> None:
        self._loop = loop = asyncio.get_running_loop()
        self._started_at = time.monotonic()
        self._last_line = loop.time()
        self._log_fd = open_log(self.log_path, lines=0)  # None on a full disk: the child still runs
        # Own session: a Ctrl-C at the daemon's terminal must not reach the children directly;
        # the daemon relays SIGTERM so they checkpoint in order.
        argv = self.executor.command(self.task, self.argv)
        extra: dict[str, Any] = {}
        if (preexec := self.executor.preexec()) is not None:
            extra["preexec_fn"] = preexec
        try:
            self.transport, self.pipes = await loop.subprocess_exec(
                lambda: _Pipes(self),
                *argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=self.cwd,
                env=self.env,
                start_new_session=self.executor.new_session(),
                **extra,
            )
        except BaseException:
            if self._log_fd is not None:
                os.close(self._log_fd)
            self._log_fd = None
            raise
        self.pid = self.transport.get_pid()
        self.start_time = proc_start_time(self.pid)
        if self.nice:
            renice(self.pid, self.nice)
        self.launched = Launched(self.task, self.pid, self.start_time, Placement(self.executor.name), self.on_placed)
        self.executor.started(self.launched)

    def _alive(self) -> bool:
        return self.transport is not None and self.transport.get_returncode() is None

    def terminate(self) -> None:
        if self._alive() and self.launched is not None:
            self.executor.terminate(self.launched)

    def kill(self) -> None:
        if self._alive() and self.launched is not None:
            self.executor.kill(self.launched)

    async def wait(self, heartbeat_s: float | None, startup_s: float = 0.0) -> Exit:
        """Until the child is gone: its events flow through callbacks meanwhile; a lapsed
        heartbeat means SIGKILL. Returns how it ended.

        Until the first `progress` event the allowance is max(heartbeat, startup): a first start
        may spend a long time compiling kernels, a running worker reports at least once a second.
        """
        assert self.transport is not None and self.pipes is not None
        watchdog = (
            asyncio.create_task(self._watchdog(heartbeat_s, max(startup_s, heartbeat_s))) if heartbeat_s else None
        )
        try:
            await asyncio.shield(self.pipes.closed)  # stdout and stderr both at EOF
            try:
                await asyncio.wait_for(asyncio.shield(self.pipes.exited), 30.0)
            except TimeoutError:
                # pipes closed but the process lingers: it cannot report any more; make sure it is gone.
                self.kill()
                await asyncio.shield(self.pipes.exited)
        except asyncio.CancelledError:
            self.kill()  # nobody will supervise it any more
            raise
        finally:
            if watchdog is not None:
                watchdog.cancel()
            code = self.transport.get_returncode()
            self.transport.close()
            if self._log_fd is not None:
                os.close(self._log_fd)
                self._log_fd = None
        return Exit(
            code if code is not None else -signal.SIGKILL,
            self._last_event,
            self._error,
            self._hung,
            time.monotonic() - self._started_at,
        )

    async def _watchdog(self, heartbeat_s: float, startup_s: float) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(1.0, heartbeat_s / 4))
            if loop.time() - self._last_line > (heartbeat_s if self._progressed else startup_s):
                self._hung = True
                self.kill()  # SIGKILL works on a SIGSTOPped process too; its pipes then close
                return

    def _stdout_line(self, line: bytes | None) -> None:
        self._last_line = self._loop.time()
        now = time.time()
        if line is None:
            # An oversized line is the child's bug, not a crash: report it and read on.
            self._emit(
                {
                    "event": "error",
                    "message": f"event line dropped: longer than {MAX_LINE_BYTES} bytes",
                    "permanent": False,
                    "synthetic": True,
                },
                now,
            )
            return
        try:
            event = json.loads(line)
            if not isinstance(event, dict) or not isinstance(event.get("event"), str):
                raise ValueError("not an event object")
        except ValueError:
            self._stderr_line(b"[holdemd] unparseable event line: " + repr(line[:200]).encode())
            return
        self._emit(event, now)

    def _emit(self, event: dict[str, Any], now: float) -> None:
        kind = event["event"]
        if not event.get("synthetic"):
            self._last_event = kind
            if kind == "progress":
                self._progressed = True
            if kind == "error":
                self._error = str(event.get("message", ""))
        self.on_event(event, now)

    def _stderr_line(self, raw: bytes | None) -> None:
        """Append a stderr line to the log file and pass it on for subscribers."""
        if raw is None:
            raw = b"[holdemd] (an over-long log line was cut)"
        if self._log_fd is None:
            self._log_fd = open_log(self.log_path)  # counts this line if it still cannot be opened
        if self._log_fd is not None:
            write_line(self._log_fd, self.log_path, raw + b"\n")
        text = raw.decode(errors="replace")
        self.recent.append(text)
        self.on_log(text)

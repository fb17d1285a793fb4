"""One child process speaking the worker event stream: spawn, read, heartbeat, classify its exit.

The daemon never imports the solver; a child is `argv` plus a pipe of JSON Lines on stdout and
human log lines on stderr (appended to its log file). Nothing here knows about restarts: that
policy lives in instance.py, which reuses this for train, prepare and merge alike.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .protocol import LineReader, LineTooLong, MAX_LINE_BYTES

# A child's stderr line longer than this is cut: a log line is for a person.
MAX_LOG_LINE = 64 * 1024
TERMINAL_EVENTS = frozenset({"done", "stopped"})

EventSink = Callable[[dict[str, Any], float], None]
LogSink = Callable[[str], None]


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
            if self.code == 0 and self.last_event not in TERMINAL_EVENTS:
                what += " without a done/stopped event"
        return f"{what}: {self.error}" if self.error else what


def proc_start_time(pid: int) -> int | None:
    """The process start time in clock ticks since boot (/proc/PID/stat field 22), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: fields resume after the last ')'.
    rest = data[data.rfind(b")") + 2:].split()
    if rest[0] == b"Z":  # a zombie is dead for our purposes
        return None
    return int(rest[19])


def is_same_process(pid: int, start: int) -> bool:
    """True if `pid` is still the very process that had this start time (pids get reused)."""
    return proc_start_time(pid) == start


async def stop_orphan(pid: int, start: int, grace_s: float) -> bool:
    """Stop a child left behind by a dead daemon: SIGTERM, wait up to grace, then SIGKILL.

    It is not our child, so it cannot be waited for; we watch /proc instead (a zombie counts
    as gone). Returns True if there was such a process.
    """
    if not is_same_process(pid, start):
        return False
    _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not is_same_process(pid, start):
            return True
        await asyncio.sleep(0.05)
    _signal(pid, signal.SIGKILL)
    for _ in range(200):
        if not is_same_process(pid, start):
            break
        await asyncio.sleep(0.05)
    return True


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


class Child:
    """A running child. `start()`, then `wait()` returns its Exit once it is gone."""

    def __init__(self, argv: Sequence[str], log_path: Path, on_event: EventSink, on_log: LogSink,
                 *, cwd: Path | None = None, env: dict[str, str] | None = None, nice: int = 0) -> None:
        self.argv = list(argv)
        self.log_path = log_path
        self.on_event = on_event
        self.on_log = on_log
        self.cwd = cwd
        self.env = env
        self.nice = nice
        self.proc: asyncio.subprocess.Process | None = None
        self.pid: int | None = None
        self.start_time: int | None = None
        self._started_at = 0.0
        self._last_event: str | None = None
        self._error: str | None = None
        self._hung = False
        self._progressed = False
        self._last_line = 0.0

    async def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._started_at = time.monotonic()
        self._last_line = asyncio.get_running_loop().time()
        # Own session: a Ctrl-C at the daemon's terminal must not reach the children directly;
        # the daemon relays SIGTERM so they checkpoint in order.
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, cwd=self.cwd, env=self.env, start_new_session=True)
        self.pid = self.proc.pid
        self.start_time = proc_start_time(self.pid)
        if self.nice:
            try:
                os.setpriority(os.PRIO_PROCESS, self.pid, self.nice)
            except OSError:
                pass

    def terminate(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            _signal(self.proc.pid, signal.SIGTERM)

    def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            _signal(self.proc.pid, signal.SIGKILL)

    async def wait(self, heartbeat_s: float | None, startup_s: float = 0.0) -> Exit:
        """Read events until stdout closes or the heartbeat lapses (then SIGKILL), and reap.

        Until the first `progress` event the allowance is max(heartbeat, startup): a first start
        may spend a long time compiling kernels, a running worker reports at least once a second.
        """
        assert self.proc is not None and self.proc.stdout is not None and self.proc.stderr is not None
        log_task = asyncio.create_task(self._pump_log(self.proc.stderr))
        # One cheap periodic check instead of a timeout per line: the event path is the hot path.
        watchdog = asyncio.create_task(self._watchdog(heartbeat_s, max(startup_s, heartbeat_s))) \
            if heartbeat_s else None
        try:
            await self._read_events(self.proc.stdout)
        except asyncio.CancelledError:
            self.kill()  # nobody will supervise it any more
            raise
        finally:
            if watchdog is not None:
                watchdog.cancel()
            code = await self._reap()
            try:
                await asyncio.wait_for(log_task, 5.0)
            except asyncio.TimeoutError:
                # a grandchild may still hold stderr open; the log is not worth a hang
                log_task.cancel()
        return Exit(code, self._last_event, self._error, self._hung, time.monotonic() - self._started_at)

    async def _watchdog(self, heartbeat_s: float, startup_s: float) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(1.0, heartbeat_s / 4))
            if loop.time() - self._last_line > (heartbeat_s if self._progressed else startup_s):
                self._hung = True
                self.kill()  # SIGKILL works on a SIGSTOPped process too; stdout then closes
                return

    async def _reap(self) -> int:
        assert self.proc is not None
        try:
            return await asyncio.wait_for(self.proc.wait(), 30.0)
        except asyncio.TimeoutError:
            # stdout closed but the process lingers: it cannot report any more; make sure it is gone.
            self.kill()
            return await self.proc.wait()

    async def _read_events(self, stream: asyncio.StreamReader) -> None:
        loop = asyncio.get_running_loop()
        reader = LineReader(stream, MAX_LINE_BYTES)
        while True:
            try:
                line = await reader.readline()
            except LineTooLong as exc:
                # An oversized line is the child's bug, not a crash: report it and read on.
                self._last_line = loop.time()
                self._emit({"event": "error", "message": f"event line dropped: {exc}", "permanent": False,
                            "synthetic": True}, time.time())
                continue
            if line is None:
                return
            self._last_line = loop.time()
            now = time.time()
            try:
                event = json.loads(line)
                if not isinstance(event, dict) or not isinstance(event.get("event"), str):
                    raise ValueError("not an event object")
            except ValueError:
                self.on_log(f"[holdemd] unparseable event line: {line[:200]!r}")
                continue
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

    async def _pump_log(self, stream: asyncio.StreamReader) -> None:
        """Append stderr to the log file line by line, and pass each line on for subscribers."""
        reader = LineReader(stream, MAX_LOG_LINE)
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            while True:
                try:
                    raw = await reader.readline()
                except LineTooLong:
                    raw = b"[holdemd] (an over-long log line was cut)"
                if raw is None:
                    return
                os.write(fd, raw + b"\n")
                self.on_log(raw.decode(errors="replace"))
        finally:
            os.close(fd)


def append_log(path: Path, line: str) -> None:
    """A daemon-side note in a child's log (restarts, orphans), so `logs` tells the whole story."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{stamp} [holdemd] {line}\n")

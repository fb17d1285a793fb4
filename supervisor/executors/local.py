"""The local executor: the worker is the daemon's own child process on this host (the behaviour
holdemd always had). SIGTERM asks it to checkpoint; SIGKILL ends it; a child left by a dead
daemon is found again by its pid and start time, and stopped before its instance is relaunched."""

from __future__ import annotations

import signal
import socket
from collections.abc import Sequence

from .base import Executor, Launched, Placement, Task
from .proc import signal_pid, stop_orphan


class LocalExecutor(Executor):
    name = "local"

    def command(self, task: Task, argv: Sequence[str]) -> list[str]:
        return list(argv)

    def started(self, launched: Launched) -> None:
        launched.place(Placement(self.name, None, socket.gethostname().split(".")[0]))

    def terminate(self, launched: Launched) -> None:
        signal_pid(launched.pid, signal.SIGTERM)

    def kill(self, launched: Launched) -> None:
        signal_pid(launched.pid, signal.SIGKILL)

    async def clear_leftover(
        self, task: Task, pid: int | None, start_time: int | None, grace_s: float, silence_s: float | None = None
    ) -> str | None:
        if pid and start_time and await stop_orphan(pid, start_time, grace_s, silence_s):
            return f"orphan pid {pid}"
        return None

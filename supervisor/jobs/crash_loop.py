"""The crash-loop window of one instance: the exits that count toward `--max-restarts`.

What counts: an exit that is neither clean (0: done, or stopped after its checkpoint) nor permanent
(2: failed at once), i.e. a crash (any other code, a signal) or a hang (killed at the heartbeat
timeout). What does not: a restart the operator asked for, a stop, a full disk (the run waits it
out), a daemon that died (its instances are relaunched as "holdemd restarted").

The window is the last `--restart-window` seconds of wall time. Its entries are the restarts they
caused, recorded in the store as `counted`, so a daemon that comes back after a crash, a SIGKILL or
a reboot resumes the window instead of starting it afresh; an operator's resume or restart of the
instance does start it afresh (`Store.forget_crashes`), as a new try.
"""

from __future__ import annotations

import time
from collections import deque

from supervisor.config import Tuning
from supervisor.state.store import Store


class CrashWindow:
    """The counted exits of one instance within the window, oldest first (unix times)."""

    def __init__(self, store: Store, run_id: str, idx: int, tuning: Tuning) -> None:
        self._window_s, self._max = tuning.restart_window_s, tuning.max_restarts
        self._times = deque(store.counted_restarts_since(run_id, idx, time.time() - self._window_s))

    def count(self) -> None:
        """A crash or a hang: into the window, and what has left the window out of it."""
        now = time.time()
        self._times.append(now)
        while self._times and now - self._times[0] > self._window_s:
            self._times.popleft()

    def forgive(self) -> None:
        """The exit just counted was not the worker's fault (a full disk)."""
        if self._times:
            self._times.pop()

    @property
    def recent(self) -> int:
        """Counted exits in the window, the latest included."""
        return len(self._times)

    @property
    def exceeded(self) -> bool:
        """More than --max-restarts: the instance is failed instead of relaunched."""
        return len(self._times) > self._max

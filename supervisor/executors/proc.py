"""Local process facts both executors need: a pid's start time (pids get reused), signalling, renice,
and stopping a process a dead daemon left behind (not our child: watched through /proc)."""

from __future__ import annotations

import asyncio
import os
import signal
import time


def _stat(pid: int) -> list[bytes] | None:
    """The fields of /proc/PID/stat from the state on (field 3), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: fields resume after the last ')'.
    return data[data.rfind(b")") + 2 :].split()


def proc_start_time(pid: int) -> int | None:
    """The process start time in clock ticks since boot (/proc/PID/stat field 22), or None."""
    rest = _stat(pid)
    if rest is None or rest[0] == b"Z":  # a zombie is dead for our purposes
        return None
    return int(rest[19])


def is_same_process(pid: int, start: int) -> bool:
    """True if `pid` is still the very process that had this start time (pids get reused)."""
    return proc_start_time(pid) == start


def _cpu_while_running(pid: int) -> int | None:
    """CPU ticks spent by pid (utime + stime), or None while it is stopped (T, t) or gone."""
    rest = _stat(pid)
    if rest is None or rest[0] in (b"T", b"t", b"Z"):
        return None
    return int(rest[11]) + int(rest[12])


async def stop_orphan(pid: int, start: int, grace_s: float, silence_s: float | None = None) -> bool:
    """Stop a child left behind by a dead daemon: SIGTERM and SIGCONT (a stopped process acts on
    nothing until continued), then SIGKILL after grace_s, or as soon as it has shown no sign of life
    for silence_s: the heartbeat rule, for a process whose events we cannot hear. A sign of life is
    CPU time spent while not stopped (a worker that checkpoints computes; a hung one does not).

    It is not our child, so it cannot be waited for; we watch /proc instead (a zombie counts
    as gone). Returns True if there was such a process.
    """
    if not is_same_process(pid, start):
        return False
    signal_pid(pid, signal.SIGTERM)
    signal_pid(pid, signal.SIGCONT)
    now = time.monotonic()
    deadline, lively, ticks = now + grace_s, now, _cpu_while_running(pid)
    while time.monotonic() < deadline and (silence_s is None or time.monotonic() - lively < silence_s):
        if not is_same_process(pid, start):
            return True
        await asyncio.sleep(0.05)
        seen = _cpu_while_running(pid)
        if seen is not None and seen != ticks:
            lively, ticks = time.monotonic(), seen
    signal_pid(pid, signal.SIGKILL)
    for _ in range(200):
        if not is_same_process(pid, start):
            break
        await asyncio.sleep(0.05)
    return True


def renice(pid: int, nice: int) -> None:
    """Lower a child's priority. The child leads its own session, so with the scheduler's
    autogroups (sched_autogroup_enabled) its process nice would not count against the daemon:
    the session's autogroup gets the same nice."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, nice)
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/autogroup", "w") as f:
            f.write(str(nice))
    except OSError:
        pass  # no autogroups (e.g. under systemd the cgroup decides), or not permitted


def signal_pid(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass

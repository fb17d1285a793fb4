"""What the daemon reads of the machine and its children from /proc: cores it may use, a child's RSS.

The daemon knows no poker and imports no solver: the machine's cores come from the scheduler
affinity of this process (what a cgroup or `taskset` leaves us), a child's memory from its
/proc/<pid>/statm, which costs one small read.
"""

from __future__ import annotations

import os

_PAGE = os.sysconf("SC_PAGE_SIZE")


def machine_cores() -> int:
    """Cores this process (and so its children) may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def rss_bytes(pid: int | None) -> int | None:
    """Resident memory of process pid in bytes (None when it is gone or unreadable)."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None

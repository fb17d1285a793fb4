"""Free space where the daemon and its children write, and how to tell a full disk from a crash.

A child that dies because the disk is full is not broken: it is relaunched (not counted toward
`max_restarts`) once a backoff has passed, so a run continues by itself when space returns.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Below this a child's crash is put down to the disk whatever it printed (writes need some room).
NEARLY_FULL_BYTES = 1 << 20
_FULL_TEXT = re.compile(
    r"No space left on device|\[Errno 28\]|ENOSPC|Disk quota exceeded|\[Errno 122\]|"
    r"database or disk is full",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Space:
    path: str
    device: int  # st_dev: two paths on one file system are reported once
    free_bytes: int
    total_bytes: int


def space(path: Path) -> Space | None:
    """Free bytes (for an unprivileged writer) of the file system holding `path` or its nearest parent."""
    probe = Path(path)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        st = os.statvfs(probe)
        dev = os.stat(probe).st_dev
    except OSError:
        return None
    return Space(str(path), dev, st.f_bavail * st.f_frsize, st.f_blocks * st.f_frsize)


def says_disk_full(texts: Iterable[str | None]) -> bool:
    return any(t and _FULL_TEXT.search(t) for t in texts)


def disk_full_reason(where: Path, texts: Iterable[str | None]) -> str | None:
    """'disk full (…)' if the child's last words or the free space say so, else None."""
    sp = space(where)
    if says_disk_full(texts) or (sp is not None and sp.free_bytes < NEARLY_FULL_BYTES):
        free = f"{human_bytes(sp.free_bytes)} free" if sp is not None else "free space unknown"
        return f"disk full ({free} on {where})"
    return None


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"

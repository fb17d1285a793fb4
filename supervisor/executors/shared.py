"""The runs root must be writable by the daemon and, under Slurm, be the same folder on every node
(a shared filesystem): instances write checkpoints there that the daemon, the merge and any later
launch on another node read back. The check leaves nothing behind (a refused start creates no state)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def check_runs_root(path: Path) -> None:
    """Prove the runs root writable (a file written, fsynced, removed); if it does not exist yet,
    that its nearest existing ancestor is a folder we may create it in."""
    if not path.exists():
        parent = path.parent
        while not parent.exists():
            parent = parent.parent
        if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
            raise ValueError(f"runs root {path} is not writable: cannot create it in {parent}")
        return
    probe = path / f".holdemd-probe-{secrets.token_hex(4)}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, b"holdemd\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"runs root {path} is not writable: {exc.strerror or exc}") from None

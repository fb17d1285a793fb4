"""The runs root must be writable by the daemon and, under Slurm, be the same folder on every node
(a shared filesystem): instances write checkpoints there that the daemon, the merge and any later
launch on another node read back."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def check_runs_root(path: Path) -> None:
    """Create the runs root if needed and prove it writable (a file written, fsynced, removed)."""
    probe = path / f".holdemd-probe-{secrets.token_hex(4)}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, b"holdemd\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"runs root {path} is not writable: {exc.strerror or exc}") from None

"""The daemon's atomic write: a reader (a restarted daemon, a worker) sees the old file or the new one.

The same write-fsync-rename-fsync-the-folder as `holdem.storage.atomic`, kept apart on purpose: the
supervisor runs without the poker package's imports (no numpy, no numba; the import contract forbids
`holdem` here), so it cannot share that module.
"""

from __future__ import annotations

import os
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data`: a temporary file beside it, fsynced, renamed over it, the folder fsynced."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)

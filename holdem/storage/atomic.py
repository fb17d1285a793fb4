"""The one atomic write of the poker package: a reader sees the old file or the new one, never half of one.

The new content goes to a temporary file in the same folder (so the rename stays on one file system),
is fsynced, renamed over the target, and the folder is fsynced so the rename itself survives a power cut.
Checkpoint folders use the same pieces (`write_synced`, `fsync_dir`) for their files and their rename.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (a file created, renamed or removed in it) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_synced(path: Path, data: bytes) -> None:
    """Write `data` to `path` and fsync it; no rename (for files inside a folder that is renamed whole)."""
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` for a writer to fill (e.g. matplotlib's savefig); when the
    block ends without error, the file is fsynced and renamed over `path`. It keeps `path`'s suffix,
    since some writers choose the format by it. On an error the temporary file is removed."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}{path.suffix}")
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically."""
    with replacing(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` (UTF-8) atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, data: Any) -> None:
    """Replace `path` with `data` as strict JSON (sorted keys, indent 1, no NaN), creating its folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(data, indent=1, sort_keys=True, allow_nan=False))

"""The session's hold'em bucket store: SMALL_HUNL's bucket set, built once by whichever process gets here
first (an xdist worker's fixture, or the build a worker starts in the background when it collects
hold'em tests) while the others wait on the lock; `python tests/bucket_store.py ROOT` builds it.

Beside the store, `buckets-progress.json` keeps every BuildProgress the build reported (a test reads
them), and `buckets.lock` is the file lock.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import sys
from pathlib import Path

from small_hunl import SMALL_HUNL


def build_once(root: Path) -> list:
    """Build SMALL_HUNL's buckets under `root` unless this session already has; the build's progress."""
    from holdem.abstraction.buckets import BuildProgress, build_buckets
    from holdem.games.hunl.betting import abstraction_from_config
    from holdem.games.hunl.game import bucket_spec

    root.mkdir(parents=True, exist_ok=True)
    progress = root.parent / "buckets-progress.json"
    with open(root.parent / "buckets.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not progress.exists():
            seen: list[BuildProgress] = []
            build_buckets(bucket_spec(abstraction_from_config(SMALL_HUNL)), root, progress=seen.append)
            progress.write_text(json.dumps([dataclasses.asdict(p) for p in seen]))
    return [BuildProgress(**p) for p in json.loads(progress.read_text())]


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's holdem
    build_once(Path(sys.argv[1]))

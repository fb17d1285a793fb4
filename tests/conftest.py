"""What every test of the session shares: one numba cache and one hold'em bucket store, both private to
the checkout, so parallel workers (pytest-xdist) and the processes they start compile and build once.

The bucket store is the session's own (under pytest's base temp folder, which the xdist workers share
through their parent folder): a run always builds it afresh, the first worker that needs it builds it
under a file lock, and no test ever writes to the user's ~/.cache/holdem.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
from pathlib import Path

import pytest
from small_hunl import SMALL_HUNL

REPO = Path(__file__).resolve().parents[1]

# Read by numba when it is first imported, here and in every process the tests start: the pytest
# process, `holdem` subprocesses and the daemons' workers then share one cache (numba writes its
# cache files atomically, so concurrent writers are safe).
os.environ.setdefault("NUMBA_CACHE_DIR", str(REPO / ".pytest_cache" / "numba"))


def _shared_root(config: pytest.Config) -> Path:
    """A folder of this session that every xdist worker sees: the controller's base temp folder."""
    base = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    return base.parent if hasattr(config, "workerinput") else base


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the workers inherit the controller's environment
        os.environ["HOLDEM_BUCKETS"] = str(_shared_root(config) / "buckets")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups (--dist loadgroup)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests of a module with a module-scoped fixture (a trained blueprint, a daemon, a cluster) run on
    one worker, so the fixture is built once; every other test goes to whichever worker is free."""
    for item in items:
        fixtures = getattr(item, "_fixtureinfo", None)
        defs = fixtures.name2fixturedefs.values() if fixtures else ()
        if any(d.scope in ("module", "package") for chain in defs for d in chain):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


@pytest.fixture(scope="session")
def hunl_build(pytestconfig: pytest.Config) -> tuple[Path, list]:
    """(bucket root, every BuildProgress the build reported) of SMALL_HUNL, built once per session.

    The root is $HOLDEM_BUCKETS, so `holdem` processes that are given no --buckets-root find it too."""
    from holdem.abstraction.buckets import BuildProgress, build_buckets
    from holdem.games.hunl.betting import abstraction_from_config
    from holdem.games.hunl.game import bucket_spec

    root = Path(os.environ["HOLDEM_BUCKETS"])
    root.mkdir(parents=True, exist_ok=True)
    progress = root.parent / "buckets-progress.json"
    with open(root.parent / "buckets.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not progress.exists():
            seen: list[BuildProgress] = []
            build_buckets(bucket_spec(abstraction_from_config(SMALL_HUNL)), root, progress=seen.append)
            progress.write_text(json.dumps([dataclasses.asdict(p) for p in seen]))
    return root, [BuildProgress(**p) for p in json.loads(progress.read_text())]

"""What every test of the session shares, and how the session is spread over pytest-xdist workers.

Shared: one numba cache and one hold'em bucket store, both private to the checkout and the session,
so the workers and the processes they start compile and build once. The bucket store is under
pytest's base temp folder (which the xdist workers share through its parent folder): every session
builds it afresh (tests/bucket_store.py) and no test ever writes to the user's ~/.cache/holdem.

Spread (`make test`: -n 4 --dist loadgroup --no-loadscope-reorder): first the kernels nearly every
process needs are compiled once (tests/warm_numba.py); the tests of a module with a module-scoped
fixture are one group, so the fixture is built once; the workers take the long end-to-end tests
first, the hold'em tests once the bucket build that starts with the session is well under way, and
the many short tests last, where they even out the workers' ends.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from bucket_store import build_once
from warm_numba import warm

REPO = Path(__file__).resolve().parents[1]

# Read by numba when it is first imported, here and in every process the tests start: the pytest
# process, `holdem` subprocesses and the daemons' workers then share one cache (numba writes its
# cache files atomically, so concurrent writers are safe).
os.environ.setdefault("NUMBA_CACHE_DIR", str(REPO / ".pytest_cache" / "numba"))

LONG_FIRST = ("tests/e2e/", "tests/supervisor/test_sv_slurm.py", "tests/tui/")
_background_build: subprocess.Popen[bytes] | None = None


def _shared_root(config: pytest.Config) -> Path:
    """A folder of this session that every xdist worker sees: the controller's base temp folder."""
    base = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    return base.parent if hasattr(config, "workerinput") else base


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the workers inherit the controller's environment
        os.environ["HOLDEM_BUCKETS"] = str(_shared_root(config) / "buckets")


def pytest_sessionstart(session: pytest.Session) -> None:
    """With xdist workers to come (they start after this hook), compile the common kernels once first."""
    config = session.config
    controller = getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput")
    if controller and not config.option.collectonly:
        warm()


def _uses_buckets(item: pytest.Item) -> bool:
    return "hunl_build" in getattr(item, "fixturenames", ())


def _start_bucket_build(config: pytest.Config) -> None:
    """Build the bucket store in a process of its own, at once, if no other process has started it."""
    global _background_build
    root = Path(os.environ["HOLDEM_BUCKETS"])
    root.parent.mkdir(parents=True, exist_ok=True)
    try:
        marker = os.open(root.parent / "buckets.started", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.close(marker)
    with open(root.parent / "buckets.log", "wb") as log:
        _background_build = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("bucket_store.py")), str(root)],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _rank(item: pytest.Item) -> int:
    if _uses_buckets(item):
        return 1
    return 0 if item.nodeid.startswith(LONG_FIRST) else 2


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups (--dist loadgroup)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "_fixtureinfo", None)
        defs = fixtures.name2fixturedefs.values() if fixtures else ()
        if any(d.scope in ("module", "package") for chain in defs for d in chain):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    if hasattr(config, "workerinput"):  # spread over workers: every worker sorts alike
        items.sort(key=_rank)
    if not config.option.collectonly and any(_uses_buckets(item) for item in items):
        _start_bucket_build(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _background_build is not None and _background_build.poll() is None:
        _background_build.kill()  # the session ended before the build (an interrupted run)
        _background_build.wait()


@pytest.fixture
def short_tmp_path() -> Iterator[Path]:
    """A fresh folder with a short path, for a Unix socket deep inside it (an address holds 108 bytes,
    and an xdist worker's tmp_path is longer than a plain run's); removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="ht-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def hunl_build() -> tuple[Path, list]:
    """(bucket root, every BuildProgress the build reported) of SMALL_HUNL, built once per session.

    The root is $HOLDEM_BUCKETS, so `holdem` processes that are given no --buckets-root find it too."""
    root = Path(os.environ["HOLDEM_BUCKETS"])
    return root, build_once(root)

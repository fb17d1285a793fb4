"""Fixtures of the holdem tests."""

from __future__ import annotations

import os

import pytest
from holdem_proc import SMALL_HUNL, Worker


@pytest.fixture
def worker_factory():
    started: list[Worker] = []

    def make(*args: str | os.PathLike) -> Worker:
        w = Worker(*args)
        started.append(w)
        return w

    yield make
    for w in started:
        if w.proc.poll() is None:
            w.proc.kill()
            w.proc.wait()
        for stream in (w.proc.stdout, w.proc.stderr):
            stream.close()


@pytest.fixture(scope="session")
def hunl_buckets(hunl_build):
    """(bucket root, HunlGame) of SMALL_HUNL; the build is the session's (tests/conftest.py)."""
    from holdem.games.hunl.game import load_hunl

    root, _ = hunl_build
    return root, load_hunl(SMALL_HUNL, root, build_if_missing=False)

"""Fixtures of the holdem tests."""

from __future__ import annotations

import os

import pytest
from holdem_proc import Worker


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


# A small hold'em abstraction for tests: the features are exact whatever the bucket counts, so one
# build (about half a minute) serves every hold'em test of the session.
SMALL_HUNL = {"bet_sizes": {"preflop": [1.0], "flop": [1.0], "turn": [1.0], "river": [1.0]},
              "max_raises": {"preflop": 2, "flop": 1, "turn": 1, "river": 1},
              "buckets": {"preflop": 169, "flop": 8, "turn": 8, "river": 8}}


@pytest.fixture(scope="session")
def hunl_buckets(tmp_path_factory):
    """(bucket root, HunlGame) of SMALL_HUNL, built once per test session."""
    from holdem.games.hunl.game import load_hunl

    root = tmp_path_factory.mktemp("buckets")
    return root, load_hunl(SMALL_HUNL, root, build_if_missing=True)

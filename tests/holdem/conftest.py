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

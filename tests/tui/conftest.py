"""Fixtures of the TUI tests: a real holdemd per test, torn down with its workers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tui_harness import Holdemd


@pytest.fixture
def holdemd() -> Iterator[Holdemd]:
    d = Holdemd()
    try:
        yield d
    finally:
        d.cleanup()

"""Run the real `holdem` command as a subprocess and read its event stream (tests only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from small_hunl import SMALL_HUNL

REPO = Path(__file__).resolve().parents[2]


def write_config(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


class Worker:
    """A running `holdem ...` process whose stdout is the JSON Lines event stream."""

    def __init__(self, *args: str | os.PathLike) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "holdem", *map(str, args)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self.stdout, self.stderr = self.proc.stdout, self.proc.stderr
        self.events: list[dict] = []

    def next_event(self) -> dict | None:
        line = self.stdout.readline()
        if not line:
            return None
        event = json.loads(line)  # nothing but JSON ever reaches stdout
        self.events.append(event)
        return event

    def wait_for(self, kind: str) -> dict:
        while (event := self.next_event()) is not None:
            if event["event"] == kind:
                return event
        raise AssertionError(f"stream ended without {kind!r}; stderr:\n{self.stderr.read()}")

    def finish(self, timeout: float = 120) -> tuple[int, str]:
        while self.next_event() is not None:
            pass
        code = self.proc.wait(timeout=timeout)
        return code, self.stderr.read()

    def __iter__(self) -> Iterator[dict]:
        while (event := self.next_event()) is not None:
            yield event


__all__ = ["REPO", "SMALL_HUNL", "Worker", "write_config"]

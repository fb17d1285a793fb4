"""A real holdemd (real `holdem train` workers on Kuhn) in a temporary folder, for the TUI tests.

Readiness and conditions are awaited by polling the real socket with a deadline, never by
guessing a sleep. The socket lives under a short /tmp folder of fixed length (a Unix socket path
is limited to 108 bytes, and the snapshot tests want every path to have the same length).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from textual.css.query import NoMatches

from supervisor.protocol import Client, ProtocolError, decode, encode

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable
KUHN = REPO / "holdem" / "configs" / "kuhn.yaml"
# Workers at a lower priority, for runs that only have to be running while a test looks at them: they
# train whenever a core is free and give way to the rest of the suite when none is.
NICE_WORKERS = ("--worker-cmd", f"nice -n 10 {PY} -m holdem.cli")
LONG_RUN = (*NICE_WORKERS, "--instances", "2", "--config", str(KUHN), "--iters", str(2 * 10**9), "--seed", "7")


class Holdemd:
    """One daemon process with its state dir, runs root and socket under a fresh /tmp folder."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="htui-", dir="/tmp"))
        self.sock = self.root / "holdemd.sock"
        self.proc: subprocess.Popen[bytes] | None = None
        self.env = dict(os.environ)  # with the session's NUMBA_CACHE_DIR and HOLDEM_BUCKETS (tests/conftest.py)
        self.env.pop("NOTIFY_SOCKET", None)

    def argv(self, extra: Sequence[str]) -> list[str]:
        return [
            PY,
            "-m",
            "supervisor.daemon",
            "start",
            "--state-dir",
            str(self.root / "state"),
            "--runs-root",
            str(self.root / "runs"),
            "--socket",
            str(self.sock),
            "--backoff-base",
            "0.2",
            "--stop-timeout",
            "30",
            *extra,
        ]

    def start(self, *extra: str, timeout: float = 60.0) -> None:
        """Start holdemd and return once it answers `ping` on its socket."""
        with open(self.root / "holdemd.out", "ab") as out:
            self.proc = subprocess.Popen(self.argv(extra), env=self.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.request("ping")
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"holdemd exited {self.proc.returncode}:\n{self.output()}") from None
                if time.monotonic() > deadline:
                    raise TimeoutError(f"holdemd did not answer in {timeout}s:\n{self.output()}") from None
                time.sleep(0.05)

    def request(self, method: str, params: dict[str, Any] | None = None, timeout: float = 60.0) -> dict[str, Any]:
        """A blocking call (for sync tests and set-up); raises OSError when there is no daemon."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(self.sock))
            s.sendall(encode({"id": 1, "method": method, "params": params or {}}))
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(1 << 16)
                if not chunk:
                    raise ConnectionResetError("holdemd closed the connection")
                buf += chunk
        reply = decode(buf)
        if "error" in reply:
            raise ProtocolError(reply["error"]["code"], reply["error"]["message"])
        return reply["result"]

    def run(self) -> dict[str, Any]:
        """The newest run, as `runs.list` reports it."""
        runs = self.request("runs.list")["runs"]
        return runs[0] if runs else {}

    def wait_run(self, pred: Callable[[dict[str, Any]], Any], timeout: float = 60.0, what: str = "") -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            run = self.run()
            if pred(run):
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what or 'condition'} not reached: {json.dumps(run)[:2000]}\n{self.output()}")
            time.sleep(0.05)

    async def arun(self) -> dict[str, Any]:
        """`run()` without blocking the event loop the app under test runs on."""
        async with Client(self.sock, connect_timeout=5.0, call_timeout=60.0) as c:
            runs = (await c.call("runs.list"))["runs"]
        return runs[0] if runs else {}

    def output(self) -> str:
        try:
            return (self.root / "holdemd.out").read_text()[-4000:]
        except OSError:
            return ""

    def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        self.proc.wait(60)

    def stop(self) -> None:
        """SIGTERM (children checkpoint and exit), then wait; SIGKILL if it will not go."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cleanup(self) -> None:
        self.stop()
        _kill_strays(self.root)
        shutil.rmtree(self.root, ignore_errors=True)


def _kill_strays(root: Path) -> None:
    """Workers orphaned by a SIGKILLed daemon in a test: end them by pid (found by their folder)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if str(root).encode() in cmd and b"train" in cmd:
            try:
                os.kill(int(proc.name), signal.SIGKILL)
            except OSError:
                pass


async def until(pilot: Any, pred: Callable[[], Any], timeout: float = 90.0, what: str = "condition") -> Any:
    """Let the app run until `pred()` is truthy; fail with `what` after `timeout` seconds.

    The default is generous because a worker's first start on a cold numba cache compiles its
    kernels; a passing test waits only as long as the condition takes."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = pred()
        except NoMatches:  # the screen it looks at is not composed yet
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def painted(app: Any) -> str:
    """The text the terminal shows now: the screen's compositor drawn in full, as a screenshot is.

    A widget's own render() can hold the right text while nothing of it reaches the screen; this is
    what the user sees."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    if not update.region.area:  # a screen not laid out yet shows nothing
        return ""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, record=True)
    try:
        console.print(update)
    except TypeError:  # a line the compositor has not drawn (None): nothing shows there either
        return ""
    return console.export_text()


async def auntil(coro_pred: Callable[[], Any], pilot: Any, timeout: float = 90.0, what: str = "") -> Any:
    """Like `until`, for an async predicate (e.g. one that asks the daemon)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await coro_pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or 'condition'}")
        await pilot.pause(0.1)


__all__ = ["KUHN", "LONG_RUN", "NICE_WORKERS", "REPO", "Holdemd", "asyncio", "auntil", "painted", "until"]

"""A real holdemd in a subprocess, driven through its real socket, for the supervisor tests.

Readiness is awaited through sd_notify (the harness owns a real NOTIFY_SOCKET datagram socket and
waits for READY=1), and conditions are awaited on the daemon's event stream, never by sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from supervisor.protocol import Client, DaemonUnavailable, ProtocolError

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable
FAKE_WORKER = (PY, str(REPO / "tests" / "supervisor" / "fake_worker.py"))
REAL_WORKER = (PY, "-m", "holdem.cli")
# The real worker at a lower priority, for runs that only have to be running while a test looks at them:
# they train whenever a core is free and give way to the rest of the suite when none is.
REAL_WORKER_NICE = ("nice", "-n", "10", *REAL_WORKER)


class HoldemD:
    """One daemon process with its own state dir, runs root and socket under `root`."""

    def __init__(
        self,
        root: Path,
        worker: Sequence[str] = FAKE_WORKER,
        env: dict[str, str] | None = None,
        args: Sequence[str] = (),
    ) -> None:
        self.root = root
        self.state = root / "state"
        self.runs = root / "runs"
        self.sock = root / "holdemd.sock"
        self.worker = tuple(worker)
        self.env = {**os.environ, **(env or {})}
        self.args = list(args)
        self.proc: subprocess.Popen[bytes] | None = None
        self.notify_path = root / "notify.sock"
        self.notify: socket.socket | None = None

    def argv(self, extra: Sequence[str] = ()) -> list[str]:
        return [
            PY,
            "-m",
            "supervisor.daemon",
            "start",
            "--state-dir",
            str(self.state),
            "--runs-root",
            str(self.runs),
            "--socket",
            str(self.sock),
            "--worker-cmd",
            " ".join(self.worker),
            *self.args,
            *extra,
        ]

    async def start(self, *extra: str, timeout: float = 60.0) -> None:
        """Start holdemd and return once it has sent READY=1."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.notify_path.unlink(missing_ok=True)
        if self.notify is not None:
            self.notify.close()
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(str(self.notify_path))
        self.notify.setblocking(False)
        env = {**self.env, "NOTIFY_SOCKET": str(self.notify_path)}
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "holdemd.out", "ab") as out:
            self.proc = subprocess.Popen(self.argv(extra), env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        await self.wait_notify("READY=1", timeout)

    async def wait_notify(self, needle: str, timeout: float = 30.0) -> str:
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + timeout
        assert self.notify is not None
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {needle} from holdemd; output:\n{self.output()}")
            try:
                data = await asyncio.wait_for(loop.sock_recv(self.notify, 65536), min(left, 1.0))
            except TimeoutError:
                if self.proc is not None and self.proc.poll() is not None:
                    raise RuntimeError(f"holdemd exited {self.proc.returncode}:\n{self.output()}") from None
                continue
            text = data.decode()
            # "KEY=VALUE" matches exactly; "KEY=" matches any value of KEY
            if any(line == needle or (needle.endswith("=") and line.startswith(needle)) for line in text.split("\n")):
                return text

    def output(self) -> str:
        try:
            return (self.root / "holdemd.out").read_text()[-6000:]
        except OSError:
            return ""

    def client(self) -> Client:
        return Client(self.sock, connect_timeout=10.0, call_timeout=180.0)

    async def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        async with self.client() as c:
            return await c.call(method, params or {})

    async def status(self, run: str | None = None) -> dict[str, Any]:
        res = await self.call("status", {"run": run} if run else {})
        return res["runs"][0] if run or res["runs"] else {}

    async def wait_until(
        self,
        pred: Callable[[dict[str, Any]], Any],
        run: str | None = None,
        timeout: float = 120.0,
        what: str = "condition",
    ) -> dict[str, Any]:
        """Re-check `pred(run status)` on every state/checkpoint event until it holds."""
        deadline = time.monotonic() + timeout
        events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        async with self.client() as c:

            async def pump() -> None:
                async for ev in c.subscribe({"run": run} if run else {}):
                    if ev.get("event") != "log":
                        events.put_nowait(ev)

            task = asyncio.create_task(pump())
            try:
                st = await self.status(run)
                last_check = time.monotonic()
                while not pred(st):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError(f"{what} not reached; status:\n{json.dumps(st, indent=1)}\n{self.output()}")
                    try:
                        ev = await asyncio.wait_for(events.get(), min(left, 1.0))
                    except TimeoutError:
                        ev = {"event": "state"}
                    if ev.get("event") in ("state", "checkpoint") or time.monotonic() - last_check > 0.25:
                        st = await self.status(run)
                        last_check = time.monotonic()
                return st
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    async def wait_exit(self, timeout: float = 120.0) -> int:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError("holdemd did not exit")
            await asyncio.sleep(0.05)
        return self.proc.returncode

    async def kill9(self) -> None:
        self.signal(signal.SIGKILL)
        await self.wait_exit()

    async def stop(self) -> None:
        """Test teardown: SIGTERM and wait; SIGKILL if it will not go."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await self.wait_exit(60.0)
            except TimeoutError:
                self.proc.kill()
                self.proc.wait()
        if self.notify is not None:
            self.notify.close()
            self.notify = None


def instance_pids(status: dict[str, Any]) -> list[int]:
    return [i["pid"] for i in status.get("instances", []) if i.get("pid")]


def write_config(path: Path, game: str = "kuhn", iterations: int = 2000) -> Path:
    path.write_text(
        f"game: {game}\nalgorithm: mccfr\niterations: {iterations}\n"
        "checkpoint:\n  every_iterations: 500\n  every_seconds: 5\n  keep: 3\n"
    )
    return path


def final_checkpoint_hashes(run_dir: Path) -> dict[int, dict[str, str]]:
    """Per instance, the sha256 of every array in its newest checkpoint's manifest."""
    out: dict[int, dict[str, str]] = {}
    for inst in sorted((run_dir / "instances").iterdir(), key=lambda p: int(p.name)):
        ckpts = sorted(p for p in (inst / "checkpoints").iterdir() if p.name[0].isdigit())
        manifest = json.loads((ckpts[-1] / "manifest.json").read_text())
        out[int(inst.name)] = {
            "iteration": manifest["iteration"],
            **{name: f["sha256"] for name, f in manifest["files"].items()},
        }
    return out


@contextlib.contextmanager
def tmpfs(mnt: Path, size: str) -> Iterator[Path]:
    """A small real file system of our own (root only), unmounted afterwards; skips the test if
    mounting is impossible here."""
    import pytest

    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(mnt)], capture_output=True, text=True
    )
    if out.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {out.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(mnt: Path) -> Path:
    """Take every free byte of the file system (big blocks, then small ones); returns the filler."""
    filler = mnt / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for block in (1 << 20, 1 << 12, 1):
            data = b"\0" * block
            while True:
                try:
                    os.write(fd, data)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    return filler


__all__ = [
    "FAKE_WORKER",
    "REAL_WORKER",
    "REAL_WORKER_NICE",
    "DaemonUnavailable",
    "HoldemD",
    "ProtocolError",
    "fill",
    "final_checkpoint_hashes",
    "instance_pids",
    "tmpfs",
    "write_config",
]


def leduc_config(path: Path, every: int = 100_000) -> Path:
    """Leduc external-sampling MCCFR with a checkpoint every `every` iterations and progress every 50 ms."""
    path.write_text(
        "game: leduc\nalgorithm: es-mccfr\niterations: 1000000\n"
        "cfr: {averaging: linear, linear_regrets: true}\n"
        f"checkpoint: {{every_iterations: {every}, every_seconds: 0, keep: 2}}\n"
        "metrics: {progress_interval_s: 0.05, exploitability_every_s: 0}\n"
    )
    return path


def finished(status: dict[str, Any]) -> bool:
    return status.get("state") in ("done", "failed")


async def raw(d: HoldemD) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A bare connection to the daemon's socket, for requests no client would send."""
    return await asyncio.open_unix_connection(str(d.sock), limit=4 << 20)


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes) -> dict[str, Any]:
    writer.write(data)
    await writer.drain()
    return json.loads(await asyncio.wait_for(reader.readline(), 30))

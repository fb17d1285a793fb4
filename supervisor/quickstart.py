"""`make run`: holdemd on configs/quickstart.yaml with 2 instances, in a private folder, watched.

Everything lives under ./runs/quickstart/ (state/, runs/, holdemd.sock, holdemd.out), so it never
touches a system daemon. If a previous quickstart was interrupted, its run is resumed instead of
starting over. On a terminal holdem-tui is attached (quitting it stops the daemon, whose children
checkpoint); otherwise one progress line a second is printed until the run ends, then the daemon is
stopped and the exit code is 0 for done, 1 for failed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from .protocol import Client, ProtocolError

REPO = Path(__file__).resolve().parent.parent
FINAL = ("done", "failed")


def _socket_for(root: Path) -> Path:
    path = root / "holdemd.sock"
    # sun_path holds 108 bytes; a deep checkout falls back to a private temporary folder
    return path if len(str(path)) < 100 else Path(tempfile.mkdtemp(prefix="holdemd-")) / "holdemd.sock"


def _wait_ready(notify: socket.socket, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        notify.settimeout(0.5)
        try:
            if "READY=1" in notify.recv(65536).decode().split("\n"):
                return
        except TimeoutError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"holdemd exited with {proc.returncode} before it was ready")
    raise RuntimeError("holdemd did not become ready in time")


def start_daemon(root: Path, sock: Path, config: Path, instances: int,
                 extra: Sequence[str] = ()) -> subprocess.Popen[bytes]:
    """holdemd in the background with everything under root; returns once it reports READY=1."""
    root.mkdir(parents=True, exist_ok=True)
    notify_path = Path(tempfile.mkdtemp(prefix="holdemd-notify-")) / "n"
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(notify_path))
    argv = [sys.executable, "-m", "supervisor.daemon", "start", "--instances", str(instances), "--config",
            str(config), "--state-dir", str(root / "state"), "--runs-root", str(root / "runs"), "--socket", str(sock),
            *extra]
    env = {**os.environ, "NOTIFY_SOCKET": str(notify_path)}
    env.setdefault("NUMBA_CACHE_DIR", str(root / "numba-cache"))
    with open(root / "holdemd.out", "ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO,
                                start_new_session=True)
    try:
        _wait_ready(notify, proc, 120.0)
    finally:
        notify.close()
        notify_path.unlink(missing_ok=True)
        notify_path.parent.rmdir()
    return proc


def stop_daemon(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(300)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def progress_line(run: dict) -> str:
    insts = run["instances"]
    done = sum(i["iter"] for i in insts)
    target = sum(i["target_iters"] or 0 for i in insts)
    ips = sum(i["ips"] for i in insts if i["state"] == "running")
    pct = f"{100 * done / target:5.1f}%" if target else "  ?  "
    states = " ".join(f"[{i['index']}]{i['state']}" for i in insts)
    return f"{time.strftime('%H:%M:%S')} run {run['id']} {run['state']:<9} {pct} {done:,}/{target:,} " \
           f"{ips:,.0f} it/s  {states}"


async def follow(sock: Path, interval: float = 1.0) -> str:
    """Print one line per `interval` until the newest run ends; return its final state."""
    return (await follow_run(sock, interval))["state"]


async def follow_run(sock: Path, interval: float = 1.0) -> dict:
    """Print one line per `interval` until the newest run ends; return its final status."""
    async with Client(sock, call_timeout=60) as c:
        while True:
            runs = (await c.call("status"))["runs"]
            if runs:
                run = runs[0]
                print(progress_line(run), flush=True)
                if run["state"] in FINAL:
                    if run.get("reason"):
                        print(f"  {run['reason']}", flush=True)
                    if run.get("merged"):
                        print(f"  merged blueprint: {run['merged']}", flush=True)
                    return run
            await asyncio.sleep(interval)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m supervisor.quickstart", description=__doc__.splitlines()[0])
    p.add_argument("--root", type=Path, default=Path("runs/quickstart"))
    p.add_argument("--config", type=Path, default=REPO / "configs" / "quickstart.yaml")
    p.add_argument("--instances", type=int, default=2)
    p.add_argument("--no-tui", action="store_true", help="print progress lines even on a terminal")
    args = p.parse_args(argv)
    root = args.root.resolve()
    sock = _socket_for(root)
    proc = start_daemon(root, sock, args.config.resolve(), args.instances)
    print(f"holdemd (pid {proc.pid}) is training; its files are in {root}", flush=True)
    try:
        if sys.stdout.isatty() and not args.no_tui and (REPO / "tui" / "app.py").exists():
            subprocess.run([sys.executable, "-m", "tui.app", "--socket", str(sock)], cwd=REPO)
            state = "stopped"
        else:
            state = asyncio.run(follow(sock))
    except KeyboardInterrupt:
        state = "stopped"
    except ProtocolError as exc:
        print(f"quickstart: {exc.message} (see {root / 'holdemd.out'})", file=sys.stderr)
        state = "failed"
    finally:
        stop_daemon(proc)
    if state == "stopped":
        print("holdemd stopped; its instances checkpointed. `make run` again resumes the run.")
    return 1 if state == "failed" else 0


if __name__ == "__main__":
    sys.exit(main())

"""`make run`: holdemd on configs/quickstart.yaml with 2 instances, in a private folder, watched.

Everything lives under ./runs/quickstart/ (state/, runs/, holdemd.sock, holdemd.out), so it never
touches a system daemon. If a previous quickstart was interrupted, its run is resumed instead of
starting over; after a finished one a fresh run starts; either way it says which. On a terminal
holdem-tui is attached (quitting it stops the daemon, whose children checkpoint); otherwise one
progress line a second is printed until the run ends, then the daemon is stopped and the exit code
is 0 for done, 1 for failed. A finished run ends with what to do with its blueprint.
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

from supervisor.config import builtin_config
from supervisor.ctl.format import progress_line as run_progress_line
from supervisor.protocol import Client, ProtocolError, RunInfo

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


def start_daemon(
    root: Path, sock: Path, config: Path, instances: int, extra: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    """holdemd in the background with everything under root; returns once it reports READY=1."""
    root.mkdir(parents=True, exist_ok=True)
    notify_path = Path(tempfile.mkdtemp(prefix="holdemd-notify-")) / "n"
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(notify_path))
    argv = [
        sys.executable,
        "-m",
        "supervisor.daemon",
        "start",
        "--instances",
        str(instances),
        "--config",
        str(config),
        "--state-dir",
        str(root / "state"),
        "--runs-root",
        str(root / "runs"),
        "--socket",
        str(sock),
        *extra,
    ]
    env = {**os.environ, "NOTIFY_SOCKET": str(notify_path)}
    env.setdefault("NUMBA_CACHE_DIR", str(root / "numba-cache"))
    with open(root / "holdemd.out", "ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO, start_new_session=True)
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
    return run_progress_line(RunInfo.from_dict(run))


async def announce(sock: Path) -> dict | None:
    """Say what this start does: resume an interrupted run, or start a fresh one (and why)."""
    async with Client(sock, call_timeout=60) as c:
        runs = (await c.call("runs.list"))["runs"]
    active = [r for r in runs if r["state"] not in ("done", "failed", "stopped")]
    if not active:
        return None
    run = active[0]
    earlier = [r for r in runs if r["id"] != run["id"] and r["state"] in FINAL]
    if (run.get("origin") or "").startswith("resumed"):
        done = sum(i["iter"] for i in run["instances"])
        target = sum(i["target_iters"] or 0 for i in run["instances"])
        at = f" at {100 * done / target:.1f}%" if target else ""
        print(f"resuming run {run['id']}{at}: it was interrupted before it finished", flush=True)
    elif earlier:
        last = earlier[0]
        where = f"; its blueprint stays in {last['merged']}" if last.get("merged") else ""
        print(f"starting a fresh run {run['id']}: the previous run {last['id']} is {last['state']}{where}", flush=True)
    else:
        print(f"starting a fresh run {run['id']}", flush=True)
    return run


def next_steps(run: dict) -> list[str]:
    """What to do with a finished run's blueprint, as commands to copy."""
    merged = run.get("merged")
    if run.get("state") != "done" or not merged:
        return []
    holdem = Path(sys.executable).parent / "holdem"
    shown = os.path.relpath(holdem) if holdem.is_relative_to(Path.cwd()) else str(holdem)
    if _game_of(Path(run["dir"])) == "hunl":
        steps = [
            ("measure it against a bot that always calls", f"{shown} match {merged} call --hands 20000"),
            ("play against it yourself", f"{shown} play {merged}"),
            ("read its preflop strategy, by hand class", f"{shown} export {merged} --out preflop.json"),
        ]
    else:
        steps = [
            ("how far it is from a Nash equilibrium", f"{shown} eval {merged} --exploitability"),
            ("read its strategy", f"{shown} export {merged} --out policy.json"),
        ]
    lines = ["next:"]
    for what, cmd in steps:
        lines += [f"  {what}:", f"    {cmd}"]
    lines.append("  `make run` again starts a fresh run (this one stays in its folder).")
    return lines


def _game_of(run_dir: Path) -> str | None:
    import yaml

    try:
        frozen = yaml.safe_load((run_dir / "run.yaml").read_text())
        return str(frozen["config"].get("game"))
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError):
        return None


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
    p.add_argument("--config", type=Path, default=builtin_config("quickstart"))
    p.add_argument("--instances", type=int, default=2)
    p.add_argument("--no-tui", action="store_true", help="print progress lines even on a terminal")
    args = p.parse_args(argv)
    root = args.root.resolve()
    sock = _socket_for(root)
    try:
        proc = start_daemon(root, sock, args.config.resolve(), args.instances)
    except RuntimeError as exc:  # e.g. a config that holdem check-config refuses: say why, no traceback
        said = [line for line in (root / "holdemd.out").read_text(errors="replace").splitlines() if line.strip()]
        print(f"quickstart: {exc}" + (f": {said[-1]}" if said else ""), file=sys.stderr)
        return 1
    print(f"holdemd (pid {proc.pid}) is training; its files are in {root}", flush=True)
    final: dict = {}
    try:
        asyncio.run(announce(sock))
        if sys.stdout.isatty() and not args.no_tui and (REPO / "tui" / "app.py").exists():
            subprocess.run([sys.executable, "-m", "tui.app", "--socket", str(sock)], cwd=REPO)
            newest = asyncio.run(_newest(sock))
            final = newest or {}
            state = final.get("state") if final.get("state") in FINAL else "stopped"
        else:
            final = asyncio.run(follow_run(sock))
            state = final["state"]
    except KeyboardInterrupt:
        state = "stopped"
    except ProtocolError as exc:
        print(f"quickstart: {exc.message} (see {root / 'holdemd.out'})", file=sys.stderr)
        state = "failed"
    finally:
        stop_daemon(proc)
    if state == "stopped":
        print("holdemd stopped; its instances checkpointed. `make run` again resumes the run.")
    for line in next_steps(final):
        print(line)
    return 1 if state == "failed" else 0


async def _newest(sock: Path) -> dict | None:
    async with Client(sock, call_timeout=60) as c:
        runs = (await c.call("status"))["runs"]
    return runs[0] if runs else None


if __name__ == "__main__":
    sys.exit(main())

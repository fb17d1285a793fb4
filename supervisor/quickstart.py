"""`make run`: holdemd on configs/quickstart.yaml with 2 instances, in a private folder, watched.

Everything lives under ./runs/quickstart/ (state/, runs/, holdemd.sock, holdemd.out), so it never
touches a system daemon; holdemctl and holdem-tui find that socket by themselves. A `make run` while
its daemon runs attaches to it instead of starting another. If a previous quickstart was interrupted,
its run is resumed instead of starting over; after a finished one a fresh run starts; either way it
says which. On a terminal holdem-tui is attached: `q` leaves holdemd training (the socket and the
commands to come back are printed), `Q` stops it (its children checkpoint; the next `make run`
resumes), and a daemon with nothing left to do is stopped either way. Otherwise one progress line a
second is printed until the run ends (and its evaluation ladder, for hold'em); the exit code is 0 for
done, 1 for failed or stopped from outside. A finished run ends with what to do with its blueprint.
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
from supervisor.protocol import Client, DaemonUnavailable, ProtocolError, RunInfo
from supervisor.protocol.describe import summary_line
from supervisor.protocol.messages import QUICKSTART_SOCKET, listening

REPO = Path(__file__).resolve().parent.parent
FINAL = ("done", "failed", "stopped")
EVAL_APPEARS_S = 10.0  # after a hold'em run is done, how long its automatic ladder may take to show
EVAL_LINE_EVERY_S = 5.0
STOP_HOLDEMD = 3  # holdem-tui's exit status for `Q` (tui.app.STOP_HOLDEMD; the supervisor imports no TUI)


def _socket_for(root: Path) -> Path:
    """Where the daemon listens. sun_path holds 108 bytes: a deep checkout gets a private temporary
    folder, and root/holdemd.sock becomes a symlink to it (made by `_link_socket`) for the clients."""
    path = root / QUICKSTART_SOCKET.name
    return path if len(str(path)) < 100 else Path(tempfile.mkdtemp(prefix="holdemd-")) / QUICKSTART_SOCKET.name


def _link_socket(root: Path, sock: Path) -> None:
    link = root / QUICKSTART_SOCKET.name
    if link != sock:
        link.unlink(missing_ok=True)
        link.symlink_to(sock)


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


def stop_pid(pid: int, sock: Path, timeout: float = 300.0) -> None:
    """SIGTERM a daemon this process did not start (an attached `make run`) and wait until its socket is
    gone: its children checkpoint first."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while listening(sock) and time.monotonic() < deadline:
        time.sleep(0.2)


def progress_line(run: dict) -> str:
    return run_progress_line(RunInfo.from_dict(run))


def shown(path: Path) -> str:
    """A path as a user at the shell would type it: relative below the current folder."""
    return os.path.relpath(path) if path.is_relative_to(Path.cwd()) else str(path)


def come_back(sock: Path, pid: int | None) -> list[str]:
    """The exact commands to watch, query and stop this daemon, for whoever leaves it training."""
    bin_dir = Path(sys.executable).parent
    tui, ctl = shown(bin_dir / "holdem-tui"), shown(bin_dir / "holdemctl")
    return [
        f"  watch it:   {tui} --socket {sock}   (or `make run` again)",
        f"  status:     {ctl} --socket {sock} status",
        f"  stop a run: {ctl} --socket {sock} stop   (it checkpoints; `holdemctl resume` continues it)",
        f"  end holdemd: kill {pid if pid else '<its pid>'}   (its instances checkpoint; `make run` resumes them)",
    ]


def _at(run: dict) -> str:
    done = sum(i["iter"] for i in run["instances"])
    target = sum(i["target_iters"] or 0 for i in run["instances"])
    return f" at {100 * done / target:.1f}%" if target else ""


async def announce(sock: Path, attached: bool = False) -> dict | None:
    """Say what this start does: resume an interrupted run, or start a fresh one (and why); attached to
    a running daemon, which run it has."""
    async with Client(sock, call_timeout=60) as c:
        runs = (await c.call("runs.list"))["runs"]
    active = [r for r in runs if r["state"] not in FINAL]
    if attached:
        run = (active or runs or [None])[0]
        print(f"its newest run {run['id']} is {run['state']}{_at(run)}" if run else "it has no run", flush=True)
        return run
    if not active:
        return None
    run = active[0]
    earlier = [r for r in runs if r["id"] != run["id"] and r["state"] in ("done", "failed")]
    if (run.get("origin") or "").startswith("resumed"):
        print(f"resuming run {run['id']}{_at(run)}: it was interrupted before it finished", flush=True)
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
    holdem = shown(Path(sys.executable).parent / "holdem")
    if _game_of(Path(run["dir"])) == "hunl":
        steps = [
            ("measure it against a bot that always calls", f"{holdem} match {merged} call --hands 20000"),
            ("play against it yourself", f"{holdem} play {merged}"),
            ("read its preflop strategy, by hand class", f"{holdem} export {merged} --out preflop.json"),
        ]
    else:
        steps = [
            ("how far it is from a Nash equilibrium", f"{holdem} eval {merged} --exploitability"),
            ("read its strategy", f"{holdem} export {merged} --out policy.json"),
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


async def follow_run(sock: Path, interval: float = 1.0, wait_eval: bool = False) -> dict:
    """Print one line per `interval` until the newest run is done, failed or stopped (and, with
    wait_eval, until the evaluation ladder a done hold'em run gets has finished); return its status."""
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
                    if wait_eval and run["state"] == "done":
                        run = await _follow_eval(c, run)
                    return run
            await asyncio.sleep(interval)


async def _follow_eval(c: Client, run: dict) -> dict:
    """`evaluating…` lines while the automatic ladder of a done hold'em run runs, then its summary."""
    if run.get("game") != "hunl":
        return run
    appears_by = time.monotonic() + EVAL_APPEARS_S
    said = 0.0
    while True:
        ev = run.get("eval")
        if ev is None and time.monotonic() > appears_by:
            return run  # a daemon started with --no-auto-eval
        if ev is not None and ev.get("state") != "running":
            print(f"  {summary_line(ev)}", flush=True)
            return run
        if ev is not None and time.monotonic() - said >= EVAL_LINE_EVERY_S:
            since = time.time() - (ev.get("started") or time.time())
            print(
                f"{time.strftime('%H:%M:%S')} evaluating… the ladder (bots, LBR-fc, probes), {since:.0f}s", flush=True
            )
            said = time.monotonic()
        await asyncio.sleep(1.0)
        run = (await c.call("status", {"run": run["id"]}))["runs"][0]


async def _status(sock: Path) -> dict:
    async with Client(sock, call_timeout=60) as c:
        return await c.call("status")


def _busy(status: dict) -> bool:
    """Has the daemon work left: an active run, or a ladder running?"""
    return any(r["state"] not in FINAL or (r.get("eval") or {}).get("state") == "running" for r in status["runs"])


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m supervisor.quickstart", description=__doc__.splitlines()[0])
    p.add_argument("--root", type=Path, default=QUICKSTART_SOCKET.parent)
    p.add_argument("--config", type=Path, default=builtin_config("quickstart"))
    p.add_argument("--instances", type=int, default=2)
    p.add_argument("--no-tui", action="store_true", help="print progress lines even on a terminal")
    args = p.parse_args(argv)
    root = args.root.resolve()
    proc: subprocess.Popen[bytes] | None = None
    if listening(root / QUICKSTART_SOCKET.name):  # an earlier `make run` still runs: attach to it
        sock = (root / QUICKSTART_SOCKET.name).resolve()
        pid = asyncio.run(_status(sock))["daemon"]["pid"]
        print(f"attaching to holdemd (pid {pid}), started by an earlier `make run`; its files are in {root}")
    else:
        sock = _socket_for(root)
        try:
            proc = start_daemon(root, sock, args.config.resolve(), args.instances)
        except RuntimeError as exc:  # e.g. a config that holdem check-config refuses: say why, no traceback
            said = [line for line in (root / "holdemd.out").read_text(errors="replace").splitlines() if line.strip()]
            print(f"quickstart: {exc}" + (f": {said[-1]}" if said else ""), file=sys.stderr)
            return 1
        _link_socket(root, sock)
        pid = proc.pid
        print(f"holdemd (pid {pid}) is training; its files are in {root}", flush=True)
    print(f"its socket: {sock}", flush=True)
    tui = sys.stdout.isatty() and not args.no_tui and (REPO / "tui" / "app.py").exists()
    final: dict = {}
    state = "stopped"
    keep = False  # `q` while the daemon has work: it goes on, and we say how to come back
    try:
        asyncio.run(announce(sock, attached=proc is None))
        if tui:
            code = subprocess.run([sys.executable, "-m", "tui.app", "--socket", str(sock), "--quickstart"]).returncode
            status = asyncio.run(_status(sock))
            final = status["runs"][0] if status["runs"] else {}
            keep = code != STOP_HOLDEMD and _busy(status)
            state = str(final["state"]) if final.get("state") in ("done", "failed") else "stopped"
        else:
            print(*come_back(sock, pid), sep="\n", flush=True)
            final = asyncio.run(follow_run(sock, wait_eval=True))
            state = final["state"]
    except KeyboardInterrupt:
        state = "stopped"
    except DaemonUnavailable as exc:  # stopped from outside, or by the `make run` that started it
        print(f"quickstart: holdemd went away: {exc.message} (see {root / 'holdemd.out'})", file=sys.stderr)
        return 1
    except ProtocolError as exc:
        print(f"quickstart: {exc.message} (see {root / 'holdemd.out'})", file=sys.stderr)
        return 1
    finally:
        if proc is not None and not keep:
            stop_daemon(proc)
    if keep:
        print(f"holdemd (pid {pid}) goes on training; come back with:", *come_back(sock, pid), sep="\n")
        return 0
    if proc is None and tui:
        stop_pid(pid, sock)  # attached: `Q` asked for it, or it has nothing left to do
    if not tui and final.get("state") == "stopped":  # by `holdemctl stop` or the TUI of another make run
        print(f"quickstart: run stopped: {final['id']} ({final.get('reason') or 'from outside'})", file=sys.stderr)
        return 1
    if state == "stopped":
        print("holdemd stopped; its instances checkpointed. `make run` again resumes the run.")
    for line in next_steps(final):
        print(line)
    return 1 if state == "failed" else 0


if __name__ == "__main__":
    sys.exit(main())

"""holdem-tui under load: the dashboard of a run of 16 real `holdem train` Kuhn instances, each
sending progress every 50 ms (320 events/s), attached to a real holdemd.

Measures, over a window once every instance is running: the TUI's CPU share of one core (this
process, which runs only the app headless at 160x48; the daemon and workers are children with
their own CPU), the event-to-screen latency (the child's `t` on a progress line to the frame that
shows it having been drawn) for the newest event of each frame and for the oldest one (which
waited longest for the frame), p50/p95/p99, frames drawn per second and events folded in per second.
Prints one JSON object. Goals: latency p99 < 1 s; CPU a small fraction of a core.

    .venv/bin/python benchmarks/tui_load.py [--instances 16] [--seconds 20] [--size 160x48] [--worker fake]

`--worker fake` streams the same events from tests/supervisor/fake_worker.py, which sleeps between
them: the TUI's own cost without 16 solvers competing with it for the cores (on a 2-core machine
the real workers' load, niced or not, is what delays the TUI's event loop).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from supervisor.protocol import encode  # noqa: E402
from tui.app import HoldemApp  # noqa: E402
from tui.screens.dashboard import DashboardScreen  # noqa: E402

KUHN = """game: kuhn
algorithm: cfr+
iterations: 1000000000
checkpoint: {every_iterations: 0, every_seconds: 30, keep: 2}
metrics: {progress_interval_s: 0.05, exploitability_every_s: 1.0}
"""


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 4)


def wait_for_socket(path: Path, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(str(path))
                s.sendall(encode({"id": 1, "method": "ping", "params": {}}))
                if s.recv(4096):
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"holdemd did not come up (exit {proc.poll()})")
        time.sleep(0.05)


async def measure(sock: Path, n: int, seconds: float, size: tuple[int, int], worker: str) -> dict:
    app = HoldemApp(sock)
    async with app.run_test(size=size) as pilot:
        deadline = time.monotonic() + 180
        while not (
            app.model.runs
            and sum(i.state == "running" for r in app.model.runs.values() for i in r.instances.values()) == n
        ):
            if time.monotonic() > deadline:
                raise SystemExit("instances did not all start")
            await pilot.pause(0.1)
        app.open_run(next(iter(app.model.runs)))
        while not isinstance(app.screen, DashboardScreen):
            await pilot.pause(0.05)
        await pilot.pause(2.0)  # warm: first plots, the log tail
        app.latencies.clear()
        app.daemon_to_screen.clear()
        app.oldest_latencies.clear()
        frames0, events0 = app.frames, app.connection.events
        cpu0, wall0 = time.process_time(), time.monotonic()
        await pilot.pause(seconds)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        lat, tui_lat, worst = list(app.latencies), list(app.daemon_to_screen), list(app.oldest_latencies)
        return {
            "instances": n,
            "worker": worker,
            "seconds": round(wall, 2),
            "size": f"{size[0]}x{size[1]}",
            "tui_cpu_percent_of_one_core": round(100 * cpu / wall, 2),
            "events_per_s": round((app.connection.events - events0) / wall, 1),
            "frames_per_s": round((app.frames - frames0) / wall, 2),
            "latency_s": {
                "p50": percentile(lat, 0.5),
                "p95": percentile(lat, 0.95),
                "p99": percentile(lat, 0.99),
                "max": percentile(lat, 1.0),
                "samples": len(lat),
            },
            "oldest_event_in_frame_to_screen_s": {
                "p50": percentile(worst, 0.5),
                "p95": percentile(worst, 0.95),
                "p99": percentile(worst, 0.99),
                "max": percentile(worst, 1.0),
            },
            "daemon_to_screen_s": {
                "p50": percentile(tui_lat, 0.5),
                "p95": percentile(tui_lat, 0.95),
                "p99": percentile(tui_lat, 0.99),
                "max": percentile(tui_lat, 1.0),
            },
            "loadavg": [round(x, 2) for x in os.getloadavg()],
            "cpus": os.cpu_count(),
        }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--instances", type=int, default=16)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--size", default="160x48")
    p.add_argument("--worker", choices=("real", "fake"), default="real")
    args = p.parse_args()
    size = tuple(int(x) for x in args.size.split("x"))
    root = Path(tempfile.mkdtemp(prefix="htui-bench-", dir="/tmp"))
    cfg = root / "kuhn.yaml"
    cfg.write_text(KUHN)
    sock = root / "holdemd.sock"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(REPO / ".pytest_cache" / "numba")}
    env.pop("NOTIFY_SOCKET", None)
    worker: list[str] = []
    if args.worker == "fake":
        worker = ["--worker-cmd", f"{sys.executable} {REPO / 'tests' / 'supervisor' / 'fake_worker.py'}"]
        env.update(FAKE_PROGRESS_S="0.05", FAKE_IPS="20000", FAKE_CKPT_EVERY="1000000")
    argv = [
        sys.executable,
        "-m",
        "supervisor.daemon",
        "start",
        "--instances",
        str(args.instances),
        "--config",
        str(cfg),
        "--iters",
        str(10**9 * args.instances),
        "--runs-root",
        str(root / "runs"),
        "--state-dir",
        str(root / "state"),
        "--socket",
        str(sock),
        "--child-nice",
        "10",
        "--stop-timeout",
        "30",
        *worker,
    ]
    with open(root / "holdemd.out", "wb") as out:
        # its own session, as under systemd: with autogroup scheduling the workers then compete
        # with the TUI's terminal session as one group, not as 16 peers of the TUI
        daemon = subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_socket(sock, daemon)
        result = asyncio.run(measure(sock, args.instances, args.seconds, size, args.worker))  # type: ignore[arg-type]
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(90)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

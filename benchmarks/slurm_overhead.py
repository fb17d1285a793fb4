"""What srun costs holdemd: event latency through srun against local children (the same run), and
the time from `scancel` of an instance's job to that instance training again.

Starts a private single-node Slurm (tests/supervisor/slurm_cluster.py; needs root and Debian's
slurmctld slurmd slurm-client munge), then runs the same 2-instance Leduc run under
`--executor local` and `--executor slurm`. Over a window once both instances run, a socket
subscriber records each progress event's latency from the worker writing it (its `t`) to the
daemon reading it (`t_recv`), p50/p99. Then `--cancels` times: `scancel` one instance's job and
time until its relaunch sends progress again (local baseline: SIGKILL of the worker). The restart
backoff is set to 0.05 s so the numbers are the mechanism's, not the policy's. Prints one JSON object.

    .venv/bin/python benchmarks/slurm_overhead.py [--seconds 20] [--cancels 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "supervisor"))

from slurm_cluster import SlurmCluster, unavailable  # noqa: E402

from supervisor.protocol import Client, DaemonUnavailable  # noqa: E402

LEDUC = """game: leduc
algorithm: es-mccfr
iterations: 1000000000
checkpoint: {every_iterations: 2000000, every_seconds: 0, keep: 2}
metrics: {progress_interval_s: 0.05, exploitability_every_s: 0}
"""


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def ms(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": round(1000 * percentile(values, 0.5), 2),
        "p99": round(1000 * percentile(values, 0.99), 2),
        "max": round(1000 * max(values), 2),
    }


class Daemon:
    def __init__(self, root: Path, executor: str, env: dict[str, str]) -> None:
        self.root, self.sock = root, root / "holdemd.sock"
        root.mkdir(parents=True)
        cfg = root / "leduc.yaml"
        cfg.write_text(LEDUC)
        argv = [
            sys.executable,
            "-m",
            "supervisor.daemon",
            "start",
            "--state-dir",
            str(root / "state"),
            "--runs-root",
            str(root / "runs"),
            "--socket",
            str(self.sock),
            "--executor",
            executor,
            "--backoff-base",
            "0.05",
            "--backoff-cap",
            "0.05",
            "--max-restarts",
            "1000",
            "--instances",
            "2",
            "--config",
            str(cfg),
            "--iters",
            "2000000000",
            "--seed",
            "1",
        ]
        with open(root / "holdemd.out", "wb") as out:
            self.proc = subprocess.Popen(
                argv, cwd=REPO, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
            )

    async def client(self, timeout: float = 60.0) -> Client:
        deadline = time.monotonic() + timeout
        while True:
            try:
                c = Client(self.sock, call_timeout=60)
                await c.call("ping")
                return c
            except DaemonUnavailable:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError((self.root / "holdemd.out").read_text()[-3000:]) from None
                await asyncio.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def until_running(c: Client, timeout: float = 300.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        st = (await c.call("status"))["runs"][0]
        if all(
            i["state"] == "running" and i["iter"] > 0 and (i["executor"] == "local" or i["node"])
            for i in st["instances"]
        ):
            return st
        if time.monotonic() > deadline:
            raise TimeoutError(json.dumps(st))
        await asyncio.sleep(0.1)


async def one(root: Path, executor: str, env: dict[str, str], seconds: float, cancels: int) -> dict:
    d = Daemon(root, executor, env)
    try:
        c = await d.client()
        await until_running(c)
        latencies: list[float] = []
        events: asyncio.Queue[dict] = asyncio.Queue()
        sub = await d.client()

        async def pump() -> None:
            async for ev in sub.subscribe({}):
                if ev.get("event") == "progress":
                    latencies.append(ev["t_recv"] - ev["t"])
                events.put_nowait(ev)

        task = asyncio.create_task(pump())
        await asyncio.sleep(seconds)
        window = list(latencies)
        back: list[float] = []
        for n in range(cancels):
            st = await until_running(c)
            victim = st["instances"][n % 2]
            while not events.empty():
                events.get_nowait()
            t0 = time.monotonic()
            if executor == "slurm":
                subprocess.run(["scancel", victim["job_id"]], env={**os.environ, **env}, check=True, timeout=30)
            else:
                os.kill(victim["pid"], signal.SIGKILL)
            relaunched = False
            while True:  # the instance's next progress after it left `running`
                ev = await asyncio.wait_for(events.get(), 120)
                if ev.get("instance") != victim["index"]:
                    continue
                if ev.get("event") == "state" and ev.get("state") in ("backoff", "starting"):
                    relaunched = True
                elif ev.get("event") == "progress" and relaunched:
                    back.append(time.monotonic() - t0)
                    break
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await sub.close()
        await c.close()
        return {
            "latency_ms": ms(window),
            "events_per_s": round(len(window) / seconds, 1),
            ("scancel" if executor == "slurm" else "sigkill") + "_to_running_again_s": {
                "each": [round(b, 2) for b in back],
                "p50": round(percentile(back, 0.5), 2) if back else None,
                "max": round(max(back), 2) if back else None,
            },
        }
    finally:
        d.stop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=20.0, help="latency window per executor")
    p.add_argument("--cancels", type=int, default=5, help="scancels (slurm) / SIGKILLs (local) timed")
    args = p.parse_args()
    why = unavailable()
    if why:
        print(json.dumps({"error": why}))
        return 1
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="holdem-slurm-bench-") as tmp:
        cluster = SlurmCluster(Path(tmp) / "cluster", cpus=2, kill_wait_s=10).start()
        try:
            out = {
                "local": asyncio.run(one(Path(tmp) / "local", "local", {}, args.seconds, args.cancels)),
                "slurm": asyncio.run(one(Path(tmp) / "slurm", "slurm", cluster.env, args.seconds, args.cancels)),
                "queue_left": cluster.wait_queue_empty(30),
            }
        finally:
            cluster.stop()
    out.update(
        {
            "benchmark": "slurm_overhead",
            "instances": 2,
            "game": "leduc es-mccfr",
            "window_s": args.seconds,
            "backoff_s": 0.05,
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()],
        }
    )
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

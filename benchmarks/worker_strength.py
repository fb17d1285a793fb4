"""Does a second worker thread make a stronger hold'em blueprint in the same wall time? Prints one JSON object.

Trains hunl-default with real `holdem train` instances for --minutes of training each: 1 instance x W
workers (default 2) and 1 instance x 1 worker, taking turns in --segments stretches (each resumes its
own folder), so that on a shared machine both see the same load on average; samples each instance's
resident memory from /proc while it trains (one set of tables whatever W), then plays the two
blueprints a duplicate match (`holdem match`, 95% interval). About 2 x minutes plus the match:

    flock -s /tmp/holdem-cpu.lock .venv/bin/python benchmarks/worker_strength.py [--minutes 15] [--segments 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def train(folder: Path, workers: int, seconds: float, buckets_root: Path | None, resume: bool) -> dict:
    argv = [
        sys.executable,
        "-m",
        "holdem",
        "train",
        "--config",
        str(REPO / "configs" / "hunl-default.yaml"),
        "--instance-dir",
        str(folder),
        "--time-budget",
        f"{seconds:g}",
        "--workers",
        str(workers),
        "--events",
        "jsonl",
        *(["--resume"] if resume else []),
    ]
    if buckets_root is not None:
        argv += ["--buckets-root", str(buckets_root)]
    load0 = os.getloadavg()
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak_rss, ips, last = 0, [], {}
    assert proc.stdout is not None
    for line in proc.stdout:
        event = json.loads(line)
        last = event
        if event["event"] == "progress":
            peak_rss = max(peak_rss, rss_bytes(proc.pid))
            if event.get("ips"):
                ips.append(event["ips"])
    code = proc.wait()
    return {
        "workers": workers,
        "exit": code,
        "iterations": last.get("iter"),
        "seconds": seconds,
        "mean_ips": round(sum(ips) / max(len(ips), 1)),
        "peak_rss_bytes": peak_rss,
        "load_before": load0,
        "load_after": os.getloadavg(),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=15.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--segments", type=int, default=3, help="turns each instance takes")
    p.add_argument("--hands", type=int, default=200_000)
    p.add_argument("--out", type=Path, default=Path("/tmp/holdem-worker-strength"))
    p.add_argument("--buckets-root", type=Path)
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%H%M%S")
    many, one = args.out / f"w{args.workers}-{stamp}", args.out / f"w1-{stamp}"
    result: dict = {"minutes": args.minutes, "segments": args.segments, "many": [], "one": []}
    for k in range(1, args.segments + 1):
        budget = args.minutes * 60 * k / args.segments  # the total so far: --time-budget counts all segments
        result["many"].append(train(many, args.workers, budget, args.buckets_root, resume=k > 1))
        result["one"].append(train(one, 1, budget, args.buckets_root, resume=k > 1))
    argv = [sys.executable, "-m", "holdem", "match", str(many), str(one), "--hands", str(args.hands), "--json"]
    if args.buckets_root is not None:
        argv += ["--buckets-root", str(args.buckets_root)]
    match = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=True)
    result["match"] = json.loads(match.stdout)
    result["folders"] = [str(many), str(one)]
    print(json.dumps(result))


if __name__ == "__main__":
    main()

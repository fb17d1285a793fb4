"""Does a hold'em blueprint get harder to exploit as it trains? Prints one JSON object.

Trains one real `holdem train` instance (W worker threads) for a schedule of total training times
(e.g. 5, 15, 30 minutes), resuming the same folder for each next stretch and copying it aside at every
mark, so one 30-minute training yields the 5- and 15-minute blueprints as well. Then measures each copy
with local best response (`holdem lbr`, fc and/or fcpa, mbb/hand with its 95% interval).

Training time is what a blueprint is measured by, so training holds the CPU lock exclusively (other
work waits; a loaded machine would hand the blueprint fewer iterations); the LBR figures do not depend
on the load, so LBR holds it shared:

    .venv/bin/python benchmarks/training_ladder.py --config configs/hunl-default.yaml --minutes 5 15 30 \\
        --workers 2 --lbr-hands 30000 --out /tmp/ladder-default
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def cpu_lock(path: Path | None, exclusive: bool) -> Iterator[None]:
    if path is None:
        yield
        return
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except FileNotFoundError:
        pass
    return 0


def train(config: Path, folder: Path, workers: int, seconds: float, resume: bool) -> dict:
    """One stretch of training up to `seconds` of total training time; what the instance reported."""
    argv = [
        sys.executable,
        "-m",
        "holdem",
        "train",
        "--config",
        str(config),
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
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak_rss, last = 0, {}
    assert proc.stdout is not None
    for line in proc.stdout:
        event = json.loads(line)
        last = event
        if event["event"] == "progress":
            peak_rss = max(peak_rss, rss_bytes(proc.pid))
    code = proc.wait()
    if code != 0:
        raise SystemExit(f"holdem train exited {code} in {folder}")
    return {
        "training_s": seconds,
        "iterations": last.get("iter"),
        "wall_s": round(time.perf_counter() - t0, 1),
        "peak_rss_bytes": peak_rss,
        "load_before": load0,
        "load_after": os.getloadavg(),
    }


def lbr(folder: Path, variant: str, hands: int, workers: int | None, seed: int) -> dict:
    argv = [
        sys.executable,
        "-m",
        "holdem",
        "lbr",
        str(folder),
        "--variant",
        variant,
        "--hands",
        str(hands),
        "--seed",
        str(seed),
        "--json",
        *(["--workers", str(workers)] if workers else []),
    ]
    t0 = time.perf_counter()
    out = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=True)
    doc = json.loads(out.stdout)
    doc["wall_s"] = round(time.perf_counter() - t0, 1)
    return doc


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", type=Path, required=True)
    p.add_argument("--minutes", type=float, nargs="+", default=[5, 15, 30], help="total training times")
    p.add_argument("--workers", type=int, default=2, help="worker threads of the training instance")
    p.add_argument("--lbr-hands", type=int, default=30_000, help="0 skips LBR")
    p.add_argument("--lbr-variants", nargs="+", choices=["fc", "fcpa"], default=["fc"])
    p.add_argument("--lbr-workers", type=int, help="LBR threads (default: every core)")
    p.add_argument("--seed", type=int, default=0, help="LBR's seed: the same deals for every blueprint")
    p.add_argument("--out", type=Path, required=True, help="folder for the instance and its copies")
    p.add_argument("--cpu-lock", type=Path, default=Path("/tmp/holdem-cpu.lock"), help="'' for none")
    p.add_argument("--train-only", action="store_true")
    p.add_argument("--lbr-only", action="store_true", help="measure copies a previous call left in --out")
    args = p.parse_args()
    lock = args.cpu_lock if str(args.cpu_lock) else None
    args.out.mkdir(parents=True, exist_ok=True)
    live = args.out / "instance"
    marks = sorted(args.minutes)
    result: dict = {"config": str(args.config), "workers": args.workers, "cores": os.cpu_count(), "blueprints": []}
    for k, minutes in enumerate(marks):
        copy = args.out / f"{minutes:g}min"
        entry: dict = {"minutes": minutes, "folder": str(copy)}
        if not args.lbr_only:
            with cpu_lock(lock, exclusive=True):
                entry["training"] = train(args.config, live, args.workers, minutes * 60, resume=k > 0)
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(live, copy)
        result["blueprints"].append(entry)
        print(json.dumps({"progress": entry}), file=sys.stderr, flush=True)
    if not args.train_only and args.lbr_hands > 0:
        for variant in args.lbr_variants:
            for entry in result["blueprints"]:
                with cpu_lock(lock, exclusive=False):
                    entry[f"lbr_{variant}"] = lbr(
                        Path(entry["folder"]), variant, args.lbr_hands, args.lbr_workers, args.seed
                    )
                print(json.dumps({"progress": entry}), file=sys.stderr, flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Blueprint strength after a fixed training time: prints one JSON object.

For each of configs/quickstart.yaml and configs/hunl-default.yaml, holdemd trains a run of
`--instances` instances for `--minutes` each (a time budget, so both configs get the same machine
time) and merges it; then `holdem match` plays duplicate hands: default against quickstart, and each
blueprint against the `call` and `random` bots. Issue 3's target: after 30 minutes on 2 cores,
quickstart beats call and random with the 95% interval above +300 mbb/hand over 100,000 hands, and
default beats quickstart.

    .venv/bin/python benchmarks/hunl_strength.py [--minutes 30] [--instances 2] [--hands 100000]

Everything goes under --root (default runs/strength); a config whose run is already merged there is
not trained again, so the matches can be replayed with other hands or seeds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from supervisor.quickstart import follow_run, start_daemon, stop_daemon  # noqa: E402

CONFIGS = ("quickstart", "hunl-default")


def train(name: str, root: Path, minutes: float, instances: int, seed: int) -> tuple[Path, dict]:
    """The merged blueprint of a run of `name` trained for `minutes`, reusing a finished one."""
    run_root = root / name
    done = run_root / "result.json"
    if done.exists():
        record = json.loads(done.read_text())
        return Path(record["merged"]), record
    sock = run_root / "holdemd.sock"
    extra = ["--time-budget", f"{minutes * 60:g}", "--seed", str(seed)]
    started = time.time()
    proc = start_daemon(run_root, sock, REPO / "configs" / f"{name}.yaml", instances, extra)
    try:
        run = asyncio.run(follow_run(sock, interval=30.0))
    finally:
        stop_daemon(proc)
    if run["state"] != "done" or not run.get("merged"):
        raise SystemExit(f"{name}: run ended {run['state']} ({run.get('reason')}); see {run_root}/holdemd.out")
    record = {
        "config": name,
        "minutes": minutes,
        "instances": instances,
        "seed": seed,
        "merged": run["merged"],
        "iterations": sum(i["iter"] for i in run["instances"]),
        "wall_s": round(time.time() - started),
    }
    done.write_text(json.dumps(record))
    return Path(run["merged"]), record


def match(a: str, b: str, hands: int, seed: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "holdem.cli", "match", a, b, "--hands", str(hands), "--seed", str(seed), "--json"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--instances", type=int, default=2)
    p.add_argument("--hands", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--root", type=Path, default=REPO / "runs" / "strength")
    args = p.parse_args()
    os.environ.setdefault("NUMBA_CACHE_DIR", str(args.root / "numba-cache"))
    runs = {name: train(name, args.root.resolve(), args.minutes, args.instances, args.seed) for name in CONFIGS}
    quick, default = (str(runs[n][0]) for n in CONFIGS)
    pairs = [(default, quick), (quick, "call"), (quick, "random"), (default, "call"), (default, "random")]
    matches = [match(a, b, args.hands, args.seed + 1) for a, b in pairs]
    print(json.dumps({"benchmark": "hunl_strength", "runs": [runs[n][1] for n in CONFIGS], "matches": matches}))


if __name__ == "__main__":
    main()

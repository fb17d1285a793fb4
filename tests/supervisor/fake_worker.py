"""A stand-in worker that speaks the `holdem train|prepare|merge --events jsonl` contract.

Used where the real solver is beside the point (the socket-abuse tests, the load benchmark's
fallback) and to build deliberately broken children. Deterministic: the checkpoint bytes are a
pure function of (seed, iteration), so resumed == uninterrupted, like the real worker.
Knobs (environment): FAKE_IPS iterations/s (default 2000), FAKE_PROGRESS_S event interval
(0.05), FAKE_CKPT_EVERY iterations (500), FAKE_SURVIVE_EPIPE, FAKE_PREPARE=exit2, FAKE_PREPARE_S
(prepare takes this long, reporting stages), FAKE_CHECK=bad (check-config refuses key 'fake.key'),
FAKE_MODE crash|exit2|hang|bigline|silent (instances whose dir ends with /$FAKE_ONLY_INDEX only,
if that is set), FAKE_EVAL_S (`eval --ladder --json` takes this long, default 0.5, then prints a
ladder with no figures).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import sys
import time
from pathlib import Path


def emit(event: str, it: int, **fields: object) -> None:
    try:
        sys.stdout.write(json.dumps({"v": 1, "event": event, "t": time.time(), "iter": it, **fields}) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        # FAKE_SURVIVE_EPIPE: keep training after the daemon died, like a worker that ignores its
        # reader's death; the next daemon must find and stop it.
        if not os.environ.get("FAKE_SURVIVE_EPIPE"):
            raise


def state_bytes(seed: int, it: int) -> bytes:
    return hashlib.sha256(f"{seed}:{it}".encode()).digest() * 64


def write_checkpoint(inst: Path, seed: int, it: int) -> Path:
    final = inst / "checkpoints" / f"{it:012d}"
    if final.exists():
        return final
    tmp = inst / "checkpoints" / f".tmp-{it}"
    tmp.mkdir(parents=True, exist_ok=True)
    data = state_bytes(seed, it)
    (tmp / "state.npy").write_bytes(data)
    sha256 = hashlib.sha256(data).hexdigest()
    manifest = {
        "format": 1,
        "iteration": it,
        "elapsed_s": 0.0,
        "files": {"state.npy": {"sha256": sha256, "bytes": len(data)}},
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest))
    os.replace(tmp, final)
    emit("checkpoint", it, path=str(final), bytes=len(data), sha256=sha256)
    return final


def latest(inst: Path) -> int | None:
    best = None
    for d in (inst / "checkpoints").glob("[0-9]*"):
        try:
            it = json.loads((d / "manifest.json").read_text())["iteration"]
        except (OSError, ValueError, KeyError):
            continue
        best = it if best is None or it > best else best
    return best


def train(args: argparse.Namespace) -> int:
    inst = Path(args.instance_dir)
    mode = os.environ.get("FAKE_MODE", "")
    only = os.environ.get("FAKE_ONLY_INDEX")
    if only is not None and inst.name != only:
        mode = ""
    if mode == "exit2":
        emit("error", 0, message="fake: bad config", permanent=True)
        return 2
    ips = float(os.environ.get("FAKE_IPS", "2000"))
    interval = float(os.environ.get("FAKE_PROGRESS_S", "0.05"))
    every = int(os.environ.get("FAKE_CKPT_EVERY", "500"))
    found = latest(inst) if args.resume else None
    start = found or 0
    stop = {"flag": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(flag=True))
    emit("started", start, pid=os.getpid(), target_iters=args.iters, resumed_from=found)
    print(f"fake worker pid {os.getpid()} from {start}: {' '.join(sys.argv[1:])}", file=sys.stderr, flush=True)
    if mode == "crash":
        return 3
    if mode == "bigline":
        sys.stdout.write("x" * (2 << 20) + "\n")
    t0 = time.monotonic()
    it = start
    target = args.iters if args.iters is not None else 10**12
    budget_end = t0 + args.time_budget if args.time_budget else None
    while it < target:
        if mode == "hang":
            time.sleep(3600)
        time.sleep(interval)
        nxt = min(target, start + int((time.monotonic() - t0) * ips))
        for b in range((it // every + 1) * every, nxt + 1, every):
            write_checkpoint(inst, args.seed, b)
        it = nxt
        if mode != "silent":
            emit("progress", it, target_iters=args.iters, elapsed_s=time.monotonic() - t0, ips=ips, metrics={})
        if stop["flag"]:
            write_checkpoint(inst, args.seed, it)
            emit("stopped", it)
            return 0
        if budget_end and time.monotonic() >= budget_end:
            break
    write_checkpoint(inst, args.seed, it)
    emit("done", it)
    return 0


def main() -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--config", required=True)
    t.add_argument("--instance-dir", required=True)
    t.add_argument("--iters", type=int)
    t.add_argument("--time-budget", type=float)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--resume", action="store_true")
    t.add_argument("--events")
    pr = sub.add_parser("prepare")
    pr.add_argument("--config", required=True)
    pr.add_argument("--events")
    c = sub.add_parser("check-config")
    c.add_argument("config")
    c.add_argument("--json", action="store_true")
    m = sub.add_parser("merge")
    m.add_argument("dirs", nargs="+")
    m.add_argument("--out", required=True)
    m.add_argument("--events")
    e = sub.add_parser("eval")
    e.add_argument("policy")
    for flag in ("--hands", "--lbr-hands", "--seed", "--workers"):
        e.add_argument(flag)
    e.add_argument("--ladder", action="store_true")
    e.add_argument("--json", action="store_true")
    args = p.parse_args()
    if args.cmd == "eval":
        time.sleep(float(os.environ.get("FAKE_EVAL_S", "0.5")))
        print(json.dumps({"format": "holdem-ladder", "policy": args.policy, "matches": [], "lbr": {}, "probes": []}))
        return 0
    if args.cmd == "train":
        return train(args)
    if args.cmd == "check-config":
        if not Path(args.config).is_file():
            print(json.dumps({"ok": False, "key": None, "message": f"config file {args.config!r} does not exist"}))
            return 2
        if os.environ.get("FAKE_CHECK") == "bad":
            print(json.dumps({"ok": False, "key": "fake.key", "message": "config key 'fake.key': expected 1, got 2"}))
            return 2
        print(json.dumps({"ok": True, "game": "fake"}))
        return 0
    if args.cmd == "prepare":
        emit("started", 0, pid=os.getpid())
        if os.environ.get("FAKE_PREPARE") == "exit2":
            emit("error", 0, message="fake: cannot build buckets", permanent=True)
            return 2
        end = time.monotonic() + float(os.environ.get("FAKE_PREPARE_S", "0"))
        done = 0
        while time.monotonic() < end:
            done += 1
            emit(
                "progress",
                1,
                target_iters=2,
                elapsed_s=0.0,
                ips=0.0,
                metrics={"stage": "flop features", "done": done, "total": 1755, "unit": "boards", "per_s": 20.0},
            )
            time.sleep(0.05)
        emit("done", 0)
        return 0
    emit("started", 0, pid=os.getpid())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sources.json").write_text(json.dumps({"instances": args.dirs}))
    emit("done", 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())

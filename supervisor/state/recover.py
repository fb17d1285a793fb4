"""`holdemd recover`: rebuild the state database from the run folders after it was damaged.

A run folder holds all that matters (run.yaml, each instance's checkpoints/, merged/), so the
database can be rebuilt from disk: the damaged file (and its -wal/-shm) is moved aside, never
deleted, and every run found under the runs root is entered again. What the folders cannot tell
(restart counts and history, a stop the operator asked for) starts afresh: every unfinished run is
desired "running" and resumes on the next `holdemd start`, from its instances' newest checkpoints.
The daemon reads no checkpoint here; folder names are enough (the worker verifies on resume).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import yaml

from supervisor.protocol import InstanceState, RunState
from supervisor.state.store import InstanceRow, RunRow, Store

_CHECKPOINT = re.compile(r"\d{12}")


def move_aside(db_path: Path) -> list[Path]:
    """Rename the database and its WAL/shm files to `<name>.corrupt-<time>`; returns the new paths."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    moved = []
    for suffix in ("", "-wal", "-shm"):
        src = db_path.with_name(db_path.name + suffix)
        if src.exists():
            dst = src.with_name(f"{db_path.name}.corrupt-{stamp}{suffix}")
            src.rename(dst)
            moved.append(dst)
    return moved


def newest_checkpoint(instance_dir: Path) -> tuple[int, Path] | None:
    root = instance_dir / "checkpoints"
    if not root.is_dir():
        return None
    found = [(int(p.name), p) for p in root.iterdir() if _CHECKPOINT.fullmatch(p.name) and p.is_dir()]
    return max(found) if found else None


def rebuild(store: Store, runs_root: Path) -> list[str]:
    """Enter every run folder under `runs_root` into an empty store; one summary line per run."""
    lines = []
    for run_yaml in sorted(runs_root.glob("*/run.yaml")):
        try:
            frozen = yaml.safe_load(run_yaml.read_text())
            run, insts = _rows(run_yaml.parent, frozen)
        except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
            lines.append(f"skipped {run_yaml.parent}: run.yaml unreadable ({exc})")
            continue
        if store.run(run.id) is not None:
            lines.append(f"skipped {run_yaml.parent}: run {run.id} is already known")
            continue
        store.create_run(run, insts)
        if isinstance(frozen.get("executor"), dict):  # runs before executors have none: local
            store.set_run_executor(run.id, frozen["executor"])
        done = sum(i.state == InstanceState.DONE.value for i in insts)
        lines.append(
            f"run {run.id}: {run.state}, phase {run.phase}, {done}/{len(insts)} instances done"
            + (f", merged in {run.merged}" if run.merged else "")
        )
    return lines


def _rows(run_dir: Path, frozen: Any) -> tuple[RunRow, list[InstanceRow]]:
    if not isinstance(frozen, dict):
        raise ValueError("not a mapping")
    run_id = str(frozen["run_id"])
    n = int(frozen["instances"])
    split = frozen.get("split") or [None] * n
    seeds = frozen["instance_seeds"]
    now = time.time()
    insts = []
    launched = False
    for k in range(n):
        inst_dir = run_dir / "instances" / str(k)
        newest = newest_checkpoint(inst_dir)
        it = newest[0] if newest else 0
        target = split[k]
        launched = launched or newest is not None or (inst_dir / "train.log").exists()
        state = (
            InstanceState.DONE if target is not None and newest is not None and it >= target else InstanceState.STOPPED
        )
        insts.append(
            InstanceRow(
                run_id=run_id,
                idx=k,
                dir=str(inst_dir),
                seed=int(seeds[k]),
                target_iters=target,
                state=state.value,
                desired="running",
                pid=None,
                pid_start=None,
                launches=1 if newest else 0,
                restarts=0,
                iter=it,
                last_checkpoint=str(newest[1]) if newest else None,
                last_checkpoint_iter=newest[0] if newest else None,
                reason="rebuilt from the run folder by holdemd recover",
                updated=now,
            )
        )
    merged = newest_checkpoint(run_dir / "merged")
    if merged is not None:
        run_state, phase = RunState.DONE, "done"
    else:
        run_state = RunState.STOPPED
        phase = (
            "merge" if all(i.state == InstanceState.DONE.value for i in insts) else "train" if launched else "prepare"
        )
    run = RunRow(
        id=run_id,
        dir=str(run_dir),
        config=frozen.get("config_source"),
        seed=int(frozen["seed"]),
        iters=frozen.get("iters"),
        time_budget_s=frozen.get("time_budget_s"),
        n_instances=n,
        state=run_state.value,
        desired="running" if run_state is not RunState.DONE else "stopped",
        phase=phase,
        reason="rebuilt from the run folder by holdemd recover",
        merged=str(run_dir / "merged") if merged else None,
        created=float(frozen.get("created") or now),
        updated=now,
        workers=int(frozen.get("workers") or 1),
    )
    return run, insts

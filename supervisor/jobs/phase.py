"""A one-shot phase child of a run (`holdem prepare`, `holdem merge`): retried on a crash, waited
out on a full disk, never retried after exit 2 (bad input)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from supervisor.config import Tuning
from supervisor.executors import Executor, Task
from supervisor.host.diskspace import disk_full_reason
from supervisor.jobs.backoff import doubling
from supervisor.jobs.child import Child
from supervisor.jobs.logfile import append_log


async def run_phase(
    argv: Sequence[str],
    log_path: Path,
    tuning: Tuning,
    on_event: Callable[[dict[str, Any], float], None],
    on_log: Callable[[str], None],
    attempts: int,
    executor: Executor,
    task: Task,
) -> tuple[bool, str]:
    """A one-shot phase child (prepare, merge): retried on crash up to `attempts`, never on exit 2."""
    last = "not run"
    attempt = full_streak = 0
    while attempt < attempts:
        child = Child(argv, log_path, on_event, on_log, nice=tuning.child_nice, executor=executor, task=task)
        try:
            await child.start()
        except OSError as exc:
            return False, f"cannot start {argv[0]}: {exc}"
        exit_ = await child.wait(tuning.heartbeat_timeout_s, tuning.startup_timeout_s)
        if exit_.clean_done:
            return True, "done"
        last = exit_.describe()
        full = disk_full_reason(log_path.parent, [exit_.error, *child.recent]) if exit_.code != 2 else None
        if full is not None:  # not the phase's fault: wait for space, the attempt does not count
            full_streak += 1
            delay = doubling(tuning, full_streak - 1)
            append_log(log_path, f"{full}; retrying in {delay:.0f}s ({last})")
            await asyncio.sleep(delay)
            continue
        attempt += 1
        append_log(log_path, f"attempt {attempt}/{attempts}: {last}")
        if exit_.code == 2:
            break
        await asyncio.sleep(doubling(tuning, attempt - 1))
    return False, last

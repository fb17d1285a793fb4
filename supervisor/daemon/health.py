"""The daemon's health in `status`: free space where it writes, and the warnings a person should see
before a disk fills (low space, state changes held in memory, log files that refuse writes)."""

from __future__ import annotations

from typing import Any

from supervisor.config import DaemonConfig
from supervisor.host.diskspace import human_bytes, space
from supervisor.jobs.logfile import LogDrops
from supervisor.state.store import Store


def health(cfg: DaemonConfig, store: Store) -> dict[str, Any]:
    """Free space where we write, and the warnings a person should see before a disk fills."""
    LogDrops.retry()
    disk, warnings, seen = [], [], set()
    low = cfg.tuning.low_space_bytes
    for path in (cfg.runs_root, cfg.state_dir):
        sp = space(path)
        if sp is None:
            continue
        disk.append(
            {
                "path": sp.path,
                "free_bytes": sp.free_bytes,
                "total_bytes": sp.total_bytes,
                "low": sp.free_bytes < low,
            }
        )
        if sp.free_bytes < low and sp.device not in seen:
            seen.add(sp.device)
            warnings.append(
                f"low disk space: {human_bytes(sp.free_bytes)} free for {path} (warning below {human_bytes(low)})"
            )
    if store.write_error:
        warnings.append(f"state not saved: {store.unsaved} change(s) held in memory ({store.write_error})")
    if LogDrops.failing():
        warnings.append(f"{len(LogDrops.failing())} log file(s) refuse writes; {LogDrops.total} line(s) dropped so far")
    return {
        "disk": disk,
        "warnings": warnings,
        "log_lines_dropped": LogDrops.total,
        "unsaved_changes": store.unsaved,
    }

"""The daemon's frozen configuration, built once at the entry point and passed down.

Nothing below daemon.main reads the environment; everything tunable is here, with defaults a
multi-day run wants (a generous heartbeat, because a worker's first start compiles numba kernels).
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path

from supervisor.executors import ExecutorSpec


def builtin_config(name: str) -> Path | None:
    """A config shipped as package data of holdem (``holdem/configs/NAME.yaml``), found without importing
    holdem (the daemon imports no poker), so an installed wheel finds it outside any checkout."""
    spec = importlib.util.find_spec("holdem")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "configs" / f"{name}.yaml"
        if path.is_file():
            return path
    return None


@dataclass(frozen=True, slots=True)
class Tuning:
    heartbeat_timeout_s: float = 60.0  # no event for this long: the child is hung
    startup_timeout_s: float = 300.0  # allowance before the first progress event (numba compiles)
    stop_timeout_s: float = 120.0  # SIGTERM -> exit grace (a checkpoint); then SIGKILL
    backoff_base_s: float = 1.0  # first restart delay; doubles per recent restart
    backoff_cap_s: float = 60.0
    max_restarts: int = 5  # more restarts than this within the window: failed
    restart_window_s: float = 600.0
    phase_attempts: int = 3  # prepare / merge tries before the run fails
    child_nice: int = 0  # niceness of children, so the supervisor stays responsive under load
    coalesce_s: float = 0.01  # event wake-up batching (child.py); adds at most this much latency
    tensorboard_interval_s: float = 10.0
    status_interval_s: float = 5.0  # sd_notify STATUS= refresh
    low_space_bytes: int = 1 << 30  # status warns when the runs root or state dir has less free
    max_clients: int = 1024  # socket connections; the oldest idle one makes room for a newcomer
    client_idle_timeout_s: float = 300.0  # an unsubscribed connection without a request is closed
    history_interval_s: float = 1.0  # between the history points kept of an instance (doubles as it thins)
    history_cap: int = 4096  # history points kept per instance; past it every other one is dropped
    eval_hands: int = 2_000  # evaluation ladder (holdem eval --ladder): hands per bot match
    eval_lbr_hands: int = 2_000  # and LBR-fc hands
    eval_workers: int = 0  # LBR threads; 0: every core the daemon may use
    eval_seed: int = 0
    eval_nice: int = 10  # the ladder runs below the instances' priority
    eval_timeout_s: float = 3600.0
    auto_eval: bool = True  # run the ladder on the merged blueprint when a hold'em run is done
    strategy_timeout_s: float = 60.0  # one `holdem strategy` answer
    strategy_concurrency: int = 2  # `holdem strategy` processes at once; more requests wait
    estimate_sample_s: float = 3.0  # holdem tree's timed training sample after the prepare phase; 0: none


@dataclass(frozen=True, slots=True)
class StartSpec:
    """What a new run is made of (holdemd start arguments, or run.start params)."""

    instances: int
    config: Path | None = None
    iters: int | None = None
    time_budget_s: float | None = None
    seed: int | None = None
    workers: int = 1  # worker threads per instance
    executor: ExecutorSpec | None = None  # None: the daemon's --executor

    def __post_init__(self) -> None:
        if not isinstance(self.instances, int) or self.instances < 1:
            raise ValueError("instances must be a positive integer")
        if not isinstance(self.workers, int) or not 1 <= self.workers <= 1024:
            raise ValueError(f"workers must be an integer in [1, 1024], got {self.workers!r}")
        if self.iters is not None and self.time_budget_s is not None:
            raise ValueError("give --iters or --time-budget, not both")
        if self.iters is not None and (not isinstance(self.iters, int) or self.iters < self.instances):
            raise ValueError("iters must be an integer of at least one per instance")
        if self.time_budget_s is not None and not self.time_budget_s > 0:
            raise ValueError("time budget must be positive")


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    state_dir: Path
    runs_root: Path
    socket: Path
    worker_cmd: tuple[str, ...] = (sys.executable, "-m", "holdem.cli")
    tuning: Tuning = field(default_factory=Tuning)
    start: StartSpec | None = None
    start_new: bool = False  # --new: start `start` even if an unfinished run has the same arguments
    no_resume: bool = False  # --no-resume: leave the other unfinished runs stopped
    default_config: Path | None = None
    log_dir: Path | None = None  # systemd's LogsDirectory; else the state dir
    executor: ExecutorSpec = field(default_factory=ExecutorSpec)  # for new runs without their own

    @property
    def db_path(self) -> Path:
        return self.state_dir / "holdemd.sqlite3"

    @property
    def lock_path(self) -> Path:
        return self.state_dir / "holdemd.lock"

    @property
    def log_path(self) -> Path:
        return (self.log_dir or self.state_dir) / "holdemd.log"


def instance_seed(run_seed: int, k: int) -> int:
    """Instance k's seed: the first 8 bytes of sha256("<run seed>:<k>"), as a 63-bit integer."""
    return int.from_bytes(hashlib.sha256(f"{run_seed}:{k}".encode()).digest()[:8], "big") >> 1


def split_iterations(total: int, n: int) -> list[int]:
    """floor(N/n) each, and the first N mod n instances one more, so the parts sum to N exactly."""
    base, extra = divmod(total, n)
    return [base + (1 if k < extra else 0) for k in range(n)]

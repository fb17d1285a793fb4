"""A new run's folder: its frozen files and its rows in the store, before anything runs.

The folder holds everything the run needs: the frozen `run.yaml` (seed, split, executor, worker
command), a byte copy of the config the workers read (`config.yaml`, so editing the original mid-run
changes nothing) and `instances/<k>/`. The store's rows are committed last, so a crash before that
leaves an unknown folder, never a run without its files.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import yaml

from supervisor.config import DaemonConfig, StartSpec, instance_seed, split_iterations
from supervisor.protocol import InstanceState, RunState
from supervisor.state.files import write_atomic
from supervisor.state.store import InstanceRow, RunRow, Store


def create_run(cfg: DaemonConfig, store: Store, spec: StartSpec) -> RunRow:
    """Make the run folder and its frozen files, then commit the run and its instances."""
    config_src = spec.config or cfg.default_config
    if config_src is None:
        raise ValueError("no config given and no default config found")
    config_src = Path(config_src).resolve()
    try:
        raw = config_src.read_bytes()
        parsed = yaml.safe_load(raw) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read config {config_src}: {exc}") from None
    if not isinstance(parsed, dict):
        raise ValueError(f"config {config_src} is not a mapping")
    iters = spec.iters
    if iters is None and spec.time_budget_s is None and isinstance(parsed.get("iterations"), int):
        iters = parsed["iterations"]  # the config's own target, split like --iters
    if iters is not None and iters < spec.instances:
        raise ValueError(f"{iters} iterations cannot be split over {spec.instances} instances")
    executor = spec.executor or cfg.executor
    seed = spec.seed if spec.seed is not None else secrets.randbits(63)
    run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)
    run_dir = (cfg.runs_root / run_id).resolve()
    (run_dir / "instances").mkdir(parents=True)
    split = split_iterations(iters, spec.instances) if iters is not None else [None] * spec.instances
    seeds = [instance_seed(seed, k) for k in range(spec.instances)]
    write_atomic(run_dir / "config.yaml", raw)
    frozen = {
        "run_id": run_id,
        "config_source": str(config_src),
        "config": parsed,
        "seed": seed,
        "instances": spec.instances,
        "iters": iters,
        "time_budget_s": spec.time_budget_s,
        "split": split,
        "instance_seeds": seeds,
        "worker_cmd": list(cfg.worker_cmd),
        "executor": executor.to_dict(),
        "workers": spec.workers,
        "created": time.time(),
    }
    write_atomic(run_dir / "run.yaml", yaml.safe_dump(frozen, sort_keys=False).encode())
    now = time.time()
    row = RunRow(
        run_id,
        str(run_dir),
        str(config_src),
        seed,
        iters,
        spec.time_budget_s,
        spec.instances,
        RunState.RUNNING.value,
        "running",
        "prepare",
        None,
        None,
        now,
        now,
        spec.workers,
    )
    insts = [
        InstanceRow(
            run_id,
            k,
            str(run_dir / "instances" / str(k)),
            seeds[k],
            split[k],
            InstanceState.PENDING.value,
            "running",
            None,
            None,
            0,
            0,
            0,
            None,
            None,
            None,
            now,
        )
        for k in range(spec.instances)
    ]
    for inst in insts:
        Path(inst.dir).mkdir(parents=True, exist_ok=True)
    store.create_run(row, insts)
    store.set_run_executor(run_id, executor.to_dict())
    return row

"""One run: its folder, its phases (prepare -> train -> merge), its instances, its TensorBoard.

A run's folder (made by `run_folder.create_run`) holds everything it needs: the frozen `run.yaml`,
`config.yaml`, `instances/<k>/`, `merged/` and `tensorboard/`. Phase and desired state are in the
store, so a new daemon continues a run exactly where the old one left it. Instances are `pending`
until the prepare phase is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from supervisor.config import DaemonConfig
from supervisor.executors import ExecutorSpec, make_executor
from supervisor.host.procfs import machine_cores
from supervisor.jobs.context import Publish, RunContext
from supervisor.jobs.instance import InstanceSupervisor
from supervisor.jobs.logfile import append_log
from supervisor.jobs.phase import run_phase
from supervisor.jobs.tensorboard import write_scalars_every
from supervisor.protocol import EventKind, InstanceState, RunInfo, RunState
from supervisor.protocol.describe import instances_and_workers
from supervisor.state.store import RunRow, Store


def describe_stage(metrics: dict[str, Any]) -> str | None:
    """'flop features 310/1,755 boards, 42/s' from a prepare progress event's metrics."""
    stage = metrics.get("stage")
    if not isinstance(stage, str):
        return None
    done, total, unit, rate = (metrics.get(k) for k in ("done", "total", "unit", "per_s"))
    if isinstance(done, int) and isinstance(total, int) and total > 0:
        stage += f" {done:,}/{total:,}" + (f" {unit}" if isinstance(unit, str) else "")
        if isinstance(rate, (int, float)) and rate > 0:
            stage += f", {rate:,.0f}/s"
    return stage


class RunError(Exception):
    """A request about a run that cannot be honoured now (reported as `conflict`)."""


class RunSupervisor:
    """Drives one run's phases in a task; control methods are called from the API."""

    def __init__(self, cfg: DaemonConfig, store: Store, publish: Publish, row: RunRow) -> None:
        self.cfg, self.store, self.publish = cfg, store, publish
        self.id = row.id
        self.dir = Path(row.dir)
        self.row = row
        self.state = RunState(row.state)
        self.reason = row.reason
        recorded = store.run_executor(row.id)
        self.executor_spec = ExecutorSpec.from_dict(recorded) if recorded else ExecutorSpec()
        self.ctx = RunContext(
            row.id,
            self.dir,
            self.dir / "config.yaml",
            row.time_budget_s,
            cfg.worker_cmd,
            cfg.tuning,
            store,
            publish,
            make_executor(self.executor_spec),
            workers=row.workers,
        )
        self.instances = [InstanceSupervisor(self.ctx, r) for r in store.instances(row.id)]
        self.task: asyncio.Task[None] | None = None
        self._inst_tasks: dict[int, asyncio.Task[InstanceState]] = {}
        self._merge_lock = asyncio.Lock()
        self._shutdown = False
        self.origin: str | None = None  # why this daemon made the run active (see set_origin)
        self.phase_detail: str | None = None  # the prepare phase's last stage, from its progress events
        # Called at "prepare" (before holdem prepare), "prepared" and "done"; the daemon estimates and
        # evaluates there. A failing hook is logged and never stops the run.
        self.on_phase: Callable[[RunSupervisor, str], Awaitable[None]] | None = None

    # views ------------------------------------------------------------------------------------
    def info(self) -> RunInfo:
        row = self.store.run(self.id) or self.row
        return RunInfo(
            id=self.id,
            state=self.state.value,
            dir=str(self.dir),
            instances=tuple(i.info() for i in self.instances),
            desired=row.desired,
            phase=row.phase,
            config=row.config,
            seed=row.seed,
            iters=row.iters,
            time_budget_s=row.time_budget_s,
            created=row.created,
            reason=self.reason,
            merged=row.merged,
            phase_detail=self.phase_detail if row.phase == "prepare" else None,
            origin=self.origin,
            executor=self.executor_spec.to_dict(),
            workers=row.workers,
            cores=machine_cores(),
        )

    def set_origin(self, origin: str) -> None:
        """Why the run is active (started from arguments, by request, resumed): shown by status, logged."""
        self.origin = origin
        append_log(self.dir / "run.log", origin)

    @property
    def active(self) -> bool:
        return self.task is not None and not self.task.done()

    def warn_if_oversubscribed(self) -> None:
        """Once, when the run is created: more worker threads than cores, in run.log and to subscribers."""
        n, w, cores = self.row.n_instances, self.row.workers, machine_cores()
        if n * w <= cores:
            return
        line = (
            f"warning: {instances_and_workers(n, w)} = {n * w} threads on {cores} cores; "
            "they will share cores and each train slower"
        )
        append_log(self.dir / "run.log", line)
        self.publish({"event": EventKind.LOG.value, "run": self.id, "instance": None, "line": line, "t": time.time()})

    # lifecycle --------------------------------------------------------------------------------
    def start(self) -> None:
        """Run (or continue) the phases in the background."""
        if not self.active:
            self._shutdown = False
            self.task = asyncio.create_task(self._drive(), name=f"run-{self.id}")

    async def stop(self) -> None:
        """holdemctl stop: desired=stopped is committed first, then children get SIGTERM."""
        self.store.update_run(self.id, desired="stopped")
        for inst in self.instances:
            if inst.state is not InstanceState.DONE:
                self.store.update_instance(self.id, inst.index, desired="stopped")
        if self.active:
            self._set_state(RunState.STOPPING, "stop requested")
        await self._halt()
        if self.state not in (RunState.DONE, RunState.FAILED):
            self._set_state(RunState.STOPPED, "stopped by request")

    async def shutdown(self) -> None:
        """The daemon is exiting: stop children gracefully but keep desired=running for next start."""
        self._shutdown = True
        await self._halt()
        await self.ctx.executor.close()
        if self.state not in (RunState.DONE, RunState.FAILED, RunState.STOPPED):
            self._set_state(RunState.STOPPED, "holdemd shut down; resumes on next start")

    def park(self, reason: str) -> None:
        """Leave a run that has not been started by this daemon stopped (desired=stopped, committed)."""
        self.store.update_run(self.id, desired="stopped")
        for inst in self.instances:
            if inst.state is not InstanceState.DONE:
                self.store.update_instance(self.id, inst.index, desired="stopped")
        self._set_state(RunState.STOPPED, reason)

    def progress_text(self) -> str:
        """'5,500,000/100,000,000 iterations (5.5%)', or the phase it is in."""
        done = sum(i.iter for i in self.instances)
        target = sum(i.target_iters or 0 for i in self.instances)
        row = self.store.run(self.id) or self.row
        if row.phase == "prepare":
            return "not started yet (prepare phase)"
        if not target:
            return f"{done:,} iterations"
        return f"{done:,}/{target:,} iterations ({100 * done / target:.1f}%)"

    async def _halt(self) -> None:
        for inst in self.instances:
            inst.request_stop()
        if self.task is None:
            return
        row = self.store.run(self.id)
        if row is not None and row.phase == "prepare" and not self.task.done():
            # Nothing to checkpoint yet: a bucket build is written atomically, so ending it now
            # (Child.wait kills it on cancellation) loses nothing; the prepare runs again on resume.
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            return
        try:
            await asyncio.wait_for(asyncio.shield(self.task), self.cfg.tuning.stop_timeout_s)
        except TimeoutError:
            for inst in self.instances:
                inst.force_kill()
            try:
                await asyncio.wait_for(asyncio.shield(self.task), 30.0)
            except TimeoutError:
                self.task.cancel()  # a phase child (prepare/merge) that ignores SIGTERM

    def resume(self) -> None:
        """Continue a stopped (or failed) run in the same folder; failed instances get another go."""
        if self.active:
            raise RunError(f"run {self.id} is {self.state.value}; nothing to resume")
        if self.state is RunState.DONE:
            raise RunError(f"run {self.id} is done")
        self.store.update_run(self.id, desired="running")
        for inst in self.instances:
            if inst.state is not InstanceState.DONE:
                never_launched = inst.launches == 0 and inst.state in (InstanceState.PENDING, InstanceState.STOPPED)
                self.store.update_instance(
                    self.id,
                    inst.index,
                    desired="running",
                    state=(InstanceState.PENDING if never_launched else InstanceState.STOPPED).value,
                )
                self.store.forget_crashes(self.id, inst.index)  # a new try: a fresh crash-loop window
        self.instances = [InstanceSupervisor(self.ctx, r) for r in self.store.instances(self.id)]
        self.start()

    def restart_instance(self, index: int) -> None:
        inst = self._instance(index)
        row = self.store.run(self.id)
        if not self.active or row is None or row.phase != "train":
            raise RunError(f"run {self.id} is not training")
        if inst.state is InstanceState.DONE:
            raise RunError(f"instance {index} is done")
        if index in self._inst_tasks and not self._inst_tasks[index].done():
            inst.request_restart()
            return
        # failed (or stopped) within a training run: a fresh supervisor continues from its checkpoint
        self.store.update_instance(self.id, index, desired="running")
        self.store.forget_crashes(self.id, index)
        inst_row = self.store.instance(self.id, index)
        assert inst_row is not None  # updated just above
        fresh = InstanceSupervisor(self.ctx, inst_row)
        self.instances[index] = fresh
        self._inst_tasks[index] = asyncio.create_task(fresh.run())

    def _instance(self, index: int) -> InstanceSupervisor:
        if not 0 <= index < len(self.instances):
            raise KeyError(f"run {self.id} has no instance {index}")
        return self.instances[index]

    # phases -----------------------------------------------------------------------------------
    async def _drive(self) -> None:
        tb = asyncio.create_task(
            write_scalars_every(self.dir / "tensorboard", self.cfg.tuning.tensorboard_interval_s, self.scalars)
        )
        try:
            row = self.store.run(self.id)
            assert row is not None
            if row.phase == "prepare":
                self._set_state(RunState.RUNNING, None)
                try:
                    await self.ctx.executor.check_run_dir(self.dir, self.cfg.tuning.startup_timeout_s)
                except ValueError as exc:
                    self._set_state(RunState.FAILED, str(exc))
                    return
                await self._hook("prepare")
                ok, why = await self._phase(
                    "prepare",
                    [*self.cfg.worker_cmd, "prepare", "--config", str(self.ctx.config_path), "--events", "jsonl"],
                    self._on_prepare_event,
                )
                if not ok:
                    self._set_state(RunState.FAILED, f"prepare failed: {why}")
                    return
                await self._hook("prepared")
                self.store.update_run(self.id, phase="train")
                row = self.store.run(self.id)
                assert row is not None
            if row.phase == "train":
                self._set_state(RunState.RUNNING, None)
                await self._train()
                if self._shutdown or (self.store.run(self.id) or row).desired == "stopped":
                    return
                if not any(i.state is InstanceState.DONE for i in self.instances):
                    self._set_state(
                        RunState.FAILED,
                        "every instance failed: " + "; ".join(f"{i.index}: {i.reason}" for i in self.instances),
                    )
                    return
                self.store.update_run(self.id, phase="merge")
            ok, why = await self.merge(final=True)
            if ok:
                self.store.update_run(self.id, phase="done")
                failed = [i.index for i in self.instances if i.state is InstanceState.FAILED]
                self._set_state(RunState.DONE, f"instances {failed} failed; merged without them" if failed else None)
                await self._hook("done")
            else:
                self._set_state(RunState.FAILED, f"merge failed: {why}")
        finally:
            tb.cancel()

    async def _train(self) -> None:
        for inst in self.instances:
            if inst.state in (InstanceState.DONE, InstanceState.FAILED):
                continue
            self._inst_tasks[inst.index] = asyncio.create_task(inst.run(), name=f"{self.id}/{inst.index}")
        while True:
            pending = [t for t in self._inst_tasks.values() if not t.done()]
            if not pending:
                break
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for t in self._inst_tasks.values():
            if t.exception() is not None:
                append_log(self.dir / "run.log", f"instance task crashed: {t.exception()!r}")

    async def merge(self, final: bool = False) -> tuple[bool, str]:
        """Merge every instance that has a checkpoint into <run>/merged (holdem merge).

        `final` is the run's own last phase (the state stays merging until the run is done); an
        on-demand merge puts the previous state back afterwards.
        """
        if self._merge_lock.locked():
            raise RunError(f"run {self.id} is already merging")
        async with self._merge_lock:
            dirs = [str(i.dir) for i in self.instances if i.last_checkpoint or i.state is InstanceState.DONE]
            if not dirs:
                return False, "no instance has a checkpoint yet"
            previous = self.state
            self._set_state(RunState.MERGING, None)
            out = self.dir / "merged"
            ok, why = await self._phase(
                "merge", [*self.cfg.worker_cmd, "merge", *dirs, "--out", str(out), "--events", "jsonl"]
            )
            if ok:
                self.store.update_run(self.id, merged=str(out))
            if not final:
                self._set_state(previous, self.reason if previous is not RunState.MERGING else None)
            return ok, why

    def _on_prepare_event(self, ev: dict[str, Any], t_recv: float) -> None:
        """holdem prepare reports its stages as progress (metrics: stage, done, total, unit, per_s)."""
        if ev.get("event") == "progress":
            self.phase_detail = describe_stage(ev.get("metrics") or {}) or self.phase_detail

    async def _hook(self, phase: str) -> None:
        if self.on_phase is not None:
            try:
                await self.on_phase(self, phase)
            except Exception as exc:  # an estimate or an evaluation must never fail the run
                append_log(self.dir / "run.log", f"{phase} hook failed: {exc!r}")

    async def _phase(
        self, name: str, argv: list[str], on_event: Callable[[dict[str, Any], float], None] | None = None
    ) -> tuple[bool, str]:
        log = self.dir / f"{name}.log"

        def on_log(line: str) -> None:
            self.publish(
                {
                    "event": EventKind.LOG.value,
                    "run": self.id,
                    "instance": None,
                    "line": f"[{name}] {line}",
                    "t": time.time(),
                }
            )

        append_log(log, f"{name}: {' '.join(argv)}")
        return await run_phase(
            argv,
            log,
            self.cfg.tuning,
            on_event or (lambda ev, t: None),
            on_log,
            self.cfg.tuning.phase_attempts,
            self.ctx.executor,
            self.ctx.task(name),
        )

    def _set_state(self, state: RunState, reason: str | None) -> None:
        if state is self.state and reason == self.reason:
            return
        self.state, self.reason = state, reason
        self.store.update_run(self.id, state=state.value, reason=reason)
        append_log(self.dir / "run.log", f"run {state.value}" + (f": {reason}" if reason else ""))
        self.publish(
            {
                "event": EventKind.STATE.value,
                "run": self.id,
                "instance": None,
                "state": state.value,
                "reason": reason,
                "t": time.time(),
            }
        )

    def scalars(self) -> dict[str, float]:
        total = sum(i.iter for i in self.instances)
        target = sum(i.target_iters or 0 for i in self.instances)
        live = [i for i in self.instances if i.state is InstanceState.RUNNING]
        out: dict[str, Any] = {
            "run/iterations_per_second": sum(i.ips for i in live),
            "run/iterations": total,
            "run/restarts": sum(i.restarts for i in self.instances),
            "run/instances_running": len(live),
        }
        if target:
            out["run/progress"] = total / target
        return out

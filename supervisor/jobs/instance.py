"""One training instance: keep its `holdem train` child alive until done, failed or stopped.

Restart policy (what a days-long run needs): a crash or a hang is answered by SIGKILL (if needed)
and a relaunch with `--resume` after a backoff that doubles per recent restart up to a cap, with
jitter so that N instances killed together do not come back in lockstep. More than
`max_restarts` within `restart_window_s` marks the instance failed (what counts, and why the window
survives a daemon restart: crash_loop.py); exit 2 (bad input) is failed at once. A child that died
of a full disk is relaunched after the same doubling backoff but never failed for it (reason "disk
full …"): the run continues by itself once space returns. Every launch, restart and state is
committed to the store before anything else happens.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from supervisor.executors import Placement
from supervisor.host.diskspace import disk_full_reason
from supervisor.host.procfs import rss_bytes
from supervisor.jobs.backoff import doubling, jittered
from supervisor.jobs.child import Child, Exit
from supervisor.jobs.context import RunContext
from supervisor.jobs.crash_loop import CrashWindow
from supervisor.jobs.logfile import append_log
from supervisor.protocol import EventKind, InstanceInfo, InstanceState
from supervisor.state.store import InstanceRow, PlacementRow, RestartRow

RSS_EVERY_S = 2.0


def checkpoint_elapsed(path: str | None) -> float:
    """The training time recorded in a checkpoint's manifest (a JSON file: no solver import), so
    a restarted daemon shows how long an instance has trained before its child reports again."""
    if not path:
        return 0.0
    try:
        value = json.loads((Path(path) / "manifest.json").read_bytes()).get("elapsed_s")
    except (OSError, ValueError, AttributeError):
        return 0.0
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


class InstanceSupervisor:
    """Owns instance k of a run for this daemon's lifetime."""

    def __init__(self, ctx: RunContext, row: InstanceRow) -> None:
        self.ctx = ctx
        self.index = row.idx
        self.dir = Path(row.dir)
        self.seed = row.seed
        self.target_iters = row.target_iters
        self.state = InstanceState(row.state)
        self.launches = row.launches
        self.restarts = row.restarts
        self.iter = row.iter
        self.last_checkpoint = row.last_checkpoint
        self.reason = row.reason
        self.orphan = (row.pid, row.pid_start) if row.pid and row.pid_start else None
        placed = ctx.store.placement(ctx.run_id, row.idx)
        self.placement = (
            Placement(placed.executor, placed.job_id, placed.node) if placed else Placement(ctx.executor.name)
        )
        # A previous daemon died while this instance was live: relaunching it is a restart. One that
        # died during a backoff had recorded that restart already; its relaunch completes it.
        self.unclean = row.launches > 0 and row.state in (
            InstanceState.STARTING.value,
            InstanceState.RUNNING.value,
            InstanceState.STOPPING.value,
        )
        # The restart record whose relaunch has not reported `started` yet (it fills in resumed_from).
        self._pending_restart: int | None = (
            ctx.store.last_restart_id(ctx.run_id, row.idx) if row.state == InstanceState.BACKOFF.value else None
        )
        self.pid: int | None = None
        self.ips = 0.0
        self.rss_bytes: int | None = None  # sampled from /proc at most every RSS_EVERY_S
        self._rss_at = float("-inf")
        self.elapsed_s = checkpoint_elapsed(self.last_checkpoint)  # until its child reports progress
        self.child: Child | None = None
        self._stop = False
        self._restart_now = False
        self._wake = asyncio.Event()
        self.crashes = CrashWindow(ctx.store, ctx.run_id, row.idx, ctx.tuning)  # persisted: see crash_loop.py
        self._last_words: list[str] = []  # the last child's final stderr lines
        self._full_streak = 0  # consecutive exits on a full disk (their backoff doubles)

    @property
    def log_path(self) -> Path:
        return self.dir / "train.log"

    def info(self) -> InstanceInfo:
        return InstanceInfo(
            index=self.index,
            state=self.state.value,
            pid=self.pid,
            iter=self.iter,
            target_iters=self.target_iters,
            restarts=self.restarts,
            last_checkpoint=self.last_checkpoint,
            ips=self.ips,
            elapsed_s=self.elapsed_s,
            reason=self.reason,
            seed=self.seed,
            dir=str(self.dir),
            executor=self.placement.executor,
            job_id=self.placement.job_id,
            node=self.placement.node,
            workers=self.ctx.workers,
            rss_bytes=self.rss_bytes if self.pid is not None else None,
        )

    # control ---------------------------------------------------------------------------------
    def request_stop(self) -> None:
        """Graceful: SIGTERM the child (it checkpoints and exits 0); no relaunch afterwards."""
        self._stop = True
        if self.child is not None:
            self._set_state(InstanceState.STOPPING, None)
            self.child.terminate()
        self._wake.set()

    def force_kill(self) -> None:
        if self.child is not None:
            self.child.kill()

    def request_restart(self) -> None:
        """Operator asked: SIGTERM now (a checkpoint is written), relaunch without backoff."""
        self._restart_now = True
        if self.child is not None:
            self.child.terminate()
        self._wake.set()

    # the loop ---------------------------------------------------------------------------------
    async def run(self) -> InstanceState:
        reason = "holdemd restarted"
        if self.unclean or self.orphan is not None:
            pid, start = self.orphan or (None, None)
            self.orphan = None
            if pid:  # status says whom we wait for, not `running` without a pid
                self.pid = pid
                self._set_state(InstanceState.STOPPING, f"stopping pid {pid}, left behind by a previous holdemd")
            tuning = self.ctx.tuning
            what = await self.ctx.executor.clear_leftover(
                self.ctx.task(self.index), pid, start, tuning.stop_timeout_s, tuning.heartbeat_timeout_s
            )
            self.pid = None
            if what:
                self._note(f"stopped {what} left by a previous holdemd")
                reason += f"; {what} stopped"
            self.ctx.store.update_instance(self.ctx.run_id, self.index, pid=None, pid_start=None)
        if self.unclean:
            self.unclean = False
            self._record_restart(reason, None)
        while True:
            if self._stop:
                self._set_state(InstanceState.STOPPED, None)
                return self.state
            exit_ = await self._launch_once()
            verdict = self._judge(exit_)
            if verdict is not None:
                return verdict
            if self._stop:
                continue
            delay = 0.0 if self._restart_now else jittered(self.ctx.tuning, max(self.crashes.recent - 1, 0))
            reason = "restart requested" if self._restart_now else exit_.describe()
            full = None if self._restart_now else self._disk_full(exit_)
            if full is not None:
                delay = doubling(self.ctx.tuning, self._full_streak - 1)
                reason = f"{full}; retrying in {delay:.0f}s ({reason})"
            counted, self._restart_now = not self._restart_now and full is None, False
            if self.crashes.exceeded:
                msg = (
                    f"failed: {self.crashes.recent - 1} restarts within {self.ctx.tuning.restart_window_s:g}s;"
                    f" last: {reason}"
                )
                self._note(msg)
                self._set_state(InstanceState.FAILED, msg)
                return self.state
            self._record_restart(reason, exit_.code, counted)
            self._note(f"restarting in {delay:.1f}s with --resume ({reason})")
            self._set_state(InstanceState.BACKOFF, reason)
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except TimeoutError:
                pass

    def _judge(self, exit_: Exit) -> InstanceState | None:
        """Terminal verdicts; None means relaunch."""
        if exit_.clean_done:
            self._set_state(InstanceState.DONE, None)
            return self.state
        if exit_.code == 2:
            msg = f"bad configuration or input (exit 2): {exit_.error or 'see the log'}"
            self._note(msg)
            self._set_state(InstanceState.FAILED, msg)
            return self.state
        if self._stop:  # a stop wins over a pending restart request
            self._set_state(InstanceState.STOPPED, None)
            return self.state
        if not self._restart_now:
            self.crashes.count()
        return None

    def _disk_full(self, exit_: Exit) -> str | None:
        """A full disk is not the worker's fault: such an exit does not count toward max_restarts."""
        full = disk_full_reason(self.dir, [exit_.error, *self._last_words])
        if full is None:
            self._full_streak = 0
            return None
        self.crashes.forgive()
        self._full_streak += 1
        return full

    async def _launch_once(self) -> Exit:
        argv = self._argv(resume=self.launches > 0)
        self.launches += 1
        self.ctx.store.update_instance(self.ctx.run_id, self.index, launches=self.launches)
        self._set_state(InstanceState.STARTING, self.reason)
        child = Child(
            argv,
            self.log_path,
            self._on_event,
            self._on_log,
            nice=self.ctx.tuning.child_nice,
            executor=self.ctx.executor,
            task=self.ctx.task(self.index),
            on_placed=self._on_placed,
        )
        try:
            await child.start()
        except OSError as exc:
            self._note(f"cannot start {argv[0]}: {exc}")
            return Exit(127, None, f"cannot start worker: {exc}", False, 0.0)
        self.child, self.pid = child, child.pid
        # Committed before we wait on it: a daemon that dies now leaves a findable orphan.
        self.ctx.store.update_instance(self.ctx.run_id, self.index, pid=child.pid, pid_start=child.start_time)
        if self._stop:
            child.terminate()
        try:
            exit_ = await child.wait(self.ctx.tuning.heartbeat_timeout_s, self.ctx.tuning.startup_timeout_s)
        finally:
            self.child, self.pid, self.ips = None, None, 0.0
            self._last_words = list(child.recent)
            self.ctx.store.update_instance(self.ctx.run_id, self.index, pid=None, pid_start=None)
        if exit_.hung:
            self._note(f"pid {child.pid} sent nothing within the heartbeat timeout; killed")
        return exit_

    def _argv(self, resume: bool) -> list[str]:
        argv: list[str] = [
            *self.ctx.worker_cmd,
            "train",
            "--config",
            str(self.ctx.config_path),
            "--instance-dir",
            str(self.dir),
        ]
        if self.target_iters is not None:
            argv += ["--iters", str(self.target_iters)]
        elif self.ctx.time_budget_s is not None:
            argv += ["--time-budget", f"{self.ctx.time_budget_s:g}"]
        argv += ["--seed", str(self.seed), "--events", "jsonl"]
        if self.ctx.workers != 1:
            argv += ["--workers", str(self.ctx.workers)]
        if resume:
            argv.append("--resume")
        return argv

    # events from the child --------------------------------------------------------------------
    def _on_event(self, ev: dict[str, Any], t_recv: float) -> None:
        kind = ev["event"]
        it = ev.get("iter")
        if isinstance(it, int):
            self.iter = it
        if kind == "progress":
            if t_recv - self._rss_at >= RSS_EVERY_S:  # one small /proc read, not one per event
                self.rss_bytes, self._rss_at = rss_bytes(self.pid), t_recv
            self.ips = float(ev.get("ips") or 0.0)
            self.elapsed_s = float(ev.get("elapsed_s") or 0.0)
            if isinstance(ev.get("target_iters"), int):
                self.target_iters = ev["target_iters"]
            if self.state is InstanceState.STARTING:
                self._set_state(InstanceState.RUNNING, None)
            self.ctx.publish(
                {
                    "event": EventKind.PROGRESS.value,
                    "run": self.ctx.run_id,
                    "instance": self.index,
                    "iter": self.iter,
                    "target_iters": self.target_iters,
                    "ips": self.ips,
                    "elapsed_s": self.elapsed_s,
                    "metrics": ev.get("metrics") or {},
                    "rss_bytes": self.rss_bytes,
                    "t": ev.get("t"),
                    "t_recv": t_recv,
                }
            )
        elif kind == "started":
            if isinstance(ev.get("target_iters"), int):
                self.target_iters = ev["target_iters"]
            self._on_started(ev)
        elif kind == "checkpoint":
            self.last_checkpoint = str(ev.get("path"))
            self.ctx.store.update_instance(
                self.ctx.run_id,
                self.index,
                iter=self.iter,
                last_checkpoint=self.last_checkpoint,
                last_checkpoint_iter=self.iter,
            )
            self.ctx.publish(
                {
                    "event": EventKind.CHECKPOINT.value,
                    "run": self.ctx.run_id,
                    "instance": self.index,
                    "iter": self.iter,
                    "path": self.last_checkpoint,
                    "t": t_recv,
                }
            )
        elif kind == "done" and self.target_iters is not None and not isinstance(it, int):
            self.iter = self.target_iters
        elif kind == "error":
            self._note(f"worker error event: {ev.get('message')}")

    def _on_placed(self, placement: Placement) -> None:
        """The executor learnt where the child runs (a Slurm job id and node): record, tell."""
        self.placement = placement
        self.ctx.store.set_placement(
            PlacementRow(self.ctx.run_id, self.index, placement.executor, placement.job_id, placement.node)
        )
        self.ctx.publish(
            {
                "event": EventKind.STATE.value,
                "run": self.ctx.run_id,
                "instance": self.index,
                "state": self.state.value,
                "reason": self.reason,
                "executor": placement.executor,
                "job_id": placement.job_id,
                "node": placement.node,
                "t": time.time(),
            }
        )

    def _on_started(self, ev: dict[str, Any]) -> None:
        """The child says what it resumed from: that, not our guess, goes into the restart record."""
        resumed = ev.get("resumed_from")
        ckpt = str(self.dir / "checkpoints" / f"{resumed:012d}") if isinstance(resumed, int) else None
        if ckpt is not None:
            self._note(f"pid {ev.get('pid')} resumed from iteration {resumed}")
        elif self.launches > 1:
            self._note(f"pid {ev.get('pid')} started from scratch: no valid checkpoint to resume from")
        if self._pending_restart is not None:
            self.ctx.store.set_restart_resumed_from(self._pending_restart, ckpt)
            self._pending_restart = None

    def _on_log(self, line: str) -> None:
        self.ctx.publish(
            {
                "event": EventKind.LOG.value,
                "run": self.ctx.run_id,
                "instance": self.index,
                "line": line,
                "t": time.time(),
            }
        )

    # bookkeeping ------------------------------------------------------------------------------
    def _set_state(self, state: InstanceState, reason: str | None) -> None:
        if state is self.state and reason == self.reason:
            return
        self.state, self.reason = state, reason
        self.ctx.store.update_instance(self.ctx.run_id, self.index, state=state.value, reason=reason, iter=self.iter)
        self.ctx.publish(
            {
                "event": EventKind.STATE.value,
                "run": self.ctx.run_id,
                "instance": self.index,
                "state": state.value,
                "reason": reason,
                "t": time.time(),
            }
        )

    def _record_restart(self, reason: str, code: int | None, counted: bool = False) -> None:
        self.restarts += 1
        self._pending_restart = self.ctx.store.record_restart(
            RestartRow(self.ctx.run_id, self.index, time.time(), reason, code, None, counted), self.restarts
        )

    def _note(self, line: str) -> None:
        append_log(self.log_path, line)
        self._on_log(f"[holdemd] {line}")

"""The daemon's state machine behind the API: the runs it supervises and every method's meaning.

The socket server (api.py) only frames and validates; this module decides. Each mutating method
commits its change to the store before it returns, so an acknowledged request survives a SIGKILL.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from pathlib import Path
from typing import Any

from supervisor.config import DaemonConfig, StartSpec
from supervisor.daemon.api import ApiError, Hub
from supervisor.daemon.health import health
from supervisor.daemon.logs import tail
from supervisor.daemon.params import check_keys, opt
from supervisor.executors import ExecutorSpec
from supervisor.jobs.blueprints import (
    SOURCES,
    HoldemFailed,
    NoSource,
    checkpoint_path,
    resolve_source,
    run_game,
    run_holdem,
    strategy_argv,
)
from supervisor.jobs.estimates import estimate_run
from supervisor.jobs.evals import Evaluations
from supervisor.jobs.run import RunError, RunSupervisor
from supervisor.jobs.run_folder import create_run
from supervisor.jobs.submit import ConfigRefused, check_config, describe_spec, resolve_config
from supervisor.protocol import ErrorCode, InstanceState, Method, RunState
from supervisor.state.results import Results
from supervisor.state.store import Store

MAX_TAIL_LINES = 10_000
HISTORY_POINTS = (10, 20_000, 2_000)  # max_points: least, most, default


class Daemon:
    def __init__(self, cfg: DaemonConfig, store: Store, hub: Hub) -> None:
        self.cfg = cfg
        self.store = store
        self.hub = hub
        self.runs: dict[str, RunSupervisor] = {}
        self.started = time.time()
        self.results = Results(
            cfg.state_dir / "results.sqlite3", cap=cfg.tuning.history_cap, interval_s=cfg.tuning.history_interval_s
        )
        self.evals = Evaluations(cfg, self.results, self.publish)
        self._strategy_slots = asyncio.Semaphore(cfg.tuning.strategy_concurrency)
        self._games: dict[str, str] = {}

    def adopt(self, row: Any) -> RunSupervisor:
        sup = RunSupervisor(self.cfg, self.store, self.publish, row)
        sup.on_phase = self._on_phase
        self.runs[row.id] = sup
        return sup

    def view(self, sup: RunSupervisor) -> dict[str, Any]:
        """A run as the API shows it: its RunInfo with its game, its newest evaluation and its estimate."""
        return dataclasses.replace(
            sup.info(), eval=self.evals.status(sup.id), estimate=self.results.estimate(sup.id), game=self.game(sup)
        ).to_dict()

    def game(self, sup: RunSupervisor) -> str | None:
        """The run's game, read from its frozen run.yaml once (it never changes)."""
        if sup.id not in self._games and (game := run_game(sup.dir)) is not None:
            self._games[sup.id] = game
        return self._games.get(sup.id)

    async def _on_phase(self, sup: RunSupervisor, phase: str) -> None:
        if phase == "prepare" or (phase == "prepared" and self.cfg.tuning.estimate_sample_s > 0):
            await estimate_run(self.cfg, self.results, sup, sampled=phase == "prepared")
        elif (
            phase == "done"
            and self.cfg.tuning.auto_eval
            and run_game(sup.dir) == "hunl"
            and not self.evals.running(sup.id)
        ):
            row = self.store.run(sup.id) or sup.row
            self.evals.start(sup.id, sup.dir, resolve_source(sup.id, row.merged, [], "merged"), auto=True)

    def publish(self, ev: dict[str, Any]) -> None:
        """Every event of the runs passes here: progress feeds the history, then subscribers get it."""
        if ev["event"] == "progress":
            self.results.observe(ev)
        self.hub.publish(ev)

    # lifecycle --------------------------------------------------------------------------------
    def load(self) -> list[RunSupervisor]:
        """Adopt every run the store knows; return those whose desired state is running."""
        resumable = []
        for row in reversed(self.store.runs()):
            sup = self.adopt(row)
            if row.desired == "running" and row.state not in (RunState.DONE.value, RunState.FAILED.value):
                resumable.append(sup)
        return resumable

    def start_run(self, spec: StartSpec, origin: str) -> RunSupervisor:
        """Create and start a run whose config has been checked (see validated_start)."""
        row = create_run(self.cfg, self.store, spec)
        sup = self.adopt(row)
        sup.set_origin(origin)
        sup.warn_if_oversubscribed()
        sup.start()
        return sup

    async def validated_start(self, spec: StartSpec, why: str) -> RunSupervisor:
        """run.start: the config must pass `holdem check-config` before anything is created."""
        config = resolve_config(spec, self.cfg.default_config)
        await check_config(self.cfg.worker_cmd, config)
        return self.start_run(spec, f"{why}: {describe_spec(spec, config)}")

    async def shutdown(self) -> None:
        await self.evals.shutdown()
        for sup in list(self.runs.values()):
            if sup.active:
                await sup.shutdown()

    def summary(self) -> str:
        """One line for systemd's STATUS= and the logs."""
        active = [r for r in self.runs.values() if r.active]
        if not active:
            return f"idle; {len(self.runs)} run(s) known"
        parts = []
        for r in active:
            insts = r.instances
            running = sum(i.state is InstanceState.RUNNING for i in insts)
            done = sum(i.iter for i in insts)
            target = sum(i.target_iters or 0 for i in insts)
            pct = f" {100 * done / target:.1f}%" if target else ""
            ips = sum(i.ips for i in insts)
            parts.append(f"{r.id} {r.state.value}{pct} {running}/{len(insts)} instances {ips:,.0f} it/s")
        return "; ".join(parts)

    def newest_active(self) -> RunSupervisor | None:
        for r in sorted(self.runs.values(), key=lambda r: r.row.created, reverse=True):
            if r.active:
                return r
        return None

    def find(self, run_id: str | None) -> RunSupervisor:
        if run_id is None:
            if not self.runs:
                raise ApiError(ErrorCode.UNKNOWN_RUN, "there are no runs")
            return self.newest_active() or max(self.runs.values(), key=lambda r: (r.row.created, r.id))
        if run_id == "":  # a prefix of every id: it would pick a run nobody named
            raise ApiError(ErrorCode.INVALID_PARAMS, "'run' is empty: give a run id or a unique prefix of one")
        if run_id in self.runs:
            return self.runs[run_id]
        matches = [r for r in self.runs.values() if r.id.startswith(run_id)]
        if len(matches) == 1:
            return matches[0]
        raise ApiError(
            ErrorCode.UNKNOWN_RUN, f"unknown run {run_id!r}" if not matches else f"run prefix {run_id!r} is ambiguous"
        )

    # the API ----------------------------------------------------------------------------------
    async def __call__(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            handler = self._handlers[method]
        except KeyError:
            raise ApiError(
                ErrorCode.UNKNOWN_METHOD, f"unknown method {method!r}; known: {', '.join(m.value for m in Method)}"
            ) from None
        try:
            return await handler(self, params)
        except RunError as exc:
            raise ApiError(ErrorCode.CONFLICT, str(exc)) from None
        except KeyError as exc:
            raise ApiError(ErrorCode.INVALID_PARAMS, str(exc.args[0] if exc.args else exc)) from None

    async def _ping(self, params: dict[str, Any]) -> dict[str, Any]:
        check_keys(params, set())
        return {"pong": True, "pid": os.getpid()}

    async def _status(self, params: dict[str, Any]) -> dict[str, Any]:
        check_keys(params, {"run", "all"})
        run_id = opt(params, "run", str)
        every = params.get("all") or False
        if not isinstance(every, bool):
            raise ApiError(ErrorCode.INVALID_PARAMS, "'all' must be true or false")
        runs = (
            [self.find(run_id)]
            if run_id is not None
            else sorted(
                (r for r in self.runs.values() if every or r.active or r is self._newest()),
                key=lambda r: r.row.created,
                reverse=True,
            )
        )
        return {
            "runs": [self.view(r) for r in runs],
            "daemon": {
                "pid": os.getpid(),
                "started": self.started,
                "socket": str(self.cfg.socket),
                "state_dir": str(self.cfg.state_dir),
                "summary": self.summary(),
                "subscribers": len(self.hub.subscribers),
                **health(self.cfg, self.store),
            },
        }

    def _newest(self) -> RunSupervisor | None:
        return max(self.runs.values(), key=lambda r: (r.row.created, r.id), default=None)

    async def _runs_list(self, params: dict[str, Any]) -> dict[str, Any]:
        check_keys(params, set())
        runs = sorted(self.runs.values(), key=lambda r: (r.row.created, r.id), reverse=True)
        return {"runs": [self.view(r) for r in runs]}

    async def _run_start(self, params: dict[str, Any]) -> dict[str, Any]:
        check_keys(params, {"instances", "config", "iters", "time_budget_s", "seed", "executor", "workers"})
        instances = opt(params, "instances", int)
        if instances is None:
            raise ApiError(ErrorCode.INVALID_PARAMS, "'instances' is required")
        config = opt(params, "config", str)
        budget = opt(params, "time_budget_s", (int, float))
        executor = opt(params, "executor", dict)
        try:
            spec = StartSpec(
                instances=instances,
                config=Path(config) if config else None,
                iters=opt(params, "iters", int),
                time_budget_s=float(budget) if budget else None,
                seed=opt(params, "seed", int),
                workers=opt(params, "workers", int) or 1,
                executor=ExecutorSpec.from_dict(executor) if executor is not None else None,
            )
            sup = await self.validated_start(spec, "started by holdemctl start (run.start)")
        except ConfigRefused as exc:
            raise ApiError(ErrorCode.INVALID_PARAMS, str(exc)) from None
        except ValueError as exc:
            raise ApiError(ErrorCode.INVALID_PARAMS, str(exc)) from None
        return {"run": self.view(sup)}

    async def _run_stop(self, params: dict[str, Any]) -> dict[str, Any]:
        check_keys(params, {"run"})
        sup = self.find(opt(params, "run", str))
        await sup.stop()
        return {"run": self.view(sup)}

    async def _run_resume(self, params: dict[str, Any]) -> dict[str, Any]:
        check_keys(params, {"run"})
        sup = self.find(opt(params, "run", str))
        sup.resume()
        sup.set_origin("resumed by holdemctl resume (run.resume)")
        return {"run": self.view(sup)}

    async def _instance_restart(self, params: dict[str, Any]) -> dict[str, Any]:
        check_keys(params, {"run", "index"})
        index = opt(params, "index", int)
        if index is None:
            raise ApiError(ErrorCode.INVALID_PARAMS, "'index' is required")
        sup = self.find(opt(params, "run", str))
        sup.restart_instance(index)
        return {"run": self.view(sup)}

    async def _run_merge(self, params: dict[str, Any]) -> dict[str, Any]:
        check_keys(params, {"run"})
        sup = self.find(opt(params, "run", str))
        ok, why = await sup.merge()
        if not ok:
            raise ApiError(ErrorCode.CONFLICT, f"merge failed: {why}")
        return {"run": self.view(sup), "merged": str(sup.dir / "merged")}

    async def _logs_tail(self, params: dict[str, Any]) -> dict[str, Any]:
        check_keys(params, {"run", "index", "lines"})
        lines = opt(params, "lines", int) or 50
        if not 0 < lines <= MAX_TAIL_LINES:
            raise ApiError(ErrorCode.INVALID_PARAMS, f"'lines' must be in 1..{MAX_TAIL_LINES}")
        index = opt(params, "index", int)
        if index is None and params.get("run") is None:
            path = self.cfg.log_path
        else:
            sup = self.find(opt(params, "run", str))
            if index is None:
                path = sup.dir / "run.log"  # phases and state changes of the run
            else:
                path = sup._instance(index).log_path
        return {"lines": tail(path, lines), "path": str(path)}

    async def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        check_keys(params, {"run", "instance", "max_points"})
        sup = self.find(opt(params, "run", str))
        index = opt(params, "instance", int)
        least, most, default = HISTORY_POINTS
        max_points = opt(params, "max_points", int)
        max_points = default if max_points is None else max_points
        if not least <= max_points <= most:
            raise ApiError(ErrorCode.INVALID_PARAMS, f"'max_points' must be in {least}..{most}, got {max_points}")
        if index is not None and not 0 <= index < len(sup.instances):
            raise ApiError(
                ErrorCode.INVALID_PARAMS,
                f"'instance': run {sup.id} has no instance {index} (it has {len(sup.instances)})",
            )
        indexes = [index] if index is not None else [i.index for i in sup.instances]
        return {"run": sup.id, "instances": {str(k): self.results.history(sup.id, k, max_points) for k in indexes}}

    def _source(self, sup: RunSupervisor, params: dict[str, Any]) -> Any:
        wanted = opt(params, "source", str)
        if wanted is not None and wanted not in SOURCES:
            raise ApiError(ErrorCode.INVALID_PARAMS, f"'source' must be one of {', '.join(SOURCES)}, got {wanted!r}")
        row = self.store.run(sup.id) or sup.row
        try:
            return resolve_source(sup.id, row.merged, [i.dir for i in sup.instances], wanted)
        except NoSource as exc:
            raise ApiError(ErrorCode.CONFLICT, str(exc)) from None

    def _hold_em(self, sup: RunSupervisor, what: str) -> None:
        game = run_game(sup.dir)
        if game != "hunl":
            raise ApiError(
                ErrorCode.INVALID_PARAMS,
                f"run {sup.id} is a {game or 'unknown'} run: {what} is for "
                "hold'em blueprints (Kuhn and Leduc have an exact "
                "exploitability: holdem eval DIR --exploitability)",
            )

    async def _strategy(self, params: dict[str, Any]) -> dict[str, Any]:
        check_keys(params, {"run", "source", "range", "hand", "board", "history"})
        sup = self.find(opt(params, "run", str))
        whole = params.get("range")
        if whole is not None and not isinstance(whole, bool):
            raise ApiError(ErrorCode.INVALID_PARAMS, "'range' must be true or false")
        hand = opt(params, "hand", str)
        if bool(whole) == (hand is not None):
            raise ApiError(
                ErrorCode.INVALID_PARAMS,
                "give 'hand' (two hole cards, e.g. \"AsKd\") or 'range': true"
                + (", not both" if hand is not None else ""),
            )
        board, history = opt(params, "board", str) or "", opt(params, "history", str) or ""
        source = self._source(sup, params)
        argv = strategy_argv(self.cfg.worker_cmd, source.path, hand, board, history, bool(whole))
        async with self._strategy_slots:
            try:
                doc = await run_holdem(argv, self.cfg.tuning.strategy_timeout_s)
            except HoldemFailed as exc:
                raise ApiError(ErrorCode.INVALID_PARAMS if exc.refused else ErrorCode.INTERNAL, exc.message) from None
            except TimeoutError:
                raise ApiError(
                    ErrorCode.INTERNAL, f"holdem strategy did not answer within {self.cfg.tuning.strategy_timeout_s:g}s"
                ) from None
        return {**doc, "source": checkpoint_path(source, doc.get("iteration")).to_dict()}

    async def _run_eval(self, params: dict[str, Any]) -> dict[str, Any]:
        check_keys(params, {"run", "source"})
        sup = self.find(opt(params, "run", str))
        self._hold_em(sup, "the evaluation ladder")
        if self.evals.running(sup.id):
            raise ApiError(ErrorCode.CONFLICT, f"run {sup.id} already has an evaluation running")
        return self.evals.start(sup.id, sup.dir, self._source(sup, params))

    _handlers = {
        Method.PING.value: _ping,
        Method.STATUS.value: _status,
        Method.RUNS_LIST.value: _runs_list,
        Method.RUN_START.value: _run_start,
        Method.RUN_STOP.value: _run_stop,
        Method.RUN_RESUME.value: _run_resume,
        Method.INSTANCE_RESTART.value: _instance_restart,
        Method.RUN_MERGE.value: _run_merge,
        Method.LOGS_TAIL.value: _logs_tail,
        Method.HISTORY.value: _history,
        Method.STRATEGY.value: _strategy,
        Method.RUN_EVAL.value: _run_eval,
    }

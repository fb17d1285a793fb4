"""The evaluation ladder of a run's blueprint (`holdem eval POLICY --ladder --json`), run by the daemon.

On request (`run.eval`) and by itself when a hold'em run is done (on the merged blueprint; Kuhn and
Leduc runs have an exact exploitability and get no ladder). One ladder per run at a time, at low
priority (`--eval-nice`), in its own session with a timeout. Each evaluation is a row of the results
database from its start (state running) to its end (done with the ladder, or failed with the
reason); the ladder itself is also written atomically to `<run>/eval/ladder-<time>.json`, and its
figures go to the run's TensorBoard as `eval/...` scalars at the blueprint's iteration.

A daemon that dies during an evaluation leaves a row `running` and perhaps its process: the next
daemon kills that process (same pid and start time only) and marks the row failed ("interrupted").
A daemon that is stopped during one leaves its row `running` the same way. The automatic ladder is
part of a run's end, so the next daemon runs an interrupted automatic one again (`rerun_interrupted`);
one asked for is left failed, and `holdemctl eval RUN` asks again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from supervisor.config import DaemonConfig
from supervisor.executors.proc import is_same_process
from supervisor.jobs.blueprints import HoldemFailed, Source, checkpoint_path, run_holdem
from supervisor.jobs.logfile import append_log
from supervisor.jobs.run import RunError
from supervisor.jobs.tensorboard import ScalarWriter
from supervisor.protocol import EventKind
from supervisor.protocol.describe import summary_line
from supervisor.state.files import write_atomic
from supervisor.state.results import Results

log = logging.getLogger("holdemd")
INTERRUPTED = "interrupted: holdemd stopped during the evaluation (`holdemctl eval RUN` runs it again)"
INTERRUPTED_AUTO = "interrupted: holdemd stopped during the evaluation; the next holdemd runs it again"


def ladder_scalars(ladder: dict[str, Any]) -> dict[str, float]:
    """The TensorBoard scalars of one ladder: LBR-fc with its interval, each bot match, the probes."""
    out: dict[str, float] = {}
    lbr = ladder.get("lbr") or {}
    if isinstance(lbr.get("value"), (int, float)):
        out["eval/lbr_fc_mbb"] = float(lbr["value"])
        ci = lbr.get("ci95") or [None, None]
        if all(isinstance(x, (int, float)) for x in ci):
            out["eval/lbr_fc_ci95_low"], out["eval/lbr_fc_ci95_high"] = float(ci[0]), float(ci[1])
    for m in ladder.get("matches") or []:
        if isinstance(m.get("mbb_per_hand"), (int, float)):
            out[f"eval/vs_{m.get('opponent')}_mbb"] = float(m["mbb_per_hand"])
    for key in ("probes_passed", "probes_total"):
        if isinstance(ladder.get(key), int):
            out[f"eval/{key}"] = float(ladder[key])
    return out


class Evaluations:
    """Every run's evaluations: at most one running per run; the newest one is in its status."""

    def __init__(self, cfg: DaemonConfig, results: Results, publish: Any) -> None:
        self.cfg, self.results, self.publish = cfg, results, publish
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self._newest: dict[str, dict[str, Any] | None] = {}
        self._stopping = False
        self.interrupted: list[tuple[str, Source]] = []  # automatic ladders to run again: (run, source)
        for row in results.evals(state="running"):  # left by a daemon that stopped or died: interrupted
            if row.pid and row.pid_start and is_same_process(row.pid, row.pid_start):
                try:
                    os.killpg(row.pid, signal.SIGKILL)
                    log.info("killed evaluation pid %d left by a previous holdemd (run %s)", row.pid, row.run_id)
                except OSError:
                    pass
            results.eval_finished(row.id, "failed", INTERRUPTED_AUTO if row.auto else INTERRUPTED, None, None)
            if row.auto and not any(run == row.run_id for run, _ in self.interrupted):
                src = row.source
                self.interrupted.append(
                    (row.run_id, Source(str(src.get("kind")), str(src.get("path")), src.get("instance")))
                )

    def rerun_interrupted(self, run_dirs: Mapping[str, Path]) -> None:
        """Run again the automatic ladders an earlier daemon did not finish (called once the loop runs)."""
        for run_id, source in self.interrupted if self.cfg.tuning.auto_eval else ():
            if run_id in run_dirs and not self.running(run_id) and Path(source.path).exists():
                self.start(run_id, run_dirs[run_id], source, auto=True)
        self.interrupted = []

    def status(self, run_id: str) -> dict[str, Any] | None:
        if run_id not in self._newest:
            rows = self.results.evals(run_id)
            self._newest[run_id] = rows[0].to_status() if rows else None
        return self._newest[run_id]

    def running(self, run_id: str) -> bool:
        task = self.tasks.get(run_id)
        return task is not None and not task.done()

    def start(self, run_id: str, run_dir: Path, source: Source, auto: bool = False) -> dict[str, Any]:
        """Start the ladder on `source` in the background; RunError if one is running for this run."""
        if self.running(run_id):
            raise RunError(f"run {run_id} already has an evaluation running (holdemctl status shows it)")
        eval_id = self.results.eval_started(run_id, source.to_dict(), auto)
        started = time.time()
        self._newest[run_id] = {
            "state": "running",
            "source": source.to_dict(),
            "started": started,
            "finished": None,
            "error": None,
            "ladder": None,
            "ladder_path": None,
            "automatic": auto,
        }
        self.tasks[run_id] = asyncio.create_task(self._run(run_id, run_dir, source, eval_id), name=f"eval-{run_id}")
        self._tell(run_id, run_dir, f"evaluation ladder started on {source.path}" + (" (run done)" if auto else ""))
        return {"started": True, "source": source.to_dict()}

    def argv(self, policy: str) -> list[str]:
        t = self.cfg.tuning
        workers = t.eval_workers or len(os.sched_getaffinity(0))
        return [
            *self.cfg.worker_cmd,
            "eval",
            policy,
            "--ladder",
            "--json",
            "--hands",
            str(t.eval_hands),
            "--lbr-hands",
            str(t.eval_lbr_hands),
            "--seed",
            str(t.eval_seed),
            "--workers",
            str(workers),
        ]

    async def _run(self, run_id: str, run_dir: Path, source: Source, eval_id: int) -> None:
        t = self.cfg.tuning
        state, error, ladder, path = "failed", None, None, None
        try:
            ladder = await run_holdem(
                self.argv(source.path),
                t.eval_timeout_s,
                nice=t.eval_nice,
                on_start=lambda pid, start: self.results.eval_pid(eval_id, pid, start),
            )
            path = self._save(run_dir, ladder)
            state = "done"
            source = checkpoint_path(source, ladder.get("iteration"))
            self.results.eval_source(eval_id, source.to_dict())
        except HoldemFailed as exc:
            error = exc.message
        except TimeoutError:
            error = f"the ladder did not finish within {t.eval_timeout_s:g}s (--eval-timeout)"
        except asyncio.CancelledError:
            error = INTERRUPTED
            if self._stopping:
                state = "running"  # the row stays running: the next daemon deals with it (see __init__)
            raise
        except OSError as exc:  # the ladder file could not be written (a full disk)
            error = f"cannot write the ladder: {exc}"
        finally:
            if state != "running":
                self.results.eval_finished(eval_id, state, error, ladder if state == "done" else None, path)
                self._newest.pop(run_id, None)
                self._tell(run_id, run_dir, summary_line(self.status(run_id)) or state)

    def _save(self, run_dir: Path, ladder: dict[str, Any]) -> str:
        folder = run_dir / "eval"
        folder.mkdir(exist_ok=True)
        path = folder / f"ladder-{time.strftime('%Y%m%d-%H%M%S')}.json"
        write_atomic(path, json.dumps(ladder, indent=1).encode())
        try:
            writer = ScalarWriter(run_dir / "tensorboard")
            try:
                writer.add_scalars(int(ladder.get("iteration") or 0), ladder_scalars(ladder))
            finally:
                writer.close()
        except OSError as exc:
            append_log(run_dir / "run.log", f"evaluation scalars not written to TensorBoard: {exc}")
        return str(path)

    def _tell(self, run_id: str, run_dir: Path, line: str) -> None:
        append_log(run_dir / "run.log", line)
        now = time.time()
        ev = self.status(run_id) or {}
        self.publish({"event": EventKind.EVAL.value, "run": run_id, "state": ev.get("state"), "t": now})
        self.publish({"event": EventKind.LOG.value, "run": run_id, "instance": None, "line": line, "t": now})

    async def shutdown(self) -> None:
        """The daemon is stopping: running ladders are killed and left for the next daemon, which records
        them interrupted and runs the automatic ones again."""
        self._stopping = True
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)

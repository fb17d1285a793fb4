"""The Slurm executor: every child is `srun` (one task, its own job), so the worker runs on a compute
node while its stdout event stream still reaches holdemd through srun's stdout pipe.

srun's own signal handling decides how children are signalled (measured on Slurm 22.05, see
docs/cluster.md): SIGTERM, SIGHUP or SIGQUIT to srun mean "forcing job termination", and the task
is SIGKILLed without the SIGTERM it could checkpoint on; one SIGINT only prints the tasks' status
(two within a second abort the step); other signals (SIGUSR1, ...) are forwarded. So a graceful
stop is `scancel --signal=TERM <job>` (the task alone gets SIGTERM, checkpoints, exits 0, and srun
returns 0), and a hard stop is SIGKILL to srun plus `scancel --signal=KILL` and `scancel` of the job.

A daemon that dies (even by SIGKILL) takes its sruns with it: each srun is started with the
parent-death signal SIGTERM (prctl PR_SET_PDEATHSIG), so it forces its job's termination at once.
A new daemon first cancels any job still named like the instance it is about to relaunch, and
waits until the queue no longer has it. Two workers on one instance folder are impossible anyway:
the worker holds an flock on the folder (exit 3 for the second).
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import pwd
import secrets
import signal
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from .base import Executor, ExecutorSpec, Launched, Placement, Task
from .proc import is_same_process, signal_pid, stop_orphan

PR_SET_PDEATHSIG = 1
CMD_TIMEOUT_S = 30.0  # squeue / scancel; slurmctld answers in milliseconds when healthy
LIVE_STATES = frozenset(
    {
        "PENDING",
        "CONFIGURING",
        "RUNNING",
        "COMPLETING",
        "SUSPENDED",
        "REQUEUED",
        "RESIZING",
        "SIGNALING",
        "STAGE_OUT",
        "STOPPED",
        "PREEMPTED",
    }
)


class SlurmError(Exception):
    """squeue or scancel failed (slurmctld unreachable, bad options)."""


def _pdeathsig(parent: int) -> Callable[[], None]:
    """In the forked child, before exec: SIGTERM when the daemon dies, and now if it already did."""
    libc = ctypes.CDLL(None, use_errno=True)

    def set_it() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the daemon died between fork and prctl
            os.kill(os.getpid(), signal.SIGTERM)

    return set_it


class SlurmExecutor(Executor):
    name = "slurm"

    def __init__(self, spec: ExecutorSpec) -> None:
        super().__init__(spec)
        self.user = pwd.getpwuid(os.getuid()).pw_name
        self._bg: set[asyncio.Task[None]] = set()
        self._names: set[str] = set()  # every job name launched, so close() can wait for the queue
        self._term_pending: set[int] = set()  # sruns asked to stop before their job id was known

    # launching ------------------------------------------------------------------------------
    def srun_options(self, task: Task) -> list[str]:
        s = self.spec
        opts = [
            f"--job-name={task.name}",
            "--ntasks=1",
            "--nodes=1",
            f"--cpus-per-task={task.cpus}",
            "--kill-on-bad-exit=1",
            "--input=none",
        ]
        opts += [f"--partition={s.partition}"] if s.partition else []
        opts += [f"--account={s.account}"] if s.account else []
        if s.time_limit:
            # Before the limit kills it, the worker gets SIGTERM and checkpoints; holdemd relaunches it
            # as a new job from that checkpoint (Slurm may send it up to 60 s earlier than asked).
            opts += [f"--time={s.time_limit}", "--signal=TERM@120"]
        return opts + list(s.options)

    def command(self, task: Task, argv: Sequence[str]) -> list[str]:
        self._names.add(task.name)
        return ["srun", *self.srun_options(task), "--", *argv]

    def preexec(self) -> Callable[[], None] | None:
        return _pdeathsig(os.getpid())

    def started(self, launched: Launched) -> None:
        self._spawn(self._locate(launched))

    async def _locate(self, launched: Launched) -> None:
        """Poll squeue for the job srun created (its id, then its node), backing off to 30 s while
        it pends: a queue may hold it for hours, and slurmctld is shared."""
        delay = 0.1
        while is_same_process(launched.pid, launched.start_time or -1):
            try:
                jobs = await self.jobs(launched.task.name)
            except SlurmError:
                jobs = []
            jobs = [j for j in jobs if j[1] != "COMPLETING"]  # an earlier launch's job, winding down
            if jobs:
                job_id, state, node = jobs[-1]
                launched.place(Placement(self.name, job_id, node or None))
                if launched.pid in self._term_pending:
                    self._term_pending.discard(launched.pid)
                    self.terminate(launched)
                if state == "RUNNING" and node:
                    return
            await asyncio.sleep(delay)
            delay = min(30.0, delay * 2)
        self._term_pending.discard(launched.pid)

    # signalling -----------------------------------------------------------------------------
    def terminate(self, launched: Launched) -> None:
        """SIGTERM to the task itself (not to srun, which would SIGKILL it); a job still pending
        has nothing to checkpoint and is simply cancelled."""
        job, node = launched.placement.job_id, launched.placement.node
        if job and node:
            self._spawn(self._scancel(["--signal=TERM", job]))
        elif job:
            self._spawn(self._scancel([job]))
        else:  # srun is still asking for its job: signal it once squeue shows the job
            self._term_pending.add(launched.pid)

    def kill(self, launched: Launched) -> None:
        signal_pid(launched.pid, signal.SIGKILL)  # srun gone: Slurm ends the step within seconds
        job = launched.placement.job_id
        target = [job] if job else self._by_name(launched.task.name)
        self._spawn(self._hard_cancel(target))

    async def _hard_cancel(self, target: list[str]) -> None:
        await self._scancel(["--signal=KILL", *target])
        await self._scancel(target)

    async def clear_leftover(
        self, task: Task, pid: int | None, start_time: int | None, grace_s: float, silence_s: float | None = None
    ) -> str | None:
        """An srun of a dead daemon ended its job on the parent-death signal; if it or the job is
        still there (the daemon came back within the job's kill wait), end them now, gracefully
        first, and wait until the queue no longer holds the name."""
        found: list[str] = []
        # srun only relays a worker on another node: its own CPU time says nothing of that worker's
        # life, so the silence rule does not apply to it.
        if pid and start_time and await stop_orphan(pid, start_time, grace_s):
            found.append(f"orphan srun pid {pid}")
        try:
            jobs = await self.jobs(task.name)
        except SlurmError as exc:  # cannot look; the folder's flock still keeps a second worker out
            return "; ".join([*found, f"no check for leftover jobs ({exc})"])
        if jobs:
            found.append("orphan slurm job " + ",".join(j for j, _, _ in jobs))
            await self._scancel(["--signal=TERM", *self._by_name(task.name)])
            if await self.wait_gone([task.name], grace_s):
                await self._scancel(self._by_name(task.name))
                if await self.wait_gone([task.name], grace_s):
                    await self._scancel(["--signal=KILL", *self._by_name(task.name)])
                    await self.wait_gone([task.name], grace_s)
        return " and ".join(found) or None

    # queries --------------------------------------------------------------------------------
    def _by_name(self, name: str) -> list[str]:
        return [f"--name={name}", f"--user={self.user}"]

    async def jobs(self, *names: str) -> list[tuple[str, str, str]]:
        """Live jobs of ours with these names, oldest first: (job id, state, node list)."""
        out = await self._run(
            [
                "squeue",
                "--noheader",
                f"--name={','.join(names)}",
                f"--user={self.user}",
                "--states=all",
                "--format=%i|%T|%N",
            ]
        )
        rows = []
        for line in out.splitlines():
            parts = line.strip().split("|")
            if len(parts) == 3 and parts[1] in LIVE_STATES:
                rows.append((parts[0], parts[1], parts[2]))
        return sorted(rows, key=lambda r: int(r[0]) if r[0].isdigit() else 0)

    async def wait_gone(self, names: Sequence[str], timeout_s: float) -> list[str]:
        """Wait until no live job of ours has one of these names; the ids still there at the timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            try:
                left = [j for j, _, _ in await self.jobs(*names)]
            except SlurmError:
                left = ["?"]
            if not left or loop.time() >= deadline:
                return left
            await asyncio.sleep(0.2)

    async def _scancel(self, args: list[str]) -> None:
        try:
            await self._run(["scancel", *args])
        except SlurmError:
            pass  # the job is gone already, or slurmctld is away; kill() and clear_leftover() retry

    async def _run(self, argv: list[str]) -> str:
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
        except OSError as exc:
            raise SlurmError(f"cannot run {argv[0]}: {exc}") from None
        try:
            out, err = await asyncio.wait_for(proc.communicate(), CMD_TIMEOUT_S)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise SlurmError(f"{argv[0]} did not answer within {CMD_TIMEOUT_S:g}s") from None
        if proc.returncode != 0:
            raise SlurmError(f"{' '.join(argv)}: {err.decode(errors='replace').strip()}")
        return out.decode(errors="replace")

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._bg.add(task)
        task.add_done_callback(self._bg.discard)

    # the shared filesystem ------------------------------------------------------------------
    async def check_run_dir(self, run_dir: Path, timeout_s: float = 300.0) -> None:
        """A one-task job reads a token the daemon wrote into the run folder and writes one back:
        proves the node sees the same folder, writable. Bounded by `timeout_s` (a queue may pend)."""
        token = secrets.token_hex(8)
        probe = run_dir / ".slurm-probe"
        answer = run_dir / ".slurm-probe.node"
        probe.write_text(token)
        answer.unlink(missing_ok=True)
        task = Task(f"holdem-{run_dir.name}-fscheck")
        argv = [
            "srun",
            *self.srun_options(task),
            "--",
            "/bin/sh",
            "-c",
            'cat "$1" && hostname > "$2"',
            "sh",
            str(probe),
            str(answer),
        ]
        self._names.add(task.name)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                preexec_fn=self.preexec(),
            )
        except OSError as exc:
            raise ValueError(f"cannot run srun for executor slurm: {exc}") from None
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout_s)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            await self._scancel(self._by_name(task.name))
            raise ValueError(
                f"srun did not run the runs-root check within {timeout_s:g}s (is the partition busy or down?)"
            ) from None
        finally:
            probe.unlink(missing_ok=True)
        why = err.decode(errors="replace").strip().splitlines()
        if proc.returncode != 0 or out.decode().strip() != token:
            raise ValueError(
                f"the Slurm nodes cannot read the runs root {run_dir.parent} (it must be a "
                f"filesystem every node sees): srun exit {proc.returncode}: {' '.join(why[-2:])}"
            )
        try:
            node = answer.read_text().strip()
            answer.unlink()
        except OSError:
            raise ValueError(
                f"a Slurm node wrote into the runs root {run_dir.parent} but holdemd does not see "
                "it: the runs root must be one shared filesystem"
            ) from None
        if not node:
            raise ValueError(f"a Slurm node could not write into the runs root {run_dir.parent}")

    async def close(self, timeout_s: float = 30.0) -> None:
        """Let signals in flight land, then wait (bounded) until none of our jobs is in the queue."""
        if self._bg:
            await asyncio.wait(set(self._bg), timeout=CMD_TIMEOUT_S)
        if self._names:
            await self.wait_gone(sorted(self._names), timeout_s)

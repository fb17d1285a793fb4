"""The TUI's one link to holdemd: snapshot + subscribe, folded into the Model, reattached for ever.

Loop: connect -> `runs.list` (snapshot) -> `subscribe` -> fold events into the model; on the first
event of a stream, and every `resync_s`, take a fresh snapshot, so nothing published between the
snapshot and the subscription is lost for longer than that. When the daemon goes away the link
says so ("disconnected — retrying") and tries again with a backoff capped at `retry_cap_s`;
the UI never restarts. Commands use a fresh Client each, because calls on one client are
serialised and `run.stop` may wait minutes for checkpoints.

History: a run that a view `watch`es (its dashboard is open) has its plot series filled from the
daemon's `history` when it is watched and again after every reattach, so a TUI that attaches late,
or was away while the daemon restarted, plots the run from its beginning. A daemon without the
method (unknown_method) is not asked again in that session; the plots then start when the TUI did.

No Textual here: the app passes callbacks (`on_change`, `on_link`), the tests can drive it bare.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from supervisor.protocol import (
    Client,
    DaemonUnavailable,
    ErrorCode,
    LineReader,
    LineTooLong,
    Method,
    ProtocolError,
    RunInfo,
    decode,
    parse_reply,
)

from .history import apply_history
from .messages import Link, LinkStatus
from .model import Model
from .series import HISTORY_POINTS

FULL_RESYNC_EVERY = 12  # every 12th resync lists every run, the others only the active ones
COMMAND_TIMEOUT_S = 300.0  # run.stop waits for every child's checkpoint (daemon stop timeout 120 s)
HISTORY_METHOD = "history"
ONE_CALL_INSTANCES = 8  # more instances are asked one by one: 64 x 600 points would pass the 1 MiB line limit


async def probe_refusal(path: Path, wait_s: float = 0.5) -> ProtocolError | None:
    """Why a daemon that is there hung up on us, if it said so.

    A daemon that refuses a peer (permission_denied, busy) writes one error line on accept and
    closes. A client that writes its request first may hit a broken pipe before it reads that
    line, and sees only "connection lost". Connecting and only listening reads it.
    """
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(path)), wait_s)
    except (TimeoutError, OSError):
        return None
    try:
        line = await asyncio.wait_for(LineReader(reader).readline(), wait_s)
        reply = parse_reply(decode(line)) if line else None
    except (TimeoutError, OSError, ValueError, LineTooLong):
        reply = None
    finally:
        writer.close()
    if reply is None or reply.error is None:
        return None
    return ProtocolError(reply.error.code, reply.error.message)


class Connection:
    def __init__(
        self,
        path: Path,
        model: Model,
        on_change: Callable[[], None],
        on_link: Callable[[LinkStatus], None],
        *,
        resync_s: float = 5.0,
        retry_base_s: float = 0.25,
        retry_cap_s: float = 2.0,
        connect_timeout_s: float = 2.0,
    ) -> None:
        self.path = path
        self.model = model
        self.on_change = on_change
        self.on_link = on_link
        self.resync_s = resync_s
        self.retry_base_s = retry_base_s
        self.retry_cap_s = retry_cap_s
        self.connect_timeout_s = connect_timeout_s
        self.status = LinkStatus(Link.CONNECTING, str(path))
        self.daemon_pid: int | None = None
        self.events = 0  # events folded in (the benchmark reads it)
        self.watched: set[str] = set()  # runs whose plots want the daemon's history (open dashboards)
        self.history_supported: bool | None = None  # None: not known for this session's daemon yet
        self._tasks: set[asyncio.Task[None]] = set()

    def _set(self, status: LinkStatus) -> None:
        self.status = status
        self.on_link(status)

    def _client(self, call_timeout: float = 30.0) -> Client:
        return Client(self.path, connect_timeout=self.connect_timeout_s, call_timeout=call_timeout)

    async def run(self) -> None:
        """Stay attached until cancelled."""
        failures = 0
        while True:
            try:
                await self._session()
                raise DaemonUnavailable("holdemd closed the connection")  # _session only ends by raising
            except ProtocolError as exc:
                if isinstance(exc, DaemonUnavailable) and self.path.exists():
                    exc = await probe_refusal(self.path) or exc
                link, detail = self._explain(exc)
            except (ValueError, TypeError, KeyError) as exc:  # a reply of a shape we do not know
                link, detail = Link.DISCONNECTED, f"unexpected reply from holdemd: {exc!r}"
            # a session that got as far as connected starts the backoff afresh
            failures = 1 if self.status.link is Link.CONNECTED else failures + 1
            delay = min(
                self.retry_cap_s * (4 if link is Link.DENIED else 1), self.retry_base_s * 2 ** min(failures - 1, 10)
            )
            self.daemon_pid = None
            self._set(LinkStatus(link, str(self.path), detail, None, delay))
            await asyncio.sleep(delay)
            self._set(LinkStatus(Link.CONNECTING, str(self.path), detail))

    def _explain(self, exc: ProtocolError) -> tuple[Link, str]:
        if exc.code == ErrorCode.PERMISSION_DENIED.value:
            return Link.DENIED, f"permission denied: {exc.message}"
        if isinstance(exc, DaemonUnavailable) and not self.path.exists():
            return Link.DISCONNECTED, f"no socket at {self.path} — is holdemd running?"
        return Link.DISCONNECTED, exc.message

    async def _session(self) -> None:
        async with self._client() as client:
            pong = await client.call(Method.PING)
            self.daemon_pid = pong.get("pid")
            await self._snapshot(client)
            self._set(LinkStatus(Link.CONNECTED, str(self.path), "", self.daemon_pid))
            await self._snapshot(client, everything=False)  # `status` also carries the daemon's warnings
            self.history_supported = None  # a restarted daemon may be a newer one
            for run_id in sorted(self.watched):
                await self._history_quietly(run_id, client)
            first = asyncio.Event()
            # Either task ending ends the session: a dead stream or a failed resync both mean
            # the daemon is gone (or going); the other task is cancelled, the error re-raised.
            tasks = {asyncio.create_task(self._stream(first)), asyncio.create_task(self._resync(client, first))}
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            for task in done:
                if (failure := task.exception()) is not None:
                    raise failure
            raise DaemonUnavailable("holdemd closed the event stream")

    def watch(self, run_id: str) -> None:
        self.watched.add(run_id)

    def unwatch(self, run_id: str) -> None:
        self.watched.discard(run_id)

    async def fetch_history(self, run_id: str, client: Client | None = None) -> int | None:
        """Fill `run_id`'s plot series from the daemon's record; the points read, None if the daemon
        has no `history`. Raises ProtocolError for anything else (an unknown run, no daemon)."""
        if self.history_supported is False:
            return None
        run = self.model.runs.get(run_id)
        indexes = sorted(run.instances) if run is not None else []
        own = client is None
        c = client or self._client()
        try:
            if own:
                await c.connect()
            if len(indexes) <= ONE_CALL_INSTANCES:
                reply = await c.call(HISTORY_METHOD, {"run": run_id, "max_points": HISTORY_POINTS})
            else:
                parts: dict[str, Any] = {}
                for k in indexes:
                    part = await c.call(HISTORY_METHOD, {"run": run_id, "instance": k, "max_points": HISTORY_POINTS})
                    parts.update(part.get("instances") or {})
                reply = {"run": run_id, "instances": parts}
        except ProtocolError as exc:
            if exc.code == ErrorCode.UNKNOWN_METHOD.value:
                self.history_supported = False
                return None
            raise
        finally:
            if own:
                await c.close()
        self.history_supported = True
        run = self.model.runs.get(run_id)
        if run is None:
            return 0
        count = apply_history(run, reply)
        self.model.version += 1
        self.on_change()
        return count

    async def refresh_run(self, run_id: str) -> None:
        """One run's `status` now, on its own connection."""
        sent = time.time()
        async with self._client(30.0) as client:
            result = await client.call(Method.STATUS, {"run": run_id})
        runs = [r for r in result.get("runs", ()) if isinstance(r, dict)]
        self.model.apply_snapshot([RunInfo.from_dict(r) for r in runs], sent, complete=False)
        self.model.apply_extras(runs)
        self.on_change()

    def _refresh_soon(self, run_id: str) -> None:
        async def quietly() -> None:
            with contextlib.suppress(ProtocolError):
                await self.refresh_run(run_id)

        task = asyncio.create_task(quietly())
        self._tasks.add(task)  # held until done: the loop keeps only weak references to tasks
        task.add_done_callback(self._tasks.discard)

    async def _history_quietly(self, run_id: str, client: Client) -> None:
        """History on reattach: a run the daemon no longer knows is not this session's failure."""
        try:
            await self.fetch_history(run_id, client)
        except ProtocolError as exc:
            if isinstance(exc, DaemonUnavailable):
                raise

    async def _snapshot(self, client: Client, everything: bool = True) -> None:
        """`runs.list` (every run; forgets runs no longer listed) or `status` (the active ones)."""
        sent = time.time()
        result = await client.call(Method.RUNS_LIST if everything else Method.STATUS)
        runs = [r for r in result.get("runs", ()) if isinstance(r, dict)]
        self.model.apply_snapshot([RunInfo.from_dict(r) for r in runs], sent, complete=everything)
        self.model.apply_extras(runs)
        self.on_change()
        if not everything:
            warnings = tuple(str(w) for w in (result.get("daemon") or {}).get("warnings", ()))
            if warnings != self.status.warnings and self.status.link is Link.CONNECTED:
                self._set(dataclasses.replace(self.status, warnings=warnings))

    async def _resync(self, client: Client, first: asyncio.Event) -> None:
        try:
            await asyncio.wait_for(first.wait(), self.resync_s)
        except TimeoutError:
            pass
        await self._snapshot(client)
        # Finished runs do not change: the active ones are refreshed often, the whole list rarely.
        for n in itertools.count(1):
            await asyncio.sleep(self.resync_s)
            await self._snapshot(client, everything=n % FULL_RESYNC_EVERY == 0)

    async def _stream(self, first: asyncio.Event) -> None:
        async with contextlib.aclosing(self._client().subscribe()) as stream:
            async for event in stream:
                self.events += 1
                if not first.is_set():
                    first.set()
                if self.model.apply_event(event) is not None or event.get("event") == "log":
                    self.on_change()
                if event.get("event") == "eval" and isinstance(event.get("run"), str):
                    self._refresh_soon(event["run"])  # the event says only the state: read the ladder

    async def call(
        self, method: str | Method, params: Mapping[str, Any] | None = None, timeout: float = COMMAND_TIMEOUT_S
    ) -> dict[str, Any]:
        """One command on its own connection; raises ProtocolError (the caller shows it)."""
        sent = time.time()
        async with self._client(timeout) as client:
            result = await client.call(method, params)
        if isinstance(result.get("run"), dict):
            # the reply carries the run's new state: show it now rather than at the next resync
            self.model.apply_snapshot([RunInfo.from_dict(result["run"])], sent, complete=False)
            self.model.apply_extras([result["run"]])
            self.on_change()
        return result

"""The holdemd socket protocol: message shapes, framing, socket discovery and the one client.

Shared by holdemd (server side), holdemctl and holdem-tui. Standard library only, so a client
never pulls in the daemon, numba or textual. Everything here is stable: add fields, never rename.

Transport and trust
    A Unix stream socket (see `socket_path`), mode 0660. The daemon checks the peer with
    SO_PEERCRED: its own uid, root, or a member of the socket's group; anyone else gets one
    `permission_denied` error line and the connection is closed.

Framing
    JSON Lines, UTF-8, one object per line, at most `MAX_LINE_BYTES` (1 MiB) per line including
    the newline. A longer line is answered with `line_too_long` and the connection is dropped.

Requests and replies
    request  {"id": <int|str>, "method": <str>, "params": {...}}
    reply    {"id": ..., "result": {...}}   or   {"id": ..., "error": {"code": <str>, "message": <str>}}
    Errors are data: a bad request never closes the connection (except an oversized line).

Methods (params -> result)
    status          {}                                   -> {"runs": [RunInfo...], "daemon": {...}}
    runs.list       {}                                   -> {"runs": [RunInfo...]}   (all runs, newest first)
    run.start       {instances, config?, iters?, time_budget_s?, seed?}  -> {"run": RunInfo}
    run.stop        {run?}                               -> {"run": RunInfo}  (after children have stopped)
    run.resume      {run?}                               -> {"run": RunInfo}
    instance.restart {run?, index}                       -> {"run": RunInfo}
    run.merge       {run?}                               -> {"run": RunInfo, "merged": <dir>} (after merge ends)
    logs.tail       {run?, index?, lines?=50}            -> {"lines": [str...], "path": <file>}
    subscribe       {run?}                               -> {"subscribed": true}, then events (below)
    ping            {}                                   -> {"pong": true, "pid": <daemon pid>}
    `run` defaults to the newest active run, else the newest. logs.tail reads instance `index`'s
    train.log; without `index` the run's run.log (states, phases); without both the daemon's log.

Subscribe events (lines without "id", after the subscribe reply)
    {"event": "progress", "run", "instance", "iter", "target_iters", "ips", "elapsed_s", "metrics", "t", "t_recv"}
        `metrics` is the worker's own (e.g. exploitability, avg_regret; a value may be null).
        `t` is the child's own timestamp (when it wrote the line), `t_recv` when the daemon read it.
    {"event": "state", "run", "instance" (null for the run itself), "state", "reason", "t"}
    {"event": "checkpoint", "run", "instance", "iter", "path", "t"}
    {"event": "log", "run", "instance" (null: daemon), "line", "t"}
    A subscriber that does not keep up is dropped (the daemon never buffers without bound).

Socket discovery (`socket_path`): --socket, else $HOLDEMD_SOCKET, else $RUNTIME_DIRECTORY/holdemd.sock
(systemd), else $XDG_RUNTIME_DIR/holdemd.sock, else /run/holdemd/holdemd.sock for root and
/tmp/holdemd-<uid>/holdemd.sock for anyone else.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import json
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

PROTOCOL_VERSION = 1
MAX_LINE_BYTES = 1 << 20
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_CALL_TIMEOUT = 30.0
SOCKET_NAME = "holdemd.sock"


class Method(str, enum.Enum):
    """Every method the daemon serves."""

    STATUS = "status"
    RUNS_LIST = "runs.list"
    RUN_START = "run.start"
    RUN_STOP = "run.stop"
    RUN_RESUME = "run.resume"
    INSTANCE_RESTART = "instance.restart"
    RUN_MERGE = "run.merge"
    LOGS_TAIL = "logs.tail"
    SUBSCRIBE = "subscribe"
    PING = "ping"


class ErrorCode(str, enum.Enum):
    """The `code` of an error reply. Clients branch on these, never on messages."""

    PARSE_ERROR = "parse_error"  # the line is not JSON
    INVALID_REQUEST = "invalid_request"  # JSON, but not {"id", "method", "params"}
    UNKNOWN_METHOD = "unknown_method"
    INVALID_PARAMS = "invalid_params"
    UNKNOWN_RUN = "unknown_run"
    CONFLICT = "conflict"  # e.g. resume of a run that is running
    LINE_TOO_LONG = "line_too_long"  # the connection is closed after this one
    PERMISSION_DENIED = "permission_denied"
    BUSY = "busy"  # too many connections
    INTERNAL = "internal"
    # client side only: no daemon, the connection died, or a timeout.
    UNAVAILABLE = "unavailable"


class InstanceState(str, enum.Enum):
    STARTING = "starting"
    RUNNING = "running"
    BACKOFF = "backoff"
    STOPPING = "stopping"
    STOPPED = "stopped"
    DONE = "done"
    FAILED = "failed"


class RunState(str, enum.Enum):
    RUNNING = "running"  # RunInfo.phase tells prepare / train / merge apart
    STOPPING = "stopping"
    STOPPED = "stopped"
    MERGING = "merging"
    DONE = "done"
    FAILED = "failed"


class EventKind(str, enum.Enum):
    PROGRESS = "progress"
    STATE = "state"
    CHECKPOINT = "checkpoint"
    LOG = "log"


def _from_mapping(cls: type, data: Mapping[str, Any]) -> Any:
    """Build a dataclass from a dict, ignoring unknown keys (newer daemons may add fields)."""
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True, slots=True)
class InstanceInfo:
    index: int
    state: str
    pid: int | None = None
    iter: int = 0
    target_iters: int | None = None
    restarts: int = 0
    last_checkpoint: str | None = None
    ips: float = 0.0
    elapsed_s: float = 0.0
    reason: str | None = None  # why it is failed / backing off / was last restarted
    seed: int | None = None
    dir: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InstanceInfo:
        return _from_mapping(cls, data)


@dataclass(frozen=True, slots=True)
class RunInfo:
    id: str
    state: str
    dir: str
    instances: tuple[InstanceInfo, ...] = ()
    desired: str = "running"
    phase: str = "train"
    config: str | None = None
    seed: int | None = None
    iters: int | None = None
    time_budget_s: float | None = None
    created: float = 0.0
    reason: str | None = None
    merged: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunInfo:
        run = _from_mapping(cls, data)
        insts = tuple(InstanceInfo.from_dict(i) for i in data.get("instances", ()))
        object.__setattr__(run, "instances", insts)
        return run

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Request:
    id: int | str
    method: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "method": self.method, "params": self.params}


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Reply:
    id: int | str | None
    result: dict[str, Any] | None = None
    error: ErrorInfo | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.error is not None:
            return {"id": self.id, "error": {"code": self.error.code, "message": self.error.message}}
        return {"id": self.id, "result": self.result if self.result is not None else {}}


class ProtocolError(Exception):
    """The one error clients see: an error reply from the daemon, or no usable daemon."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = str(code.value if isinstance(code, ErrorCode) else code)
        self.message = message


class DaemonUnavailable(ProtocolError):
    """No daemon answers at the socket, the connection died, or it did not answer in time."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.UNAVAILABLE.value, message)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


# One encoder for the process: json.dumps with non-default options builds a new one per call,
# and progress events are the daemon's hot path.
_ENCODER = json.JSONEncoder(separators=(",", ":"), default=_json_default)


def encode(obj: Mapping[str, Any]) -> bytes:
    """One JSON Lines frame, compact."""
    return _ENCODER.encode(obj).encode() + b"\n"


def decode(line: bytes | str) -> dict[str, Any]:
    """Parse one frame; raises ValueError unless it is a JSON object."""
    obj = json.loads(line)
    if not isinstance(obj, dict):
        raise ValueError("a frame must be a JSON object")
    return obj


def parse_request(obj: Mapping[str, Any]) -> Request:
    """Validate a request object; raises ValueError with a message fit for the client."""
    rid = obj.get("id")
    if not isinstance(rid, (int, str)) or isinstance(rid, bool):
        raise ValueError('"id" must be an integer or a string')
    method = obj.get("method")
    if not isinstance(method, str):
        raise ValueError('"method" must be a string')
    params = obj.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ValueError('"params" must be an object')
    return Request(rid, method, params)


def parse_reply(obj: Mapping[str, Any]) -> Reply:
    err = obj.get("error")
    if isinstance(err, dict):
        return Reply(obj.get("id"), None, ErrorInfo(str(err.get("code", "")), str(err.get("message", ""))))
    result = obj.get("result")
    return Reply(obj.get("id"), result if isinstance(result, dict) else {})


class LineTooLong(Exception):
    """A frame exceeded the cap; the reader has already skipped past it."""


class LineReader:
    """Splits a byte stream into lines with a hard cap, without ever holding more than the cap.

    asyncio's StreamReader.readline cannot tell a caller where an over-long line ended; this
    can. An over-long line raises LineTooLong once, and reading resumes at the next line.
    """

    __slots__ = ("_reader", "_buf", "_limit", "_skipping", "_eof")

    def __init__(self, reader: asyncio.StreamReader, limit: int = MAX_LINE_BYTES) -> None:
        self._reader = reader
        self._buf = bytearray()
        self._limit = limit
        self._skipping = False
        self._eof = False

    async def readline(self) -> bytes | None:
        """The next line without its newline, or None at end of stream."""
        while True:
            nl = self._buf.find(b"\n")
            if nl >= 0:
                line = bytes(self._buf[:nl])
                del self._buf[: nl + 1]
                if self._skipping:
                    self._skipping = False
                    continue
                if nl + 1 > self._limit:
                    raise LineTooLong(f"line of {nl + 1} bytes exceeds {self._limit}")
                return line
            if len(self._buf) > self._limit:
                self._buf.clear()
                if not self._skipping:
                    self._skipping = True
                    raise LineTooLong(f"line exceeds {self._limit} bytes")
            if self._eof:
                if self._buf and not self._skipping:
                    line = bytes(self._buf)
                    self._buf.clear()
                    return line
                return None
            chunk = await self._reader.read(1 << 16)
            if not chunk:
                self._eof = True
            else:
                self._buf += chunk


def socket_path(explicit: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """Where the daemon listens / a client connects; see the module docstring for the order."""
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if env.get("HOLDEMD_SOCKET"):
        return Path(env["HOLDEMD_SOCKET"])
    for var in ("RUNTIME_DIRECTORY", "XDG_RUNTIME_DIR"):
        value = env.get(var)
        if value:
            # systemd may list several runtime directories separated by ':'; ours is the first.
            return Path(value.split(":")[0]) / SOCKET_NAME
    uid = os.getuid()
    if uid == 0:
        return Path("/run/holdemd") / SOCKET_NAME
    return Path(f"/tmp/holdemd-{uid}") / SOCKET_NAME


class Client:
    """An asyncio client of holdemd: `call()` for requests, `subscribe()` for the event stream.

    Every wait has a timeout; every failure is a ProtocolError (DaemonUnavailable when there is
    no daemon or the connection broke). Calls on one client are serialised.

        async with Client(socket_path()) as c:
            status = await c.call("status")
            async for event in c.subscribe():
                ...
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        call_timeout: float = DEFAULT_CALL_TIMEOUT,
    ) -> None:
        self.path = socket_path(path)
        self.connect_timeout = connect_timeout
        self.call_timeout = call_timeout
        self._conn: tuple[LineReader, asyncio.StreamWriter] | None = None
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> Client:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _open(self) -> tuple[LineReader, asyncio.StreamWriter]:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_unix_connection(str(self.path), limit=MAX_LINE_BYTES), self.connect_timeout
            )
        except (FileNotFoundError, ConnectionRefusedError):
            raise DaemonUnavailable(f"holdemd is not running (no daemon at {self.path})") from None
        except PermissionError:
            raise ProtocolError(ErrorCode.PERMISSION_DENIED, f"not allowed to connect to {self.path}") from None
        except (asyncio.TimeoutError, OSError) as exc:
            raise DaemonUnavailable(f"cannot connect to {self.path}: {exc or 'timed out'}") from None
        return LineReader(reader), writer

    async def connect(self) -> None:
        if self._conn is None:
            self._conn = await self._open()

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await _close_writer(conn[1])

    async def call(self, method: str | Method, params: Mapping[str, Any] | None = None,
                   timeout: float | None = None) -> dict[str, Any]:
        """Send one request and return its result; raises ProtocolError on an error reply."""
        method_name = method.value if isinstance(method, Method) else method
        async with self._lock:
            await self.connect()
            assert self._conn is not None
            reader, writer = self._conn
            rid = next(self._ids)
            try:
                writer.write(encode(Request(rid, method_name, dict(params or {})).to_dict()))
                reply = await asyncio.wait_for(self._read_reply(reader, rid), timeout or self.call_timeout)
            except (ConnectionError, OSError, asyncio.IncompleteReadError) as exc:
                await self.close()
                raise DaemonUnavailable(f"connection to holdemd lost: {exc}") from None
            except asyncio.TimeoutError:
                await self.close()
                raise DaemonUnavailable(f"holdemd did not answer {method_name!r} in time") from None
        if reply.error is not None:
            if reply.error.code == ErrorCode.PERMISSION_DENIED.value:
                await self.close()
            raise ProtocolError(reply.error.code, reply.error.message)
        return reply.result or {}

    @staticmethod
    async def _read_reply(reader: LineReader, rid: int) -> Reply:
        while True:
            try:
                line = await reader.readline()
            except LineTooLong as exc:
                raise ProtocolError(ErrorCode.LINE_TOO_LONG, str(exc)) from None
            if line is None:
                raise ConnectionResetError("holdemd closed the connection")
            try:
                reply = parse_reply(decode(line))
            except ValueError as exc:
                raise ProtocolError(ErrorCode.PARSE_ERROR, f"bad reply from holdemd: {exc}") from None
            # An unsolicited error (id null: e.g. permission denied at connect) answers us too.
            if reply.id == rid or (reply.id is None and reply.error is not None):
                return reply

    async def subscribe(self, params: Mapping[str, Any] | None = None) -> AsyncIterator[dict[str, Any]]:
        """Yield events until the daemon goes away (then DaemonUnavailable). Uses its own connection.

        Consume it in its own task: cancelling a pending `__anext__` (e.g. with wait_for) ends
        the generator, as it does for every async generator.
        """
        reader, writer = await self._open()
        try:
            writer.write(encode(Request(0, Method.SUBSCRIBE.value, dict(params or {})).to_dict()))
            try:
                reply = await asyncio.wait_for(self._read_reply(reader, 0), self.call_timeout)
            except asyncio.TimeoutError:
                raise DaemonUnavailable("holdemd did not answer 'subscribe' in time") from None
            except (ConnectionError, OSError) as exc:
                raise DaemonUnavailable(f"connection to holdemd lost: {exc}") from None
            if reply.error is not None:
                raise ProtocolError(reply.error.code, reply.error.message)
            while True:
                try:
                    line = await reader.readline()
                except LineTooLong:
                    continue
                except (ConnectionError, OSError) as exc:
                    raise DaemonUnavailable(f"connection to holdemd lost: {exc}") from None
                if line is None:
                    raise DaemonUnavailable("holdemd closed the event stream")
                try:
                    event = decode(line)
                except ValueError:
                    continue
                yield event
        finally:
            await _close_writer(writer)


async def _close_writer(writer: asyncio.StreamWriter) -> None:
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), 1.0)
    except (asyncio.TimeoutError, ConnectionError, OSError):
        pass

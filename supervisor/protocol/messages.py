"""Message shapes, framing and socket discovery of the holdemd protocol (see the package docstring)."""

from __future__ import annotations

import asyncio
import enum
import json
import os
import socket
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

PROTOCOL_VERSION = 1
MAX_LINE_BYTES = 1 << 20
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_CALL_TIMEOUT = 30.0
SOCKET_NAME = "holdemd.sock"
QUICKSTART_SOCKET = Path("runs") / "quickstart" / SOCKET_NAME  # `make run`'s daemon, under the checkout
CHECKOUT = Path(__file__).resolve().parents[2]


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
    HISTORY = "history"
    STRATEGY = "strategy"
    RUN_EVAL = "run.eval"


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
    BUSY = "busy"  # (older daemons: too many connections)
    TOO_MANY_CLIENTS = "too_many_clients"  # every place is taken by a busy or subscribed client
    INTERNAL = "internal"
    # client side only: no daemon, the connection died, or a timeout.
    UNAVAILABLE = "unavailable"


class InstanceState(str, enum.Enum):
    PENDING = "pending"  # not launched yet: its run is still in the prepare phase (RunInfo.phase)
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
    EVAL = "eval"


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
    executor: str = "local"  # local | slurm
    job_id: str | None = None  # the Slurm job of the current (or last) launch
    node: str | None = None  # the host it runs on
    workers: int = 1  # worker threads of the instance (holdem train --workers)
    rss_bytes: int | None = None  # the child's resident memory, from /proc (None: not running)

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
    phase_detail: str | None = None  # what the phase is doing now, e.g. "building buckets: flop 310/1,755 boards"
    origin: str | None = None  # why the run is active: how it was started or resumed by this daemon
    executor: dict[str, Any] | None = None  # the executor spec: {name, partition, account, time_limit, options}
    workers: int = 1  # per instance
    cores: int | None = None  # cores the daemon's machine lets it use
    eval: dict[str, Any] | None = None  # the newest evaluation ladder: state, source, ladder (run.eval)
    estimate: dict[str, Any] | None = None  # the prepare phase's estimate (holdem tree): infosets, memory, speed
    game: str | None = None  # the config's game (kuhn, leduc, hunl): what a client may offer for the run

    @property
    def cores_in_use(self) -> int:
        """Worker threads of the running instances (at most one core each)."""
        return sum(i.workers for i in self.instances if i.state == "running")

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
    try:
        obj = json.loads(line)
    except RecursionError:  # e.g. 200,000 nested '[': a bad line like any other, not a crash
        raise ValueError("JSON nested too deeply") from None
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

    __slots__ = ("_buf", "_eof", "_limit", "_reader", "_skipping")

    def __init__(self, reader: asyncio.StreamReader, limit: int = MAX_LINE_BYTES) -> None:
        self._reader = reader
        self._buf = bytearray()
        self._limit = limit
        self._skipping = False
        self._eof = False

    def closed(self) -> bool:
        """Nothing more will come: the peer hung up (or reset) and every buffered line was read."""
        if self._buf.find(b"\n") >= 0:
            return False
        return self._eof or self._reader.at_eof() or self._reader.exception() is not None

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


@dataclass(frozen=True, slots=True)
class Found:
    """The socket to use, and every other place looked at for a daemon (for the message when none answers)."""

    path: Path
    also_looked: tuple[Path, ...] = ()


def find_daemon(
    explicit: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Found:
    """`socket_path`, unless no socket is named (no --socket, no $HOLDEMD_SOCKET) and no daemon listens at
    the default one while `make run`'s does: ./runs/quickstart/holdemd.sock, else the checkout's (a
    symlink to a shorter path when the checkout is deep; followed here)."""
    env = os.environ if environ is None else environ
    default = socket_path(explicit, env)
    if explicit or env.get("HOLDEMD_SOCKET") or listening(default):
        return Found(default)
    places = dict.fromkeys([(cwd or Path.cwd()) / QUICKSTART_SOCKET, CHECKOUT / QUICKSTART_SOCKET])
    for place in places:
        if listening(place):
            return Found(place.resolve())
    return Found(default, tuple(places))


def listening(path: Path, timeout: float = 1.0) -> bool:
    """Does a daemon accept connections at `path`? (One that refuses this user still counts.)"""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(timeout)
    try:
        probe.connect(str(path.resolve()))
        return True
    except PermissionError:
        return True
    except OSError:
        return False
    finally:
        probe.close()

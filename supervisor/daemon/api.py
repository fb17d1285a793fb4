"""The Unix-socket server: JSON Lines requests, replies and the subscribe stream.

Trust model: the socket is created under umask 0117 (mode 0660) and every connection's peer is
checked with SO_PEERCRED: the daemon's own uid, root, or a member of the socket's group. Anyone
else gets one `permission_denied` line and is disconnected.

Robustness: a handler that fails returns an error as data; the server never dies from a request.
Lines are capped at 1 MiB (a longer one ends that connection). A client that stops reading is
dropped when its buffer passes a bound; subscribers that fall behind are dropped the same way, so
one slow client can never make the daemon buffer without limit or stall the others.

Floods: at most `max_clients` connections. A newcomer beyond that takes the place of the oldest
idle one (not subscribed, no request in flight), which is closed; only if none is idle is the
newcomer refused with `too_many_clients`. Subscribers may hold at most half the places, so
holdemctl and the TUI always get in. A connection that sends no request for `idle_timeout_s`
(and is not subscribed) is closed; the client reconnects on its next call.
"""

from __future__ import annotations

import asyncio
import grp
import os
import pwd
import socket
import stat
import struct
import time
from pathlib import Path
from typing import Any, Protocol

from supervisor.protocol import (
    MAX_LINE_BYTES,
    ErrorCode,
    ErrorInfo,
    LineReader,
    LineTooLong,
    Method,
    Reply,
    decode,
    encode,
    parse_request,
)

MAX_CLIENTS = 1024
IDLE_TIMEOUT_S = 300.0
REFUSAL_LINGER_S = 2.0  # after a refusal, wait this long for the client to read it and hang up
BACKLOG = 1024
FLUSH_DELAY_S = 0.002  # events for a subscriber are batched this long: fewer writes, tiny latency
WRITE_BUFFER_LIMIT = 1 << 20  # bytes unread by a client (beyond the kernel's buffer) before it is dropped
DRAIN_TIMEOUT_S = 10.0


class ApiError(Exception):
    """Raised by a handler to reply with a specific error code."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Handler(Protocol):
    async def __call__(self, method: str, params: dict[str, Any]) -> dict[str, Any]: ...


class AlreadyRunning(Exception):
    """The socket path cannot be ours: a live daemon answers there, or it is not a (stale) socket."""


class SocketTaken(AlreadyRunning):
    """Another live daemon answers on the socket."""


def peer_allowed(uid: int, gid: int, sock_gid: int, own_uid: int | None = None) -> bool:
    """The daemon's own user, root, or a member (primary or supplementary) of the socket's group."""
    own = os.getuid() if own_uid is None else own_uid
    if uid in (own, 0) or gid == sock_gid:
        return True
    try:
        pw = pwd.getpwuid(uid)
        return pw.pw_gid == sock_gid or pw.pw_name in grp.getgrgid(sock_gid).gr_mem
    except KeyError:
        return False


def claim_socket_path(path: Path) -> None:
    """Make sure `path` is free for our socket: absent, or a stale socket (removed here).

    Anything else is refused and left untouched: a live daemon's socket, and any path that is not
    a socket at all (a regular file given by mistake to --socket must never be deleted).
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise AlreadyRunning(f"{path} exists and is not a socket; refusing to replace it (choose another --socket)")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(2.0)
    try:
        probe.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        path.unlink(missing_ok=True)  # stale: its daemon is gone
    except OSError as exc:
        raise AlreadyRunning(f"{path} exists and cannot be probed: {exc}") from None
    else:
        raise SocketTaken(f"another holdemd is already listening on {path}")
    finally:
        probe.close()


def bind_socket(path: Path) -> socket.socket:
    """Bind a fresh listening socket at `path` with mode 0660, removing a stale one first."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    claim_socket_path(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o117)
    try:
        sock.bind(str(path))
    finally:
        os.umask(old)
    os.chmod(path, 0o660)
    sock.listen(BACKLOG)
    sock.setblocking(False)
    return sock


class Subscriber:
    """One subscribed connection. Events are appended to a buffer and flushed by a timer, so a
    burst of events costs one write; no task or queue per event (this is the daemon's hot path)."""

    __slots__ = ("buf", "dropped", "run", "scheduled", "transport")

    def __init__(self, run: str | None, transport: asyncio.WriteTransport) -> None:
        self.run = run
        self.transport = transport
        self.buf = bytearray()
        self.scheduled = False
        self.dropped = False

    def push(self, data: bytes) -> None:
        self.buf += data
        if len(self.buf) > WRITE_BUFFER_LIMIT:
            self.drop()
        elif not self.scheduled:
            self.scheduled = True
            asyncio.get_running_loop().call_later(FLUSH_DELAY_S, self.flush)

    def flush(self) -> None:
        self.scheduled = False
        if self.dropped or not self.buf:
            return
        if self.transport.is_closing():
            self.buf.clear()
            return
        self.transport.write(bytes(self.buf))
        self.buf.clear()
        if self.transport.get_write_buffer_size() > WRITE_BUFFER_LIMIT:
            self.drop()  # it does not read: drop it rather than buffer for ever

    def drop(self) -> None:
        """It fell too far behind: cut it off now (its connection handler then ends)."""
        self.dropped = True
        self.buf.clear()
        self.transport.abort()


class Hub:
    """Fan-out of daemon events to subscribers. Each event is encoded once, only if anyone listens."""

    def __init__(self) -> None:
        self.subscribers: set[Subscriber] = set()

    def publish(self, event: dict[str, Any]) -> None:
        if not self.subscribers:
            return
        data = encode(event)
        run = event.get("run")
        for sub in tuple(self.subscribers):
            if sub.run is None or run == sub.run:
                sub.push(data)
                if sub.dropped:
                    self.subscribers.discard(sub)


class _Conn:
    """What admission needs to know of one admitted connection."""

    __slots__ = ("busy", "last_active", "subscribed", "writer")

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.last_active = time.monotonic()
        self.busy = False
        self.subscribed = False


class Server:
    """Accepts connections on the socket and serves `handler` and the hub."""

    def __init__(
        self,
        path: Path,
        handler: Handler,
        hub: Hub,
        *,
        max_clients: int = MAX_CLIENTS,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
    ) -> None:
        self.path = path
        self.handler = handler
        self.hub = hub
        self.max_clients = max_clients
        self.idle_timeout_s = idle_timeout_s
        self._server: asyncio.AbstractServer | None = None
        self._conns: set[asyncio.Task[None]] = set()
        self._clients: set[_Conn] = set()
        self._sock_gid = 0
        self.evicted = 0  # idle connections closed to make room (status shows it)

    async def start(self) -> None:
        sock = bind_socket(self.path)
        self._sock_gid = os.stat(self.path).st_gid
        # A deep backlog: a client that finds it full gets EAGAIN, which asyncio's connect mistakes
        # for success (the socket then fails with EINVAL); bursts of clients must fit.
        self._server = await asyncio.start_unix_server(
            self._on_connect, sock=sock, limit=MAX_LINE_BYTES, backlog=BACKLOG
        )

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in tuple(self._conns):
                task.cancel()
            await asyncio.gather(*self._conns, return_exceptions=True)
            try:
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            except TimeoutError:
                pass
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        try:
            await self._serve(reader, writer)
        except (TimeoutError, ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._conns.discard(task)
            writer.close()
            try:
                await asyncio.wait_for(writer.wait_closed(), 1.0)
            except (TimeoutError, ConnectionError, OSError, asyncio.CancelledError):
                pass

    async def _send(self, writer: asyncio.StreamWriter, reply: Reply) -> None:
        writer.write(encode(reply.to_dict()))
        await asyncio.wait_for(writer.drain(), DRAIN_TIMEOUT_S)

    async def _refuse(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, code: ErrorCode, message: str
    ) -> None:
        """One error line, then a half-close; the client's request is read and discarded until it
        hangs up, so it sees the error and not a reset ("Broken pipe")."""
        await self._send(writer, Reply(None, error=ErrorInfo(code.value, message)))
        writer.write_eof()
        try:
            await asyncio.wait_for(_until_eof(reader), REFUSAL_LINGER_S)
        except TimeoutError:
            pass

    def _admit(self, conn: _Conn) -> bool:
        """A place for a new connection, making room by closing the oldest idle one if need be."""
        if len(self._clients) >= self.max_clients:
            idle = [c for c in self._clients if not c.busy and not c.subscribed]
            if not idle:
                return False
            oldest = min(idle, key=lambda c: c.last_active)
            self._clients.discard(oldest)
            oldest.writer.transport.abort()  # its handler sees the connection end and exits
            self.evicted += 1
        self._clients.add(conn)
        return True

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        _pid, uid, gid = struct.unpack(
            "3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        )
        if not peer_allowed(uid, gid, self._sock_gid):
            await self._send(
                writer,
                Reply(
                    None,
                    error=ErrorInfo(
                        ErrorCode.PERMISSION_DENIED.value,
                        f"uid {uid} may not control holdemd (not owner, root or in the socket's group)",
                    ),
                ),
            )
            return
        conn = _Conn(writer)
        if not self._admit(conn):
            await self._refuse(
                reader,
                writer,
                ErrorCode.TOO_MANY_CLIENTS,
                f"too many clients: all {self.max_clients} places are busy or subscribed",
            )
            return
        try:
            await self._requests(reader, writer, conn)
        finally:
            self._clients.discard(conn)

    async def _requests(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn: _Conn) -> None:
        lines = LineReader(reader, MAX_LINE_BYTES)
        while True:
            try:
                line = await asyncio.wait_for(lines.readline(), self.idle_timeout_s)
            except TimeoutError:
                return  # idle: closed quietly; a client reconnects on its next call
            except LineTooLong as exc:
                await self._send(writer, Reply(None, error=ErrorInfo(ErrorCode.LINE_TOO_LONG.value, str(exc))))
                return
            if line is None:
                return
            if not line.strip():
                continue
            conn.busy = True
            reply, subscribe = await self._dispatch(line)
            if subscribe is not None and sum(c.subscribed for c in self._clients) >= self.max_clients // 2:
                reply, subscribe = (
                    Reply(
                        reply.id,
                        error=ErrorInfo(
                            ErrorCode.TOO_MANY_CLIENTS.value, f"too many subscribers (at most {self.max_clients // 2})"
                        ),
                    ),
                    None,
                )
            await self._send(writer, reply)
            conn.busy, conn.last_active = False, time.monotonic()
            if subscribe is not None:
                conn.subscribed = True
                await self._stream(reader, writer, subscribe)
                return

    async def _dispatch(self, line: bytes) -> tuple[Reply, str | bool | None]:
        """One request -> one reply; never raises. The second value is a subscribe filter if any."""
        try:
            obj = decode(line)
        except (ValueError, UnicodeDecodeError) as exc:
            return Reply(None, error=ErrorInfo(ErrorCode.PARSE_ERROR.value, f"not a JSON object: {exc}")), None
        try:
            req = parse_request(obj)
        except ValueError as exc:
            rid = obj.get("id") if isinstance(obj.get("id"), (int, str)) else None
            return Reply(rid, error=ErrorInfo(ErrorCode.INVALID_REQUEST.value, str(exc))), None
        if req.method == Method.SUBSCRIBE.value:
            run = req.params.get("run")
            if (run is not None and not isinstance(run, str)) or run == "" or set(req.params) - {"run"}:
                return Reply(
                    req.id, error=ErrorInfo(ErrorCode.INVALID_PARAMS.value, 'subscribe takes only {"run": <id>}')
                ), None
            return Reply(req.id, {"subscribed": True}), run if run is not None else False
        try:
            result = await self.handler(req.method, req.params)
        except ApiError as exc:
            return Reply(req.id, error=ErrorInfo(exc.code.value, exc.message)), None
        except Exception as exc:  # a handler bug must not take the daemon down
            return Reply(req.id, error=ErrorInfo(ErrorCode.INTERNAL.value, f"{type(exc).__name__}: {exc}")), None
        return Reply(req.id, result), None

    async def _stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, run_filter: str | bool) -> None:
        """Events flow through Subscriber.push/flush; here we only wait for the client to leave."""
        sub = Subscriber(run_filter if isinstance(run_filter, str) else None, writer.transport)
        self.hub.subscribers.add(sub)
        try:
            await _until_eof(reader)
        finally:
            self.hub.subscribers.discard(sub)
            sub.dropped = True


async def _until_eof(reader: asyncio.StreamReader) -> None:
    """A subscriber sends nothing more; EOF (or an error) means it left."""
    try:
        while await reader.read(4096):
            pass
    except (ConnectionError, OSError):
        pass

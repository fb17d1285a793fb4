"""The one client of holdemd: requests with timeouts and the subscribe event stream."""

from __future__ import annotations

import asyncio
import errno
import itertools
import os
from collections.abc import AsyncGenerator, Awaitable, Mapping
from typing import Any, TypeVar

from .messages import (
    DEFAULT_CALL_TIMEOUT,
    DEFAULT_CONNECT_TIMEOUT,
    MAX_LINE_BYTES,
    DaemonUnavailable,
    ErrorCode,
    LineReader,
    LineTooLong,
    Method,
    ProtocolError,
    Reply,
    Request,
    decode,
    encode,
    parse_reply,
    socket_path,
)

T = TypeVar("T")


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
            reader, writer = await _within(self._connect_retrying(), self.connect_timeout)
        except (FileNotFoundError, ConnectionRefusedError):
            raise DaemonUnavailable(f"holdemd is not running (no daemon at {self.path})") from None
        except PermissionError:
            raise ProtocolError(ErrorCode.PERMISSION_DENIED, f"not allowed to connect to {self.path}") from None
        except (TimeoutError, OSError) as exc:
            raise DaemonUnavailable(f"cannot connect to {self.path}: {exc or 'timed out'}") from None
        return LineReader(reader), writer

    async def _connect_retrying(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Connect; while the daemon's accept queue is full (a flood of clients), try again.

        A full queue makes a non-blocking connect fail with EAGAIN, which asyncio reports as success
        and a later EINVAL; both mean "not yet", and the caller's timeout bounds the waiting."""
        while True:
            try:
                reader, writer = await asyncio.open_unix_connection(str(self.path), limit=MAX_LINE_BYTES)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EINVAL):
                    raise
            else:
                try:
                    writer.get_extra_info("socket").getpeername()
                    return reader, writer
                except OSError:  # ENOTCONN: the "successful" connect was an EAGAIN
                    writer.close()
            await asyncio.sleep(0.02)

    async def connect(self) -> None:
        if self._conn is not None and self._conn[0].closed():
            await self.close()  # the daemon closed it while we were idle: open a fresh one
        if self._conn is None:
            self._conn = await self._open()

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await _close_writer(conn[1])

    async def call(
        self, method: str | Method, params: Mapping[str, Any] | None = None, timeout: float | None = None
    ) -> dict[str, Any]:
        """Send one request and return its result; raises ProtocolError on an error reply."""
        method_name = method.value if isinstance(method, Method) else method
        async with self._lock:
            await self.connect()
            assert self._conn is not None
            reader, writer = self._conn
            rid = next(self._ids)
            try:
                writer.write(encode(Request(rid, method_name, dict(params or {})).to_dict()))
                reply = await _within(self._read_reply(reader, rid), timeout or self.call_timeout)
            except (ConnectionError, OSError, asyncio.IncompleteReadError) as exc:
                await self.close()
                raise DaemonUnavailable(f"connection to holdemd lost: {exc}") from None
            except TimeoutError:
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

    async def subscribe(self, params: Mapping[str, Any] | None = None) -> AsyncGenerator[dict[str, Any], None]:
        """Yield events until the daemon goes away (then DaemonUnavailable). Uses its own connection.

        Consume it in its own task: cancelling a pending `__anext__` (e.g. with wait_for) ends
        the generator, as it does for every async generator.
        """
        reader, writer = await self._open()
        try:
            writer.write(encode(Request(0, Method.SUBSCRIBE.value, dict(params or {})).to_dict()))
            try:
                reply = await _within(self._read_reply(reader, 0), self.call_timeout)
            except TimeoutError:
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
        await _within(writer.wait_closed(), 1.0)
    except (TimeoutError, ConnectionError, OSError):
        pass


async def _within(awaitable: Awaitable[T], seconds: float) -> T:
    """Await with a time limit. Not asyncio.wait_for: on Python 3.11 it can swallow a cancel that arrives
    as the awaited result does (CPython gh-86296), and a subscriber task cancelled at that moment would
    then read events for ever."""
    async with asyncio.timeout(seconds):
        return await awaitable

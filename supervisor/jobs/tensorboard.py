"""Run-level TensorBoard scalars, written with the standard library only.

An event file is TFRecord framing (length, masked CRC-32C, payload, masked CRC-32C) around
`tensorflow.Event` protobufs; we only ever write scalars, so the few protobuf fields are encoded
by hand here rather than pulling tensorboard/protobuf into the daemon. Readable by TensorBoard's
own loader (a test checks that).
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import time
from collections.abc import Callable
from pathlib import Path


def _crc32c_table() -> list[int]:
    poly = 0x82F63B78  # Castagnoli, reflected
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked(data: bytes) -> bytes:
    crc = crc32c(data)
    return struct.pack("<I", (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field_bytes(tag: int, payload: bytes) -> bytes:
    return _varint(tag << 3 | 2) + _varint(len(payload)) + payload


def _event(
    wall_time: float, step: int, *, file_version: str | None = None, scalars: dict[str, float] | None = None
) -> bytes:
    out = bytearray(b"\x09" + struct.pack("<d", wall_time))  # field 1, fixed64
    out += b"\x10" + _varint(step & 0xFFFFFFFFFFFFFFFF)  # field 2, varint
    if file_version is not None:
        out += _field_bytes(3, file_version.encode())
    if scalars:
        summary = bytearray()
        for tag, value in scalars.items():
            val = _field_bytes(1, tag.encode()) + b"\x15" + struct.pack("<f", float(value))
            summary += _field_bytes(1, val)
        out += _field_bytes(5, bytes(summary))
    return bytes(out)


class ScalarWriter:
    """Appends scalar summaries to one event file in `logdir`; each record is flushed."""

    def __init__(self, logdir: Path) -> None:
        logdir.mkdir(parents=True, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}.holdemd"
        self.path = logdir / name
        self._f = open(self.path, "ab")  # noqa: SIM115 (held until close())
        self._write(_event(time.time(), 0, file_version="brain.Event:2"))

    def _write(self, payload: bytes) -> None:
        header = struct.pack("<Q", len(payload))
        self._f.write(header + _masked(header) + payload + _masked(payload))
        self._f.flush()

    def add_scalars(self, step: int, scalars: dict[str, float], wall_time: float | None = None) -> None:
        self._write(_event(time.time() if wall_time is None else wall_time, step, scalars=scalars))

    def close(self) -> None:
        self._f.close()


async def write_scalars_every(logdir: Path, interval_s: float, scalars: Callable[[], dict[str, float]]) -> None:
    """Write `scalars()` to an event file in `logdir` every `interval_s` (the step: whole seconds since
    the start) until cancelled, and once more then.

    On a full disk the points are skipped and the file closed (a cut record would hide the rest
    of it from TensorBoard); a new event file starts once writes succeed again."""
    writer: ScalarWriter | None = None
    t0 = time.monotonic()

    def add(point: bool = True) -> None:
        nonlocal writer
        try:
            writer = writer or ScalarWriter(logdir)
            if point:
                writer.add_scalars(int(time.monotonic() - t0), scalars())
        except OSError:
            _close_quietly(writer)
            writer = None

    try:
        add(point=False)
        while True:
            await asyncio.sleep(interval_s)
            add()
    finally:
        add()
        _close_quietly(writer)


def _close_quietly(writer: ScalarWriter | None) -> None:
    if writer is not None:
        try:
            writer.close()
        except OSError:
            pass  # its buffered bytes could not be written: that file ends at its last whole record

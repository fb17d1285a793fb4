"""Faults a days-long daemon meets at its socket and its command line: absurd requests, floods of
clients, a `--socket` that is not a socket, a closed stdout. All against a real holdemd process."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sv_harness import FAKE_WORKER, HoldemD, exchange, raw, write_config

from supervisor.protocol import Client

FAST = ["--heartbeat-timeout", "20", "--backoff-base", "0.05", "--backoff-cap", "0.2", "--stop-timeout", "20"]


@pytest.fixture
async def idle(tmp_path: Path):
    """A daemon with one short finished run (so status has a few lines to print)."""
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_IPS": "4000"}, args=FAST)
    await d.start("--instances", "2", "--config", str(write_config(tmp_path / "c.yaml")), "--iters", "2000")
    yield d
    await d.stop()


async def test_200000_nested_brackets_get_a_parse_error_not_a_recursion_error(idle: HoldemD) -> None:
    r, w = await raw(idle)
    reply = await exchange(r, w, b"[" * 200_000 + b"\n")
    assert reply["error"]["code"] == "parse_error" and "deep" in reply["error"]["message"]
    assert (await exchange(r, w, b'{"id": 7, "method": "ping", "params": {}}\n'))["result"]["pong"]
    w.close()


async def test_holdemctl_exits_quietly_when_its_stdout_is_closed(idle: HoldemD) -> None:
    rfd, wfd = os.pipe()
    os.close(rfd)  # like `holdemctl status | head -2` once head has gone: every write is EPIPE
    try:
        out = subprocess.run(
            [sys.executable, "-m", "supervisor.ctl", "--socket", str(idle.sock), "status"],
            stdout=wfd,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(wfd)
    assert out.stderr == "" and out.returncode == 141  # 128 + SIGPIPE, as `yes | head` reports it
    shell = subprocess.run(
        f"{sys.executable} -m supervisor.ctl --socket {idle.sock} logs -n 500 | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shell.stderr == "" and len(shell.stdout.splitlines()) == 1


async def test_socket_pointing_at_a_regular_file_is_refused_and_the_file_kept(tmp_path: Path) -> None:
    precious = tmp_path / "notes.txt"
    precious.write_text("do not delete me\n")
    d = HoldemD(tmp_path / "d", FAKE_WORKER, args=FAST)
    d.sock = precious
    d.root.mkdir()
    out = subprocess.run(d.argv(), capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "is not a socket" in out.stderr and len(out.stderr.splitlines()) == 1
    assert precious.read_text() == "do not delete me\n"
    assert not d.state.exists()


async def test_a_daemon_refused_for_a_live_socket_creates_no_state(idle: HoldemD, tmp_path: Path) -> None:
    other = HoldemD(tmp_path / "other", FAKE_WORKER, args=FAST)
    other.sock = idle.sock
    out = subprocess.run(other.argv(), capture_output=True, text=True, timeout=60)
    assert out.returncode == 3 and "already listening" in out.stderr
    assert not other.state.exists() and not other.runs.exists()
    assert (await idle.call("ping"))["pong"]


def ctl(d: HoldemD, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "supervisor.ctl", "--socket", str(d.sock), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def closed_by_daemon(s: socket.socket) -> bool:
    s.setblocking(False)
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


async def test_1100_idle_connections_do_not_lock_holdemctl_out(idle: HoldemD) -> None:
    flood = []
    try:
        for _ in range(1100):  # more than the daemon's 1024 places, saying nothing
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(str(idle.sock))
            flood.append(s)
        assert (await idle.call("ping"))["pong"]  # the daemon has accepted them all by now
        out = ctl(idle, "status")
        assert out.returncode == 0 and out.stdout.startswith("run "), out.stderr
        async with Client(idle.sock) as c:  # the TUI's way: one connection for calls, one subscribed
            assert (await c.call("status"))["runs"]
            r, w = await raw(idle)
            assert "result" in await exchange(r, w, b'{"id": 1, "method": "subscribe", "params": {}}\n')
            w.close()
        # room was made by closing the oldest idle connections, never the newest ones
        gone = [closed_by_daemon(s) for s in flood]
        assert any(gone) and not any(gone[-50:])
    finally:
        for s in flood:
            s.close()


async def test_subscribers_may_take_half_the_places_and_a_newcomer_still_gets_in(tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, args=[*FAST, "--max-clients", "6"])
    await d.start()
    subs = []
    try:
        for k in range(4):
            r, w = await raw(d)
            reply = await exchange(r, w, b'{"id": 1, "method": "subscribe", "params": {}}\n')
            subs.append(w)
            assert ("result" in reply) if k < 3 else (reply["error"]["code"] == "too_many_clients"), reply
        for _ in range(5):  # idle ones fill the rest; each newcomer then replaces the oldest idle one
            out = ctl(d, "runs")
            assert out.returncode == 0, out.stderr
    finally:
        for w in subs:
            w.close()
        await d.stop()


async def test_an_idle_connection_is_closed_and_the_client_reconnects_by_itself(tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, args=[*FAST, "--client-idle-timeout", "0.5"])
    await d.start()
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(str(d.sock))
        assert s.recv(1) == b""  # closed by the daemon, without a word
        s.close()
        r, w = await raw(d)
        assert "result" in await exchange(r, w, b'{"id": 1, "method": "subscribe", "params": {}}\n')
        async with Client(d.sock) as c:
            assert (await c.call("ping"))["pong"]
            await asyncio.sleep(1.5)  # the daemon closes this connection meanwhile
            st = await c.call("status")
            assert st["daemon"]["subscribers"] == 1  # a subscriber is never idle: it stays
        w.close()
    finally:
        await d.stop()

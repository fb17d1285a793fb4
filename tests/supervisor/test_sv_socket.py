"""The control socket under abuse: every bad client gets an error or is dropped, and the daemon
keeps serving everyone else. Plus the trust model: another uid is refused."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import tempfile
import time
from pathlib import Path

import pytest
from sv_harness import FAKE_WORKER, HoldemD, exchange, raw, write_config

from supervisor.protocol import Client, DaemonUnavailable, ProtocolError


@pytest.fixture
async def busy(tmp_path: Path):
    """A daemon whose 2 fake instances emit ~500 events/s each, for a minute."""
    sockdir = Path(tempfile.mkdtemp(prefix="holdemd-test-"))
    sockdir.chmod(0o755)  # other uids may reach the socket file; its own mode and SO_PEERCRED decide
    d = HoldemD(
        tmp_path / "d",
        FAKE_WORKER,
        env={"FAKE_IPS": "100", "FAKE_PROGRESS_S": "0.002"},
        args=["--backoff-base", "0.05"],
    )
    d.sock = sockdir / "holdemd.sock"
    await d.start("--instances", "2", "--config", str(write_config(tmp_path / "c.yaml")), "--iters", "6000")
    yield d
    await d.stop()
    sockdir.rmdir()


async def test_bad_requests_get_errors_as_data_and_the_connection_lives_on(busy: HoldemD) -> None:
    r, w = await raw(busy)
    assert (await exchange(r, w, b"this is not json\n"))["error"]["code"] == "parse_error"
    assert (await exchange(r, w, b'{"id": 1}\n'))["error"]["code"] == "invalid_request"
    assert (await exchange(r, w, b"[1,2,3]\n"))["error"]["code"] == "parse_error"
    reply = await exchange(r, w, b'{"id": 2, "method": "launch.missiles", "params": {}}\n')
    assert reply["id"] == 2 and reply["error"]["code"] == "unknown_method"
    for params in ({"instances": "four"}, {"instances": 2, "bogus": 1}, {}):
        reply = await exchange(r, w, json.dumps({"id": 3, "method": "run.start", "params": params}).encode() + b"\n")
        assert reply["error"]["code"] == "invalid_params", reply
    reply = await exchange(r, w, b'{"id": 4, "method": "instance.restart", "params": {"index": 99}}\n')
    assert reply["error"]["code"] == "invalid_params" and "no instance 99" in reply["error"]["message"]
    reply = await exchange(r, w, b'{"id": 5, "method": "status", "params": {"run": "nope"}}\n')
    assert reply["error"]["code"] == "unknown_run"
    reply = await exchange(r, w, b'{"id": "six", "method": "ping", "params": {}}\n')
    assert reply == {"id": "six", "result": {"pong": True, "pid": busy.proc.pid}}
    w.close()


async def test_a_2_mib_line_is_refused_and_that_connection_dropped(busy: HoldemD) -> None:
    def send_huge_and_read() -> bytes:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(str(busy.sock))
        try:
            s.sendall(b'{"id": 1, "method": "ping", "params": {"pad": "' + b"x" * (2 << 20) + b'"}}\n')
        except (BrokenPipeError, ConnectionResetError):
            pass  # the daemon hung up mid-line, as it should
        data = b""
        try:
            while chunk := s.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass
        s.close()
        return data

    data = await asyncio.to_thread(send_huge_and_read)
    reply = json.loads(data.splitlines()[0])
    assert reply["error"]["code"] == "line_too_long"
    assert (await busy.call("ping"))["pong"]


async def test_200_concurrent_clients_are_all_served(busy: HoldemD) -> None:
    async def one(k: int) -> int:
        async with Client(busy.sock, connect_timeout=30, call_timeout=60) as c:
            st = await c.call("status")
            assert len(st["runs"][0]["instances"]) == 2
            return k

    t0 = time.monotonic()
    assert sorted(await asyncio.gather(*(one(k) for k in range(200)))) == list(range(200))
    assert time.monotonic() - t0 < 60


async def test_a_subscriber_that_never_reads_is_dropped_and_others_are_unaffected(busy: HoldemD) -> None:
    sleeper = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sleeper.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sleeper.connect(str(busy.sock))
    sleeper.sendall(b'{"id": 1, "method": "subscribe", "params": {}}\n')
    # connects, subscribes, never reads: the daemon must cut it off, not buffer for ever
    deadline = time.monotonic() + 60
    async with Client(busy.sock) as c:
        while (await c.call("status"))["daemon"]["subscribers"] == 0:
            assert time.monotonic() < deadline, "the subscription never registered"
            await asyncio.sleep(0.02)
        while (await c.call("status"))["daemon"]["subscribers"] > 0:
            assert time.monotonic() < deadline, "the silent subscriber was never dropped"
            await asyncio.sleep(0.1)
        # meanwhile and after, others are served at once
        t0 = time.monotonic()
        await c.call("ping")
        assert time.monotonic() - t0 < 2
    sleeper.setblocking(False)
    received = b""
    with pytest.raises((ConnectionResetError, BlockingIOError)):
        while chunk := sleeper.recv(1 << 16):
            received += chunk
        raise ConnectionResetError  # EOF: the daemon closed it
    sleeper.close()
    # a well-behaved subscriber still gets events
    async with Client(busy.sock) as c:
        async for ev in c.subscribe():
            if ev["event"] == "progress":
                break


async def test_a_client_that_connects_and_says_nothing_does_not_block_others(busy: HoldemD) -> None:
    idle = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(20)]
    for s in idle:
        s.connect(str(busy.sock))
    assert (await busy.call("ping"))["pong"]
    for s in idle:
        s.close()


def connect_as_nobody(path: Path) -> str:
    """Fork; the child drops to uid nobody, connects, sends a ping and reports what it got."""
    import grp
    import pwd

    nobody = pwd.getpwnam("nobody")
    nogroup = grp.getgrgid(nobody.pw_gid)
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: no Python-level cleanup, no exec; just the syscalls
        try:
            os.close(rfd)
            os.setgroups([])
            os.setgid(nogroup.gr_gid)
            os.setuid(nobody.pw_uid)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(20)
            try:
                s.connect(str(path))
            except PermissionError:
                os.write(wfd, b"EACCES")
                os._exit(0)
            try:
                s.sendall(b'{"id": 1, "method": "status", "params": {}}\n')
            except (BrokenPipeError, ConnectionResetError):
                pass  # the daemon may have refused and closed before we spoke
            data = b""
            while chunk := s.recv(65536):
                data += chunk
            os.write(wfd, b"REPLY " + data)
        except BaseException as exc:  # report, never run the parent's code in the child
            os.write(wfd, f"CHILD ERROR {exc!r}".encode())
        os._exit(0)
    os.close(wfd)
    out = b""
    while chunk := os.read(rfd, 65536):
        out += chunk
    os.close(rfd)
    os.waitpid(pid, 0)
    return out.decode()


@pytest.mark.skipif(os.getuid() != 0, reason="dropping to another uid needs root")
async def test_another_uid_is_refused(busy: HoldemD) -> None:
    assert stat.S_IMODE(os.stat(busy.sock).st_mode) == 0o660
    # as created (0660, root's group): the kernel refuses nobody at connect()
    assert await asyncio.to_thread(connect_as_nobody, busy.sock) == "EACCES"
    # even with the file opened to everyone, SO_PEERCRED refuses: one error line, then closed
    os.chmod(busy.sock, 0o666)
    try:
        out = await asyncio.to_thread(connect_as_nobody, busy.sock)
    finally:
        os.chmod(busy.sock, 0o660)
    assert out.startswith("REPLY "), out
    lines = out[len("REPLY ") :].splitlines()
    assert len(lines) == 1  # nothing else, and the connection was closed
    reply = json.loads(lines[0])
    assert reply["error"]["code"] == "permission_denied" and "uid" in reply["error"]["message"]
    assert (await busy.call("ping"))["pong"]


async def test_no_daemon_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DaemonUnavailable, match="not running"):
        async with Client(tmp_path / "nothing.sock", connect_timeout=2) as c:
            await c.call("status")
    assert issubclass(DaemonUnavailable, ProtocolError)

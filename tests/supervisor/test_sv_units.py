"""Unit-level behaviour of the supervisor's parts: protocol framing, discovery, split, seeds,
store, TensorBoard files, sd_notify over a real datagram socket, /proc start times."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from supervisor.config import StartSpec, instance_seed, split_iterations
from supervisor.daemon.notify import Notifier, NotifyConfig
from supervisor.executors.proc import is_same_process, proc_start_time
from supervisor.jobs.tensorboard import ScalarWriter, crc32c
from supervisor.protocol import LineReader, LineTooLong, RunInfo, decode, encode, parse_request, socket_path
from supervisor.state.store import InstanceRow, RestartRow, RunRow, Store


def test_socket_path_follows_the_documented_order() -> None:
    env = {"HOLDEMD_SOCKET": "/a.sock", "RUNTIME_DIRECTORY": "/run/x", "XDG_RUNTIME_DIR": "/run/user/1"}
    assert socket_path("/explicit.sock", env) == Path("/explicit.sock")
    assert socket_path(None, env) == Path("/a.sock")
    del env["HOLDEMD_SOCKET"]
    assert socket_path(None, env) == Path("/run/x/holdemd.sock")
    del env["RUNTIME_DIRECTORY"]
    assert socket_path(None, env) == Path("/run/user/1/holdemd.sock")
    fallback = socket_path(None, {})
    assert fallback.name == "holdemd.sock" and fallback.is_absolute()


def test_frames_round_trip_and_requests_are_validated() -> None:
    frame = encode({"id": 1, "method": "status", "params": {}})
    assert frame.endswith(b"\n") and frame.count(b"\n") == 1
    assert parse_request(decode(frame)).method == "status"
    for bad in ({"method": "x"}, {"id": 1}, {"id": 1, "method": "x", "params": []}, {"id": True, "method": "x"}):
        with pytest.raises(ValueError):
            parse_request(bad)
    with pytest.raises(ValueError):
        decode(b"[1, 2]")


def test_run_info_ignores_fields_it_does_not_know() -> None:
    run = RunInfo.from_dict(
        {
            "id": "r",
            "state": "running",
            "dir": "/d",
            "future": 1,
            "instances": [{"index": 0, "state": "running", "new_field": 2}],
        }
    )
    assert run.instances[0].index == 0 and run.instances[0].iter == 0


async def test_line_reader_skips_an_oversized_line_and_reads_on() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(b"ok\n" + b"x" * (3 * 1024 * 1024) + b"\n" + b'{"a":1}\n')
    reader.feed_eof()
    lines = LineReader(reader, 1 << 20)
    assert await lines.readline() == b"ok"
    with pytest.raises(LineTooLong):
        await lines.readline()
    assert await lines.readline() == b'{"a":1}'
    assert await lines.readline() is None


def test_work_split_sums_exactly_and_front_loads_the_remainder() -> None:
    assert split_iterations(10, 4) == [3, 3, 2, 2]
    for total in (4, 7, 1000, 999_999):
        for n in (1, 3, 4, 8):
            if total >= n:
                parts = split_iterations(total, n)
                assert sum(parts) == total and max(parts) - min(parts) <= 1


def test_instance_seeds_are_deterministic_distinct_and_63_bit() -> None:
    seeds = [instance_seed(42, k) for k in range(64)]
    assert seeds == [instance_seed(42, k) for k in range(64)]
    assert len(set(seeds)) == 64 and all(0 <= s < 2**63 for s in seeds)
    assert instance_seed(43, 0) != seeds[0]


def test_start_spec_rejects_nonsense() -> None:
    nonsense: list[dict[str, Any]] = [
        {"instances": 0},
        {"instances": 2, "iters": 1},
        {"instances": 1, "iters": 5, "time_budget_s": 3},
    ]
    for kwargs in nonsense:
        with pytest.raises(ValueError):
            StartSpec(**kwargs)


def test_store_is_wal_and_survives_reopen(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    now = time.time()
    store.create_run(
        RunRow("r1", "/d", None, 7, 100, None, 2, "running", "running", "train", None, None, now, now),
        [
            InstanceRow("r1", k, f"/d/{k}", k, 50, "running", "running", None, None, 0, 0, 0, None, None, None, now)
            for k in range(2)
        ],
    )
    store.update_instance("r1", 1, state="backoff", last_checkpoint="/d/1/c/10", last_checkpoint_iter=10)
    store.record_restart(RestartRow("r1", 1, now, "exit code 3", 3, "/d/1/c/10"), restarts=1)
    # a second connection sees the committed state at once (what a restarted daemon sees)
    other = sqlite3.connect(tmp_path / "s.db")
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert other.execute("SELECT state, restarts FROM instances WHERE idx=1").fetchone() == ("backoff", 1)
    other.close()
    store.close()
    again = Store(tmp_path / "s.db")
    row = again.instance("r1", 1)
    assert row is not None and row.last_checkpoint_iter == 10
    assert again.restarts("r1", 1)[0].reason == "exit code 3"
    with pytest.raises(ValueError):
        again.update_instance("r1", 0, nonsense=1)


def test_tensorboard_scalars_are_readable_by_tensorboard(tmp_path: Path) -> None:
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    writer = ScalarWriter(tmp_path / "tb")
    writer.add_scalars(5, {"run/iterations_per_second": 1234.5, "run/progress": 0.25})
    writer.close()
    # read back in a subprocess: tensorboard's loader is heavy and not the daemon's business
    code = (
        "import sys; from tensorboard.backend.event_processing.event_accumulator import EventAccumulator as E;"
        "a=E(sys.argv[1]); a.Reload(); s=a.Scalars('run/progress'); print(s[0].step, s[0].value)"
    )
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code, str(tmp_path / "tb")], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["5", "0.25"]


def test_sd_notify_reaches_a_real_datagram_socket(tmp_path: Path) -> None:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(tmp_path / "notify"))
    server.settimeout(5)
    cfg = NotifyConfig.from_environ(
        {"NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "4000000", "WATCHDOG_PID": str(os.getpid())},
        os.getpid(),
    )
    assert cfg.watchdog_interval_s == 2.0
    n = Notifier(cfg)
    assert n.ready("up")
    assert server.recv(4096) == b"READY=1\nSTATUS=up"
    assert n.watchdog()
    assert server.recv(4096) == b"WATCHDOG=1"
    n.close()
    server.close()
    # abstract-namespace addresses work too
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    abstract.bind(f"\0holdemd-test-{os.getpid()}")
    abstract.settimeout(5)
    n2 = Notifier(NotifyConfig(f"@holdemd-test-{os.getpid()}"))
    assert n2.status("hello")
    assert abstract.recv(4096) == b"STATUS=hello"
    n2.close()
    abstract.close()
    # no NOTIFY_SOCKET: silently nothing; a watchdog meant for another pid is ignored
    assert not Notifier(NotifyConfig.from_environ({}, 1)).ready("x")
    assert NotifyConfig.from_environ({"WATCHDOG_USEC": "10", "WATCHDOG_PID": "1"}, 2).watchdog_usec is None


def test_process_identity_uses_the_start_time() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    start = proc_start_time(proc.pid)
    assert start is not None and is_same_process(proc.pid, start)
    assert not is_same_process(proc.pid, start + 1)  # same pid, other process: not ours
    proc.kill()
    proc.wait()
    assert not is_same_process(proc.pid, start)


def test_fake_worker_speaks_the_contract(tmp_path: Path) -> None:
    fake = Path(__file__).with_name("fake_worker.py")
    out = subprocess.run(
        [
            sys.executable,
            str(fake),
            "train",
            "--config",
            "x",
            "--instance-dir",
            str(tmp_path),
            "--iters",
            "300",
            "--seed",
            "1",
            "--events",
            "jsonl",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "FAKE_IPS": "3000", "FAKE_CKPT_EVERY": "100"},
    )
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert out.returncode == 0
    assert events[0]["event"] == "started" and events[-1]["event"] == "done" and events[-1]["iter"] == 300
    assert all({"v", "event", "t", "iter"} <= e.keys() for e in events)


def test_the_pipe_line_splitter_caps_lines_and_resynchronises() -> None:
    from supervisor.jobs.child import LineSplitter

    s = LineSplitter(10)
    assert s.feed(b"ab\ncd") == [b"ab"]
    assert s.feed(b"e\n" + b"x" * 25) == [b"cde", None]  # the long line is reported once...
    assert s.feed(b"yy\nok\n") == [b"ok"]  # ...and skipped to its end
    assert s.feed(b"0123456789\nz") == [None]
    assert s.tail() == b"z"

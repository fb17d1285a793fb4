"""holdemd as a process: runs, restarts, crash loops, hangs, SIGTERM, SIGKILL and single-instance.

These use the contract-speaking fake worker (fast, with failure knobs); tests/e2e runs the real
`holdem train`. Every wait is on an event (READY=1, a state change), bounded by a timeout.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sv_harness import FAKE_WORKER, HoldemD, instance_pids, write_config

FAST = [
    "--heartbeat-timeout",
    "20",
    "--backoff-base",
    "0.05",
    "--backoff-cap",
    "0.2",
    "--stop-timeout",
    "20",
    "--tensorboard-interval",
    "0.5",
]


def done(st: dict) -> bool:
    return st.get("state") in ("done", "failed")


@pytest.fixture
async def daemon(tmp_path: Path):
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_IPS": "4000"}, args=FAST)
    yield d
    await d.stop()


def ctl(d: HoldemD, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "supervisor.ctl", "--socket", str(d.sock), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_a_run_splits_the_work_and_completes_with_a_merge(daemon: HoldemD, tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "kuhn.yaml")
    await daemon.start("--instances", "4", "--config", str(cfg), "--iters", "10001", "--seed", "7")
    st = await daemon.wait_until(done, what="run done")
    assert st["state"] == "done", st
    assert [i["target_iters"] for i in st["instances"]] == [2501, 2500, 2500, 2500]
    assert sum(i["iter"] for i in st["instances"]) == 10001
    run = Path(st["dir"])
    frozen = yaml.safe_load((run / "run.yaml").read_text())
    assert frozen["seed"] == 7 and frozen["split"] == [2501, 2500, 2500, 2500]
    assert (run / "config.yaml").read_bytes() == cfg.read_bytes()
    assert json.loads((run / "merged" / "sources.json").read_text())["instances"] == [
        str(run / "instances" / str(k)) for k in range(4)
    ]
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))
    assert all(i["restarts"] == 0 and i["last_checkpoint"] for i in st["instances"])
    # holdemctl status --json has the documented shape
    out = ctl(daemon, "status", "--json")
    assert out.returncode == 0, out.stderr
    inst = json.loads(out.stdout)["runs"][0]["instances"][0]
    assert {"index", "state", "pid", "iter", "target_iters", "restarts", "last_checkpoint"} <= inst.keys()


async def test_a_second_daemon_on_the_same_state_dir_or_socket_refuses(daemon: HoldemD, tmp_path: Path) -> None:
    await daemon.start()
    same_state = subprocess.run(daemon.argv(), capture_output=True, text=True, timeout=60)
    assert same_state.returncode == 3 and "already using state dir" in same_state.stderr
    other = HoldemD(tmp_path / "other", FAKE_WORKER)
    argv = other.argv()
    argv[argv.index("--socket") + 1] = str(daemon.sock)
    same_socket = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert same_socket.returncode == 3 and "already listening" in same_socket.stderr
    assert (await daemon.call("ping"))["pong"]


async def test_a_crash_looping_instance_is_failed_and_the_others_finish(tmp_path: Path) -> None:
    d = HoldemD(
        tmp_path / "d",
        FAKE_WORKER,
        env={"FAKE_MODE": "crash", "FAKE_ONLY_INDEX": "1"},
        args=[*FAST, "--max-restarts", "3"],
    )
    try:
        await d.start("--instances", "3", "--config", str(write_config(tmp_path / "c.yaml")), "--iters", "3000")
        st = await d.wait_until(done, what="run done")
        states = [i["state"] for i in st["instances"]]
        assert states == ["done", "failed", "done"]
        failed = st["instances"][1]
        assert failed["restarts"] == 3 and "3 restarts" in failed["reason"] and "exit code 3" in failed["reason"]
        assert st["state"] == "done" and "[1]" in st["reason"]
        with sqlite3.connect(d.state / "holdemd.sqlite3") as db:
            reasons = [r[0] for r in db.execute("SELECT reason FROM restarts WHERE idx=1")]
        assert reasons == ["exit code 3"] * 3
        human = ctl(d, "status")
        assert "failed" in human.stdout and "exit code 3" in human.stdout
    finally:
        await d.stop()


async def test_exit_2_is_permanent_and_never_restarted(tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_MODE": "exit2"}, args=FAST)
    try:
        await d.start("--instances", "2", "--config", str(write_config(tmp_path / "c.yaml")), "--iters", "100")
        st = await d.wait_until(done, what="run failed")
        assert st["state"] == "failed"
        assert all(i["state"] == "failed" and i["restarts"] == 0 and "exit 2" in i["reason"] for i in st["instances"])
        assert "fake: bad config" in st["instances"][0]["reason"]
    finally:
        await d.stop()


async def test_an_oversized_event_line_is_an_error_event_not_a_crash(tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_MODE": "bigline"}, args=FAST)
    try:
        await d.start("--instances", "1", "--config", str(write_config(tmp_path / "c.yaml")), "--iters", "500")
        st = await d.wait_until(done, what="run done")
        assert st["state"] == "done" and st["instances"][0]["restarts"] == 0
        log = (Path(st["instances"][0]["dir"]) / "train.log").read_text()
        assert "event line dropped" in log
    finally:
        await d.stop()


async def test_a_stopped_child_is_caught_by_the_heartbeat_and_restarted(tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_IPS": "200"}, args=[*FAST, "--heartbeat-timeout", "1.5"])
    try:
        await d.start("--instances", "2", "--config", str(write_config(tmp_path / "c.yaml")), "--iters", "1200")
        st = await d.wait_until(lambda s: s["instances"][0]["state"] == "running", what="instance 0 running")
        victim = st["instances"][0]["pid"]
        os.kill(victim, signal.SIGSTOP)
        st = await d.wait_until(lambda s: s["instances"][0]["restarts"] >= 1, what="hang detected", timeout=60)
        assert "heartbeat" in st["instances"][0]["reason"] or st["instances"][0]["state"] == "running"
        st = await d.wait_until(done, what="run done")
        assert st["state"] == "done" and sum(i["iter"] for i in st["instances"]) == 1200
        assert _gone_or_zombie(victim)
        db = sqlite3.connect(d.state / "holdemd.sqlite3")
        assert "heartbeat" in db.execute("SELECT reason FROM restarts WHERE idx=0").fetchone()[0]
    finally:
        await d.stop()


async def test_sigterm_stops_children_gracefully_and_a_restart_resumes(tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_IPS": "500"}, args=FAST)
    try:
        await d.start("--instances", "2", "--config", str(write_config(tmp_path / "c.yaml")), "--iters", "4000")
        st = await d.wait_until(lambda s: all(i["state"] == "running" for i in s["instances"]), what="running")
        d.signal(signal.SIGTERM)
        assert await d.wait_exit(60) == 0
        for inst in st["instances"]:
            log = (Path(inst["dir"]) / "train.log").read_text()
            assert "fake worker" in log
        db = sqlite3.connect(d.state / "holdemd.sqlite3")
        assert {r[0] for r in db.execute("SELECT state FROM instances")} == {"stopped"}
        assert db.execute("SELECT desired FROM runs").fetchone()[0] == "running"
        stopped_at = [r[0] for r in db.execute("SELECT last_checkpoint_iter FROM instances ORDER BY idx")]
        assert all(it and it > 0 for it in stopped_at)
        await d.start()  # no --instances: it resumes the run it had
        st = await d.wait_until(done, what="resumed run done")
        assert st["state"] == "done" and sum(i["iter"] for i in st["instances"]) == 4000
        assert [r[0] for r in db.execute("SELECT launches FROM instances")] == [2, 2]
    finally:
        await d.stop()


async def test_kill_9_of_the_daemon_leaves_orphans_that_the_next_daemon_stops(tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_IPS": "300", "FAKE_SURVIVE_EPIPE": "1"}, args=FAST)
    try:
        await d.start("--instances", "2", "--config", str(write_config(tmp_path / "c.yaml")), "--iters", "3000")
        st = await d.wait_until(
            lambda s: len(instance_pids(s)) == 2 and all(i["last_checkpoint"] for i in s["instances"]),
            what="running with checkpoints",
        )
        old = instance_pids(st)
        await d.kill9()
        assert all(os.path.exists(f"/proc/{pid}") for pid in old)  # orphans, still training
        await d.start()
        st = await d.wait_until(done, what="run done after kill -9")
        assert st["state"] == "done" and sum(i["iter"] for i in st["instances"]) == 3000
        for pid in old:
            assert _gone_or_zombie(pid)
        with sqlite3.connect(d.state / "holdemd.sqlite3") as db:
            notes = {r[0]: r[1] for r in db.execute("SELECT idx, reason FROM restarts")}
        # each orphan was stopped (and recorded) before its instance was launched again
        assert sorted(notes) == [0, 1]
        assert {notes[0], notes[1]} == {f"holdemd restarted; orphan pid {pid} stopped" for pid in old}
        assert [i["restarts"] for i in st["instances"]] == [1, 1]
        for inst in st["instances"]:
            log = (Path(inst["dir"]) / "train.log").read_text()
            assert log.index("stopped orphan pid") < log.rindex("resumed from iteration")
    finally:
        await d.stop()


async def test_holdemctl_stop_resume_start_and_restart_instance(daemon: HoldemD, tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.yaml")
    daemon.env["FAKE_IPS"] = "300"  # slow enough that nothing finishes before it is stopped
    await daemon.start()
    assert json.loads(ctl(daemon, "status", "--json").stdout) == {"runs": []}
    out = ctl(daemon, "start", "--instances", "2", "--config", str(cfg), "--iters", "6000", "--json")
    assert out.returncode == 0, out.stderr
    run_id = json.loads(out.stdout)["run"]["id"]
    await daemon.wait_until(lambda s: all(i["state"] == "running" for i in s["instances"]), run_id, what="running")
    out = ctl(daemon, "restart-instance", "1", "--json")
    assert out.returncode == 0, out.stderr
    out = ctl(daemon, "stop", run_id, "--json")
    assert out.returncode == 0, out.stderr
    stopped = json.loads(out.stdout)["run"]
    assert stopped["state"] == "stopped" and {i["state"] for i in stopped["instances"]} == {"stopped"}
    assert ctl(daemon, "resume", run_id).returncode == 0
    st = await daemon.wait_until(done, run_id, what="resumed run done")
    assert st["state"] == "done" and sum(i["iter"] for i in st["instances"]) == 6000
    with sqlite3.connect(daemon.state / "holdemd.sqlite3") as db:
        assert db.execute("SELECT reason FROM restarts WHERE idx=1").fetchone()[0] == "restart requested"
    logs = ctl(daemon, "logs", run_id, "--instance", "0", "-n", "5")
    assert logs.returncode == 0 and logs.stdout.strip()
    runs = json.loads(ctl(daemon, "runs", "--json").stdout)["runs"]
    assert [r["id"] for r in runs] == [run_id]


async def test_holdemctl_errors_are_one_line_and_nonzero(daemon: HoldemD, tmp_path: Path) -> None:
    missing = subprocess.run(
        [sys.executable, "-m", "supervisor.ctl", "--socket", str(tmp_path / "none.sock"), "status"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 3 and missing.stderr.count("\n") == 1 and "not running" in missing.stderr
    await daemon.start()
    none = ctl(daemon, "stop")
    assert none.returncode == 1 and none.stderr.strip() == "holdemctl: there are no runs"
    cfg = write_config(tmp_path / "c.yaml")
    assert ctl(daemon, "start", "--instances", "1", "--config", str(cfg), "--iters", "10").returncode == 0
    unknown = ctl(daemon, "stop", "no-such-run")
    assert unknown.returncode == 1 and unknown.stderr.strip() == "holdemctl: unknown run 'no-such-run'"
    bad = ctl(daemon, "start", "--instances", "2", "--config", str(tmp_path / "missing.yaml"))
    assert bad.returncode == 1 and "does not exist" in bad.stderr and bad.stderr.count("\n") == 1


async def test_holdemctl_watch_follows_a_run_to_its_end(daemon: HoldemD, tmp_path: Path) -> None:
    daemon.env["FAKE_IPS"] = "1500"
    await daemon.start("--instances", "2", "--config", str(write_config(tmp_path / "c.yaml")), "--iters", "3000")
    out = ctl(daemon, "watch", "--json")
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert any(e["event"] == "progress" for e in events)
    assert events[-1]["event"] == "state" and events[-1]["instance"] is None and events[-1]["state"] == "done"
    human = ctl(daemon, "watch")  # the run is over: the final table, then exit 0
    assert human.returncode == 0 and "done" in human.stdout
    merged = ctl(daemon, "merge", "--json")  # on demand, again, into the same folder
    assert merged.returncode == 0, merged.stderr
    res = json.loads(merged.stdout)
    assert res["run"]["state"] == "done" and Path(res["merged"], "sources.json").exists()
    tail = ctl(daemon, "logs", "-n", "3")  # no run, no instance: the daemon's own log
    assert tail.returncode == 0 and "holdemd" in tail.stdout


async def test_holdemctl_logs_follow_streams_new_lines(daemon: HoldemD, tmp_path: Path) -> None:
    daemon.env["FAKE_IPS"] = "100"
    await daemon.start("--instances", "2", "--config", str(write_config(tmp_path / "c.yaml")), "--iters", "100000")
    await daemon.wait_until(lambda s: all(i["state"] == "running" for i in s["instances"]), what="running")
    follow = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "supervisor.ctl",
            "--socket",
            str(daemon.sock),
            "logs",
            "--instance",
            "1",
            "-n",
            "1",
            "-f",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    followed = follow.stdout
    assert followed is not None
    try:
        assert "fake worker pid" in followed.readline()  # the tail
        out = ctl(daemon, "restart-instance", "1")  # makes new log lines: the daemon's note, the new pid
        assert out.returncode == 0, out.stderr
        seen = [followed.readline() for _ in range(2)]
        assert any("restart" in line or "fake worker pid" in line for line in seen), seen
    finally:
        follow.terminate()
        follow.wait(30)
        followed.close()


async def test_a_time_budget_gives_every_instance_the_whole_budget(tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_IPS": "1000"}, args=FAST)
    try:
        await d.start("--instances", "2", "--config", str(write_config(tmp_path / "c.yaml")), "--time-budget", "1")
        st = await d.wait_until(done, what="run done")
        assert st["state"] == "done" and st["time_budget_s"] == 1.0 and st["iters"] is None
        for inst in st["instances"]:
            log = (Path(inst["dir"]) / "train.log").read_text()
            assert "--time-budget 1 " in log and "--iters" not in log
            assert inst["iter"] >= 500  # about a second's worth each, not half of it
    finally:
        await d.stop()


async def test_a_failed_prepare_fails_the_run_before_any_instance_starts(tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_PREPARE": "exit2"}, args=FAST)
    try:
        await d.start("--instances", "2", "--config", str(write_config(tmp_path / "c.yaml")), "--iters", "100")
        st = await d.wait_until(done, what="run failed")
        assert st["state"] == "failed" and st["phase"] == "prepare"
        assert "prepare failed" in st["reason"] and "exit code 2" in st["reason"]
        assert all(i["state"] == "pending" and i["restarts"] == 0 for i in st["instances"])
        assert "fake: cannot build buckets" in st["reason"]
    finally:
        await d.stop()


def _gone_or_zombie(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie not yet reaped counts as exited)."""
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().split()[2] == "Z"

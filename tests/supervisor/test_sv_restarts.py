"""The restarts table after daemon SIGKILLs: each record says what the relaunch really resumed
from (the child's `started` event), and a restart is counted once even if the daemon died in it."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from sv_harness import FAKE_WORKER, HoldemD, instance_pids, write_config

FAST = ["--heartbeat-timeout", "20", "--backoff-base", "0.05", "--backoff-cap", "0.2", "--stop-timeout", "20"]


def done(st: dict) -> bool:
    return st.get("state") in ("done", "failed")


def restarts(d: HoldemD) -> list[tuple[int, str, str | None]]:
    with sqlite3.connect(d.state / "holdemd.sqlite3") as db:
        return list(db.execute("SELECT idx, reason, resumed_from FROM restarts ORDER BY id"))


async def test_resumed_from_is_what_the_relaunch_reported_after_a_daemon_sigkill(tmp_path: Path) -> None:
    # The orphans go on training (and checkpointing) after the daemon dies, so the daemon's last
    # known checkpoint is stale by the time they are stopped and relaunched.
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_IPS": "300", "FAKE_SURVIVE_EPIPE": "1"}, args=FAST)
    try:
        await d.start("--instances", "2", "--config", str(write_config(tmp_path / "c.yaml")), "--iters", "3000")
        await d.wait_until(
            lambda s: len(instance_pids(s)) == 2 and all(i["last_checkpoint"] for i in s["instances"]),
            what="running with checkpoints",
        )
        await d.kill9()
        await d.start()
        st = await d.wait_until(done, what="run done after kill -9")
        assert st["state"] == "done"
        rows = restarts(d)
        assert sorted(idx for idx, _, _ in rows) == [0, 1]
        for idx, _, resumed_from in rows:
            log = (Path(st["instances"][idx]["dir"]) / "train.log").read_text()
            after_kill = log[log.index("stopped orphan pid") :]
            resumed = re.search(r"resumed from iteration (\d+)", after_kill)
            assert resumed is not None, after_kill
            reported = int(resumed.group(1))
            assert resumed_from == str(Path(st["instances"][idx]["dir"]) / "checkpoints" / f"{reported:012d}")
        assert "from scratch" not in log
    finally:
        await d.stop()


async def test_an_instance_in_backoff_when_the_daemon_died_is_counted_once(tmp_path: Path) -> None:
    d = HoldemD(
        tmp_path / "d",
        FAKE_WORKER,
        env={"FAKE_IPS": "2000", "FAKE_MODE": "crash", "FAKE_ONLY_INDEX": "0"},
        args=[*FAST, "--backoff-base", "600", "--backoff-cap", "600"],
    )
    try:
        await d.start("--instances", "2", "--config", str(write_config(tmp_path / "c.yaml")), "--iters", "2000")
        await d.wait_until(lambda s: s["instances"][0]["state"] == "backoff", what="instance 0 backing off")
        await d.kill9()
        d.env["FAKE_MODE"] = ""  # the cause is gone: its relaunch (after the new daemon starts) succeeds
        await d.start()
        st = await d.wait_until(done, what="run done")
        assert st["state"] == "done" and st["instances"][0]["restarts"] == 1
        rows = restarts(d)
        ours = [(reason, resumed) for idx, reason, resumed in rows if idx == 0]
        assert len(ours) == 1 and "exit code 3" in ours[0][0]
        assert ours[0][1] is None  # it had no checkpoint: the relaunch started from scratch
    finally:
        await d.stop()

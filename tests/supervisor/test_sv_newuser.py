"""What a newcomer meets (issue 14): start arguments are honoured, bad configs are refused at once,
runs that have not started say so, and holdemctl waits for a daemon that is starting.

A real holdemd with the contract-speaking fake worker; waits are on events, bounded by timeouts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from sv_harness import FAKE_WORKER, PY, REPO, HoldemD, write_config

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


def ctl(d: HoldemD, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "supervisor.ctl", "--socket", str(d.sock), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=d.env,
    )


def running(st: dict) -> bool:
    return st.get("state") == "running" and all(i["state"] == "running" for i in st["instances"])


async def all_runs(d: HoldemD) -> list[dict]:
    return (await d.call("runs.list"))["runs"]


async def _stopped_run(d: HoldemD, cfg: Path) -> str:
    """A run interrupted by SIGTERM of the daemon: unfinished, desired state still running."""
    await d.start("--instances", "2", "--config", str(cfg), "--iters", "100000")
    st = await d.wait_until(running, what="first run running")
    d.signal(signal.SIGTERM)
    assert await d.wait_exit(60) == 0
    return st["id"]


async def test_start_with_other_arguments_starts_that_run_beside_the_resumed_one(tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_IPS": "300"}, args=FAST)
    try:
        old = await _stopped_run(d, write_config(tmp_path / "a.yaml"))
        other = write_config(tmp_path / "b.yaml", iterations=3000)
        await d.start("--instances", "1", "--config", str(other), "--iters", "1000")
        runs = {r["id"]: r for r in await all_runs(d)}
        assert len(runs) == 2
        new = next(r for r in runs.values() if r["id"] != old)
        assert new["config"] == str(other) and len(new["instances"]) == 1 and new["iters"] == 1000
        assert new["origin"].startswith("started from holdemd start arguments: 1 instance of b.yaml")
        assert runs[old]["origin"] == "resumed at start-up: it was running when holdemd last stopped"
        log = d.output()
        assert f"started run {new['id']} from the arguments" in log
        assert f"resuming run {old} (stopped at " in log and "beside the new run" in log
        text = ctl(d, "status")
        assert text.returncode == 0 and text.stdout.count("  active: ") == 2, text.stdout
    finally:
        await d.stop()


async def test_start_with_the_same_arguments_resumes_that_run_and_new_starts_another(tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_IPS": "300"}, args=FAST)
    cfg = write_config(tmp_path / "a.yaml")
    same = ("--instances", "2", "--config", str(cfg), "--iters", "100000")
    try:
        old = await _stopped_run(d, cfg)
        await d.start(*same)  # what systemd does after a reboot: the same run goes on
        runs = await all_runs(d)
        assert [r["id"] for r in runs] == [old]
        assert runs[0]["origin"] == "resumed at start-up: holdemd start was given the same arguments as this run"
        d.signal(signal.SIGTERM)
        assert await d.wait_exit(60) == 0
        await d.start(*same, "--new", "--no-resume")
        by_id = {r["id"]: r for r in await all_runs(d)}
        assert len(by_id) == 2
        assert by_id[old]["state"] == "stopped" and "--no-resume" in by_id[old]["reason"]
        assert f"holdemctl resume {old}" in by_id[old]["reason"]
        assert f"not resuming run {old}" in d.output()
        d.signal(signal.SIGTERM)
        assert await d.wait_exit(60) == 0
        await d.start()  # the parked run stays parked: its desired state is stopped now
        assert {r["id"] for r in (await d.call("status"))["runs"] if r["state"] == "running"} == set(by_id) - {old}
    finally:
        await d.stop()


def test_run_arguments_without_instances_are_refused_not_ignored(tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, args=FAST)
    out = subprocess.run(
        d.argv(["--config", str(write_config(tmp_path / "a.yaml")), "--iters", "10"]),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert out.returncode == 2
    assert out.stderr.strip() == "holdemd: --config, --iters describe a new run: give --instances N too"


def test_holdemd_start_with_a_missing_or_bad_config_exits_2_at_once(tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, args=FAST)
    missing = tmp_path / "missing.yaml"
    out = subprocess.run(
        d.argv(["--instances", "1", "--config", str(missing)]), capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert out.returncode == 2 and out.stderr == f"holdemd: cannot start the run: config {missing} does not exist\n"
    assert not d.sock.exists()
    out = subprocess.run(
        d.argv(["--instances", "1", "--config", str(write_config(tmp_path / "a.yaml"))]),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**d.env, "FAKE_CHECK": "bad"},
    )
    assert out.returncode == 2 and "config key 'fake.key'" in out.stderr and out.stderr.count("\n") == 1
    assert not d.sock.exists()


async def test_holdemctl_start_of_a_bad_config_is_refused_naming_the_key(tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_CHECK": "bad"}, args=FAST)
    try:
        await d.start()
        out = ctl(d, "start", "--instances", "1", "--config", str(write_config(tmp_path / "a.yaml")))
        assert out.returncode == 1 and out.stdout == ""
        assert "config key 'fake.key'" in out.stderr and out.stderr.count("\n") == 1
        assert await all_runs(d) == [] and not list(d.runs.glob("*"))  # nothing was created
    finally:
        await d.stop()


async def test_instances_are_pending_while_the_run_prepares_and_the_phase_is_shown(tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_PREPARE_S": "60"}, args=FAST)
    try:
        await d.start("--instances", "2", "--config", str(write_config(tmp_path / "a.yaml")), "--iters", "1000")
        st = await d.wait_until(lambda s: s.get("phase_detail"), what="a prepare stage")
        assert st["state"] == "running" and st["phase"] == "prepare"
        assert [i["state"] for i in st["instances"]] == ["pending", "pending"]
        assert st["phase_detail"].startswith("flop features ") and "/1,755 boards, 20/s" in st["phase_detail"]
        text = ctl(d, "status").stdout
        assert "[0] pending" in text and "phase prepare: instances start when it is over; flop features" in text
        asked = time.monotonic()
        run = ctl(d, "stop")
        assert run.returncode == 0 and "[1] pending" in run.stdout  # still never launched
        # A prepare has nothing to checkpoint: stop ends it at once instead of waiting for it
        # (60 s here) or for --stop-timeout (20 s).
        assert time.monotonic() - asked < 10
        assert json.loads(ctl(d, "status", "--json").stdout)["runs"][0]["state"] == "stopped"
    finally:
        await d.stop()


async def test_status_marks_a_finished_run_and_all_lists_every_run(tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_IPS": "4000"}, args=FAST)
    try:
        await d.start("--instances", "1", "--config", str(write_config(tmp_path / "a.yaml")), "--iters", "500")
        first = await d.wait_until(lambda s: s.get("state") == "done", what="run done")
        text = ctl(d, "status").stdout
        assert f"run {first['id']}  done" in text
        assert "not active: the newest run, shown because no run is active (--all lists every run)" in text
        assert (
            ctl(
                d, "start", "--instances", "1", "--config", str(write_config(tmp_path / "b.yaml")), "--iters", "100000"
            ).returncode
            == 0
        )
        text = ctl(d, "status").stdout
        assert first["id"] not in text and text.count("run ") == 1
        every = ctl(d, "status", "--all")
        assert every.returncode == 0 and first["id"] in every.stdout and every.stdout.count("not active") == 1
        assert len(json.loads(ctl(d, "status", "--all", "--json").stdout)["runs"]) == 2
    finally:
        await d.stop()


async def test_holdemctl_waits_for_a_daemon_that_is_starting(tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, args=FAST)
    d.root.mkdir(parents=True)
    waiting = subprocess.Popen(
        [PY, "-m", "supervisor.ctl", "--socket", str(d.sock), "status", "--wait", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        await d.start()
        out, err = waiting.communicate(timeout=60)
        assert waiting.returncode == 0, err
        assert out.strip() == "no runs"
    finally:
        waiting.kill() if waiting.poll() is None else None
        await d.stop()
    t0 = time.monotonic()
    gone = ctl(d, "status", "--wait", "0.5")
    assert gone.returncode == 3 and "waited 0.5s" in gone.stderr and time.monotonic() - t0 < 30


async def test_watch_prints_plain_progress_lines_into_a_pipe(tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_IPS": "1000"}, args=FAST)
    try:
        await d.start("--instances", "2", "--config", str(write_config(tmp_path / "a.yaml")), "--iters", "4000")
        out = ctl(d, "watch")
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert len(lines) >= 2 and all(" run " in line and " it/s " in line for line in lines), lines
        assert " done " in lines[-1] and "4,000/4,000" in lines[-1] and "\x1b" not in out.stdout
    finally:
        await d.stop()


def test_every_program_has_a_version_and_documents_its_defaults() -> None:
    for module in ("supervisor.daemon.startup", "supervisor.ctl.commands", "holdem.cli.commands", "tui.app"):
        out = subprocess.run([PY, "-m", module, "--version"], capture_output=True, text=True, timeout=120, cwd=REPO)
        assert out.returncode == 0 and out.stdout.split()[1] == "0.1.0", (module, out.stdout, out.stderr)
    helptext = subprocess.run(
        [PY, "-m", "supervisor.daemon", "start", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={"HOLDEMD_SOCKET": "/tmp/x/holdemd.sock", "COLUMNS": "200"},
    ).stdout
    for needle in (
        "run config (default: ",
        "configs/quickstart.yaml)",
        "(default: random, recorded in run.yaml)",
        "(default: 1s)",
        "(default: 60s)",
        "mark an instance failed (default: 5)",
        "(default here: /tmp/x/holdemd.sock;",
    ):
        assert needle in helptext, needle
    ctl_help = subprocess.run(
        [PY, "-m", "supervisor.ctl", "status", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={"HOLDEMD_SOCKET": "/tmp/y/holdemd.sock", "COLUMNS": "200"},
    )
    assert "(default here: /tmp/y/holdemd.sock;" in ctl_help.stdout and "--wait S" in ctl_help.stdout


def test_the_watch_table_never_cuts_a_number_at_80_columns() -> None:
    from rich.console import Console

    from supervisor.ctl.watch import render_table as _render

    insts = {k: dict(state="running", iter=25_123_456, target=50_000_000, ips=460_050.0, restarts=12) for k in range(3)}
    with open(os.devnull, "w") as sink:
        console = Console(width=80, record=True, file=sink)
        console.print(_render("20261202-132001-1032", "running", insts, 80))
        text = console.export_text()
    assert "…" not in text and max(map(len, text.splitlines())) <= 80
    for number in ("25,123,456/50,000,000", "75,370,368/150,000,000", "1,380,150", "460,050", "restarts"):
        assert number in text

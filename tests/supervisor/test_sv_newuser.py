"""What a newcomer meets (issue 14): start arguments are honoured, bad configs are refused at once,
runs that have not started say so, and holdemctl waits for a daemon that is starting.

A real holdemd with the contract-speaking fake worker; waits are on events, bounded by timeouts.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
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


# issue 26 ---------------------------------------------------------------------------------------


def ctl_json(d: HoldemD, *args: str) -> tuple[int, dict]:
    """holdemctl --json ...: the exit code and the one JSON object it printed on stdout."""
    out = ctl(d, "--json", *args)
    return out.returncode, json.loads(out.stdout)


async def test_resume_prints_the_run_started_again_and_stop_says_when_there_is_nothing_to_stop(
    tmp_path: Path,
) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_IPS": "300"}, args=FAST)
    try:
        await d.start("--instances", "2", "--config", str(write_config(tmp_path / "a.yaml")), "--iters", "100000")
        run = (await d.wait_until(running, what="the run running"))["id"]
        assert ctl(d, "stop").returncode == 0
        out = ctl(d, "resume", run)
        assert out.returncode == 0, out.stderr
        first, *instances = [line for line in out.stdout.splitlines() if line.startswith(("run ", "  ["))]
        assert first.startswith(f"run {run}  running"), out.stdout
        assert instances and not any(" stopped " in line for line in instances), out.stdout
        code, doc = ctl_json(d, "resume", run)  # resumed already: an error, as one JSON object
        assert code == 1 and doc["error"]["code"] == "conflict" and doc["exit_code"] == 1, doc
    finally:
        await d.stop()
    d = HoldemD(tmp_path / "e", FAKE_WORKER, env={"FAKE_IPS": "4000"}, args=FAST)
    try:
        await d.start("--instances", "1", "--config", str(write_config(tmp_path / "b.yaml")), "--iters", "500")
        done = await d.wait_until(lambda s: s.get("state") == "done", what="run done")
        out = ctl(d, "stop")
        assert out.returncode == 0 and out.stdout.strip() == f"nothing to stop: run {done['id']} is done", out.stdout
        code, doc = ctl_json(d, "stop")
        assert code == 0 and doc["stopped"] is False and doc["run"]["id"] == done["id"], doc
        assert (await d.status(done["id"]))["desired"] == "running"  # nothing was asked of the daemon
    finally:
        await d.stop()


async def test_status_gives_the_time_left_and_says_instances_and_workers_in_words(tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_IPS": "500"}, args=FAST)
    try:
        await d.start("--instances", "2", "--config", str(write_config(tmp_path / "a.yaml")), "--iters", "100000")
        await d.wait_until(lambda s: running(s) and all(i["ips"] > 0 for i in s["instances"]), what="rates")
        text = ctl(d, "status").stdout
        assert "2 instances × 1 worker;" in text and "x 1 workers" not in text, text
        assert re.search(r"; ETA 1m\d\ds$", text.splitlines()[1]), text  # 50,000 left at 500 it/s each
        assert len(re.findall(r" 500 it/s  ETA 1m\d\ds ", text)) == 2, text
    finally:
        await d.stop()


async def test_every_json_command_prints_one_json_object_errors_included(tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, args=FAST)
    d.root.mkdir(parents=True)
    code, doc = ctl_json(d, "status", "--wait", "0")  # no daemon
    assert code == 3 and doc["exit_code"] == 3 and doc["error"]["code"] == "unavailable", doc
    assert str(d.sock) in doc["error"]["message"]
    try:
        await d.start()
        for args, want in (
            (("stop", "nosuchrun"), (1, "unknown_run")),
            (("status", "nosuchrun"), (1, "unknown_run")),
            (("start", "--instances", "1", "--config", str(tmp_path / "missing.yaml")), (1, "invalid_params")),
            (("logs", "nosuchrun"), (1, "unknown_run")),
            (("strategy", "nosuchrun", "--range"), (1, "unknown_run")),
            (("stop", "a", "b"), (2, "usage")),
        ):
            out = ctl(d, "--json", *args)
            doc = json.loads(out.stdout)  # one object: json.loads refuses anything after it
            assert (out.returncode, doc["error"]["code"]) == want and doc["exit_code"] == want[0], (args, out)
            assert out.stderr.strip(), args  # and the line for people, on stderr
        code, doc = ctl_json(d, "status")
        assert code == 0 and doc == {"runs": []}
    finally:
        await d.stop()


async def test_a_second_holdemd_start_is_in_use_and_says_how_to_add_a_run(tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, args=FAST)
    try:
        await d.start()
        cfg = write_config(tmp_path / "a.yaml")
        out = subprocess.run(
            d.argv(["--instances", "1", "--config", str(cfg)]), capture_output=True, text=True, timeout=60, cwd=REPO
        )
        assert out.returncode == 3, out.stderr  # as `holdem train` on an instance folder in use
        assert f"to add a run to it: holdemctl --socket {d.sock} start --instances N --config FILE" in out.stderr
        assert out.stderr.count("\n") == 1
    finally:
        await d.stop()


async def test_an_automatic_ladder_cut_by_a_daemon_stop_runs_again_at_the_next_start(tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_IPS": "4000", "FAKE_EVAL_S": "60"}, args=FAST)
    cfg = write_config(tmp_path / "h.yaml", game="hunl")
    try:
        await d.start("--instances", "1", "--config", str(cfg), "--iters", "500", "--estimate-sample", "0")
        st = await d.wait_until(
            lambda s: s.get("state") == "done" and (s.get("eval") or {}).get("state") == "running",
            what="the automatic ladder running",
        )
        d.signal(signal.SIGTERM)  # e.g. `make run` quit after "done"
        assert await d.wait_exit(60) == 0
        d.env["FAKE_EVAL_S"] = "0.2"
        await d.start()
        again = await d.wait_until(
            lambda s: (s.get("eval") or {}).get("state") not in (None, "running"), st["id"], what="the ladder again"
        )
        assert again["eval"]["state"] == "done" and again["eval"]["automatic"], again["eval"]
        assert again["eval"]["source"]["path"] == st["merged"]
    finally:
        await d.stop()


async def test_holdemctl_finds_the_daemon_of_make_run_when_none_listens_at_the_default(
    tmp_path: Path, short_tmp_path: Path
) -> None:
    here = short_tmp_path / "checkout"  # its runs/quickstart/holdemd.sock must fit a socket address
    d = HoldemD(tmp_path / "d", FAKE_WORKER, args=FAST)
    d.sock = here / "runs" / "quickstart" / "holdemd.sock"
    d.sock.parent.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("HOLDEMD_SOCKET", "RUNTIME_DIRECTORY")}
    env["XDG_RUNTIME_DIR"] = str(tmp_path / "xdg")  # the default socket: nobody there

    def bare_ctl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PY, "-m", "supervisor.ctl", *args], capture_output=True, text=True, timeout=60, env=env, cwd=here
        )

    gone = bare_ctl("status", "--wait", "0")
    assert gone.returncode == 3 and str(tmp_path / "xdg" / "holdemd.sock") in gone.stderr
    assert f"nor at {d.sock}" in gone.stderr, gone.stderr  # where it looked for `make run`'s
    try:
        await d.start()
        out = bare_ctl("status")
        assert out.returncode == 0 and out.stdout.strip() == "no runs", out.stderr
        named = bare_ctl("--socket", str(tmp_path / "xdg" / "holdemd.sock"), "status", "--wait", "0")
        assert named.returncode == 3  # a socket given is the one used
    finally:
        await d.stop()


async def test_make_run_without_a_terminal_says_evaluating_until_the_ladder_is_done(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from supervisor.quickstart import follow_run

    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"FAKE_IPS": "4000", "FAKE_EVAL_S": "6"}, args=FAST)
    cfg = write_config(tmp_path / "h.yaml", game="hunl")
    try:
        await d.start("--instances", "1", "--config", str(cfg), "--iters", "500", "--estimate-sample", "0")
        run = await follow_run(d.sock, interval=0.2, wait_eval=True)
        out = capsys.readouterr().out
        assert run["state"] == "done" and run["eval"]["state"] == "done", run
        lines = out.splitlines()
        done_at = next(k for k, line in enumerate(lines) if " done " in line)
        assert any("evaluating… the ladder" in line for line in lines[done_at:]), out
        assert lines[-1].startswith("  eval (merged"), out
    finally:
        await d.stop()

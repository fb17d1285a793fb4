"""Layering, enforced: the supervisor knows no poker and no UI; its protocol is standard library only;
and the systemd unit is valid and does what the daemon expects (sd_notify over a real socket)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sv_harness import FAKE_WORKER, REPO, HoldemD

FORBIDDEN = ("numba", "textual", "holdem", "tui", "pickle", "_pickle")


def modules_after(code: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


def test_the_daemon_imports_neither_the_solver_nor_the_ui_nor_pickle() -> None:
    mods = modules_after(
        "import supervisor.daemon.startup, supervisor.daemon.service, supervisor.jobs.run, supervisor.daemon.api, "
        "supervisor.ctl.commands, supervisor.quickstart, uvloop"
    )
    bad = [m for m in mods if m.split(".")[0] in FORBIDDEN]
    assert bad == []


def test_the_protocol_module_is_standard_library_only() -> None:
    before = set(modules_after(""))
    after = set(modules_after("import supervisor.protocol"))
    extra = {m.split(".")[0] for m in after - before} - {"supervisor"}
    assert extra <= set(sys.stdlib_module_names), extra - set(sys.stdlib_module_names)


def test_no_pickle_in_the_supervisor_sources() -> None:
    for path in (REPO / "supervisor").rglob("*.py"):
        assert not re.search(r"\bimport\s+(c?pickle|marshal|shelve)\b", path.read_text()), path


def test_modules_stay_small() -> None:
    """A module does one job, and one job fits in 400 lines: a longer module wants splitting."""
    lines = {str(p.relative_to(REPO)): len(p.read_text().splitlines()) for p in (REPO / "supervisor").rglob("*.py")}
    assert {path: n for path, n in lines.items() if n > 400} == {}, "these want splitting"


UNIT = REPO / "systemd" / "holdemd.service"


def test_the_unit_has_what_a_days_long_service_needs() -> None:
    text = UNIT.read_text()
    for directive in (
        "Type=notify",
        "WatchdogSec=",
        "Restart=on-failure",
        "KillMode=mixed",
        "TimeoutStopSec=",
        "StateDirectory=holdemd",
        "RuntimeDirectory=holdemd",
        "LogsDirectory=holdemd",
        "ProtectSystem=strict",
        "ProtectHome=true",
        "PrivateTmp=true",
        "NoNewPrivileges=true",
        "UMask=0077",
        "NUMBA_CACHE_DIR=",
    ):
        assert directive in text, directive
    stop = re.search(r"TimeoutStopSec=(\d+)", text)
    grace = re.search(r"--stop-timeout (\d+)", text)
    assert stop and grace
    assert int(stop.group(1)) > int(grace.group(1)), "systemd must not SIGKILL children that are still checkpointing"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    # verify checks that ExecStart exists: point it at this checkout's venv instead of /opt/holdem
    holdemd = Path(sys.executable).parent / "holdemd"
    assert holdemd.exists(), "the holdemd console script is not installed (pip install -e '.[test]')"
    unit = tmp_path / "holdemd.service"
    unit.write_text(UNIT.read_text().replace("/opt/holdem/.venv/bin/holdemd", str(holdemd)))
    out = subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
    )
    problems = [line for line in (out.stdout + out.stderr).splitlines() if "holdemd.service" in line]
    assert out.returncode == 0 and not problems, out.stdout + out.stderr


async def test_the_daemon_notifies_ready_status_watchdog_and_stopping(tmp_path: Path) -> None:
    d = HoldemD(tmp_path / "d", FAKE_WORKER, env={"WATCHDOG_USEC": "400000"})
    try:
        await d.start()  # returns on READY=1
        await d.wait_notify("WATCHDOG=1", timeout=30)
        await d.wait_notify("WATCHDOG=1", timeout=30)  # again: it is periodic, from the event loop
        status = await d.wait_notify("STATUS=", timeout=30)
        assert "STATUS=idle" in status
        d.signal(signal.SIGTERM)
        stopping = await d.wait_notify("STOPPING=1", timeout=30)
        assert "STATUS=stopping" in stopping
        assert await d.wait_exit(30) == 0
    finally:
        await d.stop()

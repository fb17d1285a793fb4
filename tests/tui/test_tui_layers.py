"""holdem-tui speaks only the socket protocol: importing it must not pull in the solver, numba
or any daemon module (checked in a fresh interpreter, where sys.modules is the truth)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN_PREFIXES = ("numba", "numpy", "holdem", "yaml", "uvloop", "sqlite3", "tensorboard")
ALLOWED_SUPERVISOR = {"supervisor", "supervisor.protocol", "supervisor.protocol.messages", "supervisor.protocol.client"}


def test_tui_imports_only_supervisor_protocol() -> None:
    code = "import sys, json, tui.app, tui.screens.new_run, tui.connection; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120, check=True
    )
    modules = json.loads(out.stdout)
    bad = [m for m in modules if m.split(".")[0] in FORBIDDEN_PREFIXES]
    assert bad == [], f"holdem-tui imported {bad}"
    ours = {m for m in modules if m == "supervisor" or m.startswith("supervisor.")}
    assert ours <= ALLOWED_SUPERVISOR, f"holdem-tui imported daemon modules: {sorted(ours - ALLOWED_SUPERVISOR)}"
    assert "textual" in modules and "tui.app" in modules


def test_modules_stay_small() -> None:
    """A module does one job, and one job fits in 400 lines: a longer module wants splitting."""
    lines = {str(p.relative_to(REPO)): len(p.read_text().splitlines()) for p in (REPO / "tui").rglob("*.py")}
    assert {path: n for path, n in lines.items() if n > 400} == {}, "these want splitting"

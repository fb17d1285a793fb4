"""`make run` without a terminal: holdemd starts in a private folder, one progress line a second,
the run ends merged, the daemon is stopped, exit 0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "supervisor"))
from sv_harness import REPO


def test_quickstart_without_a_terminal_prints_progress_and_returns_0(tmp_path: Path) -> None:
    cfg = tmp_path / "small.yaml"
    cfg.write_text(
        "game: leduc\nalgorithm: es-mccfr\niterations: 400000\n"
        "checkpoint: {every_iterations: 100000, every_seconds: 0, keep: 2}\n"
        "metrics: {progress_interval_s: 0.2, exploitability_every_s: 0}\n"
    )
    root = tmp_path / "qs"
    out = subprocess.run(
        [sys.executable, "-m", "supervisor.quickstart", "--root", str(root), "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert any(" done " in line and "400,000/400,000" in line for line in lines), out.stdout
    assert "merged blueprint:" in out.stdout
    assert (root / "state" / "holdemd.sqlite3").exists() and not (root / "holdemd.sock").exists()
    run = next((root / "runs").iterdir())
    assert (run / "merged").is_dir() and len(list((run / "instances").iterdir())) == 2

"""An installed wheel carries what the programs need outside a checkout: the configs (package data) and the
TUI's stylesheets, and the daemon finds its default config there without importing holdem."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
UNSHIPPED = (".git", ".venv", "runs", "build", "*.egg-info", "__pycache__", ".mypy_cache", ".ruff_cache", "docs")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("source") / "holdem"  # setuptools writes build/ into the tree it builds
    shutil.copytree(REPO, source, symlinks=True, ignore=shutil.ignore_patterns(*UNSHIPPED))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if built.returncode != 0 and "Could not find a version" in built.stderr:
        pytest.skip("no package index reachable to fetch the build backend")
    assert built.returncode == 0, built.stderr[-2000:]
    (found,) = out.glob("holdem-*.whl")
    return found


def test_the_wheel_ships_every_config_and_stylesheet(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for config in sorted((REPO / "holdem" / "configs").glob("*.yaml")):
        assert f"holdem/configs/{config.name}" in names
    for sheet in sorted((REPO / "tui").rglob("*.tcss")):
        assert sheet.relative_to(REPO).as_posix() in names


def test_an_installed_wheel_finds_the_quickstart_config_outside_the_repository(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import sys; from supervisor.config import builtin_config; p = builtin_config('quickstart'); "
        "print(p); assert 'holdem' not in sys.modules"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()) == site / "holdem" / "configs" / "quickstart.yaml"

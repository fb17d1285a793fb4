"""Where a benchmark ran, for its JSON report: the CPU, the platform, Python and package versions.

Shared by the speed benchmarks (run as scripts from this folder, so they import it by name).
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
from typing import Any


def installed_version(dist: str) -> str | None:
    """The installed version of a distribution (e.g. "numba", "open-spiel"); None when it is not installed."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def cpu_model() -> str | None:
    """The CPU's model name from /proc/cpuinfo, else what `platform` knows."""
    cpu = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), None)
    except OSError:
        pass
    return cpu or platform.processor() or None


def machine(*dists: str) -> dict[str, Any]:
    """The machine and the versions of `dists` (keys with "_" for "-", e.g. "open_spiel")."""
    return {
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        **{dist.replace("-", "_"): installed_version(dist) for dist in dists},
    }

"""Shared by the search benchmarks: a blueprint to search with, and duplicate deals under a clock."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from holdem.play.match import deal_cards, duplicate_deal, showdown_winners  # noqa: E402
from holdem.stats import mean_interval  # noqa: E402


def buckets_root() -> Path:
    if os.environ.get("HOLDEM_BUCKETS"):
        return Path(os.environ["HOLDEM_BUCKETS"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "holdem" / "buckets"


def ensure_blueprint(path: Path | None, train_minutes: float, config: Path, seed: int = 1) -> Path:
    """The blueprint folder to use: `path`, or one trained now by `holdem train --time-budget`."""
    if path is not None:
        return path
    folder = REPO / "runs" / "search-bench" / f"{config.stem}-{train_minutes:g}min-seed{seed}"
    if not (folder / "checkpoints").is_dir():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "holdem",
                "train",
                "--config",
                str(config),
                "--instance-dir",
                str(folder),
                "--time-budget",
                f"{train_minutes * 60:g}",
                "--seed",
                str(seed),
            ],
            check=True,
            cwd=REPO,
        )
    return folder


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def duplicate(a, b, rules, seed: int, seconds: float, max_deals: int) -> dict:
    """Duplicate deals (each played twice, seats swapped) until `seconds` or `max_deals`; A's result in
    mbb/hand with the 95% interval (1.96 standard errors of the per-deal mean), as `holdem match`."""
    cards = deal_cards(max_deals, seed)
    winners = np.empty(max_deals, dtype=np.int8)
    showdown_winners(cards, winners)
    for agent in (a, b):
        agent.prepare(cards)
    per_deal: list[float] = []
    started = time.perf_counter()
    for d, w in enumerate(winners.tolist()):
        if time.perf_counter() - started > seconds:
            break
        per_deal.append(duplicate_deal(a, b, rules, d, w, seed))
    out = summary(np.array(per_deal), rules.big_blind)
    out.update(a=a.name, b=b.name, seconds=round(time.perf_counter() - started, 1), per_deal=per_deal)
    return out


def summary(per_deal: np.ndarray, big_blind: int) -> dict:
    """mbb/hand and its 95% interval from duplicate results per deal (chips, two hands each)."""
    scale = 1000.0 / big_blind / 2.0
    mean, half = mean_interval(per_deal, scale)
    return {
        "hands": 2 * len(per_deal),
        "mbb_per_hand": round(mean, 1),
        "ci95": [round(mean - half, 1), round(mean + half, 1)],
    }

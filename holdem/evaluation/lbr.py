"""Local best response (Lisý & Bowling, "Equilibrium Approximation Quality of Current No-Limit Poker
Bots", 2017): a lower bound on a blueprint's exploitability, for hold'em and Leduc.

LBR plays the blueprint on sampled deals, one deal in both seats; at its decisions it picks the action
with the best value against the opponent's Bayesian range, assuming check/call to the showdown after it
(the kernels are in ``lbr_kernels``, a plain twin for Leduc in ``lbr_reference``). Whatever LBR plays is
one strategy, so its expected winnings, averaged over both seats, can never exceed a best response's:
exploitability = (BR_0 + BR_1) / 2 (NashConv / 2, as ``exploitability`` reports). The figure is the mean
over deals with a 95% interval (1.96 standard errors of the per-deal mean): a lower bound on the
exploitability in expectation; it is the interval's lower end that is a bound with 97.5% confidence.

Variants: ``fc`` folds or calls; ``fcpa`` may also raise, to the blueprint tree's raise nearest a
pot-sized one and to its largest raise (the all-in where the tree has one). LBR's actions stay on the
blueprint's own tree, so the blueprint never has to translate an action; a tree action is a legal real
action, so the bound holds in the real game too. Units: hold'em mbb/hand (1000 x chips / big blind),
Leduc chips/hand (the game's own units: ante 1).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from holdem.abstraction.buckets import BucketArrays
from holdem.abstraction.hand_kernels import GAME_HUNL, GAME_LEDUC, Deck
from holdem.abstraction.isomorphism import BINOM, CARD_PERMS
from holdem.cards import BOARD_CARDS, COMBO_CARDS, FULL_BOARD, NUM_CARDS
from holdem.evaluation import lbr_kernels as K
from holdem.games.tree import BettingTree
from holdem.progress_bar import ProgressBar
from holdem.stats import mean_interval

LBR_FORMAT = "holdem-lbr"
LBR_VERSION = 1
VARIANTS = {"fc": K.VARIANT_FC, "fcpa": K.VARIANT_FCPA}
PREFLOP_SAMPLES = 500  # random boards per hold'em preflop decision (see lbr_kernels)


class LbrError(ValueError):
    """Bad LBR input; the message names the value and what is allowed."""


@dataclass(frozen=True, slots=True)
class LbrSettings:
    variant: str = "fc"
    hands: int = 10_000
    seed: int = 0
    workers: int = 1
    preflop_samples: int = PREFLOP_SAMPLES

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise LbrError(f"--variant must be one of {', '.join(VARIANTS)}, got {self.variant!r}")
        if self.hands < 2:
            raise LbrError(f"--hands must be at least 2 (one deal in both seats), got {self.hands}")
        if not 1 <= self.workers <= 256:
            raise LbrError(f"--workers must be in [1, 256], got {self.workers}")
        if not 1 <= self.preflop_samples <= 1_000_000:
            raise LbrError(f"preflop samples must be in [1, 1000000], got {self.preflop_samples}")


@dataclass(frozen=True, slots=True)
class LbrTarget:
    """What the kernels read of one blueprint: its game's cards, tree, policy and bucket tables."""

    game: str  # "hunl" or "leduc"
    tree: BettingTree
    policy: np.ndarray
    tables: BucketArrays
    scale: float  # chips -> reported unit
    unit: str
    name: str
    iteration: int


@dataclass(frozen=True, slots=True)
class LbrResult:
    target: str
    game: str
    iteration: int
    settings: LbrSettings
    hands: int
    value: float
    ci95: tuple[float, float]
    seats: tuple[tuple[float, float, float], ...]  # per seat: value, ci low, ci high
    unit: str
    seconds: float

    def to_json(self) -> dict[str, object]:
        """The stable shape of `holdem lbr --json` (documented in docs/formats.md, read by the ladder)."""
        r = lambda x: round(x, 4)
        return {
            "format": LBR_FORMAT,
            "version": LBR_VERSION,
            "policy": self.target,
            "game": self.game,
            "iteration": self.iteration,
            "variant": self.settings.variant,
            "unit": self.unit,
            "hands": self.hands,
            "value": r(self.value),
            "ci95": [r(self.ci95[0]), r(self.ci95[1])],
            "seats": [{"seat": i, "value": r(v), "ci95": [r(lo), r(hi)]} for i, (v, lo, hi) in enumerate(self.seats)],
            "seed": self.settings.seed,
            "workers": self.settings.workers,
            "preflop_samples": self.settings.preflop_samples if self.game == "hunl" else None,
            "seconds": round(self.seconds, 3),
            "hands_per_s": round(self.hands / max(self.seconds, 1e-9), 2),
        }


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    a.setflags(write=False)
    return a


# Leduc reads no bucket table; read-only placeholders of the hold'em tables' types keep one compiled kernel.
_NO_TABLES = BucketArrays(
    BINOM,
    CARD_PERMS,
    _readonly(np.zeros(1, np.uint16)),
    *(_readonly(np.zeros((1, 1), np.uint16)) for _ in range(3)),
    *(_readonly(np.zeros(1, dt)) for dt in (np.int32, np.int8) * 3),
)
_DECKS = {
    "hunl": Deck(
        GAME_HUNL,
        NUM_CARDS,
        FULL_BOARD,
        np.array(BOARD_CARDS, dtype=np.int64),
        np.ascontiguousarray(COMBO_CARDS, dtype=np.int64),
    ),
    "leduc": Deck(
        GAME_LEDUC, 6, 1, np.array([0, 1], dtype=np.int64), np.array([[c, c] for c in range(6)], dtype=np.int64)
    ),
}


def leduc_target(game, policy: np.ndarray, name: str = "leduc", iteration: int = 0) -> LbrTarget:
    if game.name != "leduc":
        raise LbrError(f"LBR is defined here for hold'em and Leduc, not {game.name!r}")
    return LbrTarget(
        "leduc",
        game.tree,
        np.ascontiguousarray(policy, dtype=np.float64),
        _NO_TABLES,
        1.0,
        "chips/hand",
        name,
        iteration,
    )


def hunl_target(game, policy: np.ndarray, name: str = "hunl", iteration: int = 0) -> LbrTarget:
    """A hold'em blueprint: its HunlGame (tree and bucket tables) and its average strategy."""
    return LbrTarget(
        "hunl",
        game.tree,
        np.ascontiguousarray(policy, dtype=np.float64),
        game.buckets.arrays(),
        1000.0 / game.abstraction.rules.big_blind,
        "mbb/hand",
        name,
        iteration,
    )


def run_deals(target: LbrTarget, variant: int, seed: int, first: int, out: np.ndarray, samples: int) -> None:
    """out[i, seat] = LBR's chips in seat `seat` on deal first + i (releases the GIL while it runs)."""
    deck = _DECKS[target.game]
    K.lbr_deals(deck, target.tables, variant, seed, first, target.tree.arrays(), target.policy, samples, out)


Progress = Callable[[int, int, float], None]  # (deals done, deals, running mean in the unit)


def local_best_response(target: LbrTarget, settings: LbrSettings, progress: Progress | None = None) -> LbrResult:
    """Play ceil(hands / 2) deals in both seats on `workers` threads; deal d's result depends only on
    (seed, d), so the figure is the same for any number of workers."""
    n_deals = max(1, math.ceil(settings.hands / 2))
    out = np.zeros((n_deals, 2))
    variant = VARIANTS[settings.variant]
    run_deals(target, variant, settings.seed, 0, out[:0], settings.preflop_samples)  # compile (or load) first
    batch = 4 if target.game == "hunl" else 4096
    starts = list(range(0, n_deals, batch))
    started = time.perf_counter()
    done = 0

    def work(first: int) -> int:
        end = min(first + batch, n_deals)
        run_deals(target, variant, settings.seed, first, out[first:end], settings.preflop_samples)
        return end - first

    pool = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="lbr")
    try:
        pending = {pool.submit(work, s) for s in starts}
        while pending:
            finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            done += sum(f.result() for f in finished)
            if progress is not None:
                progress(done, n_deals, float(out.sum()) / max(2 * done, 1) * target.scale)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    seconds = time.perf_counter() - started
    per_hand = out.mean(axis=1) * target.scale  # the two hands of a deal, averaged
    value, half = mean_interval(per_hand)
    seats = tuple((v, v - h, v + h) for v, h in (mean_interval(out[:, s] * target.scale) for s in range(2)))
    return LbrResult(
        target.name,
        target.game,
        target.iteration,
        settings,
        2 * n_deals,
        value,
        (value - half, value + half),
        seats,
        target.unit,
        seconds,
    )


def terminal_progress(unit: str, out: TextIO | None = None) -> Progress:
    """LBR's progress for a person at a terminal (hands, their rate, the time spent and left, the running
    value); silent elsewhere (a pipe, a log file)."""
    bar = ProgressBar(out, every_s=None)
    started = time.perf_counter()

    def show(done: int, total: int, value: float) -> None:
        if not bar.on_terminal:
            return
        rate = 2 * done / max(time.perf_counter() - started, 1e-9)
        frac = done / max(total, 1)
        hands = f"{2 * done:,}/{2 * total:,} hands  {rate:,.0f} hands/s"
        text = f"{hands}  {bar.clock_for(frac)}  LBR {value:+,.1f} {unit}"
        bar.show(f"{bar.gauge(frac)}  {text}", final=done >= total)

    return show


def target_from_path(path: Path, buckets_root: Path) -> LbrTarget:
    """A hold'em blueprint folder or a Leduc policy source (raises PolicyError / LbrError)."""
    from holdem.blueprint.policy import load_policy

    loaded = load_policy(path, buckets_root)
    if loaded.game.name == "hunl":
        return hunl_target(loaded.game, loaded.policy, str(path), loaded.iteration)
    return leduc_target(loaded.game, loaded.policy, str(path), loaded.iteration)


def describe(result: LbrResult) -> str:
    """The one-paragraph text report of `holdem lbr`."""
    lo, hi = result.ci95
    f = ",.1f" if result.game == "hunl" else ".4f"  # mbb are coarse; Leduc chips need decimals
    seat_names = ("button", "big blind") if result.game == "hunl" else ("first to act", "second")
    seats = ", ".join(f"{n} {v:+{f}}" for n, (v, _, _) in zip(seat_names, result.seats))
    units = result.unit + ("" if result.game == "hunl" else " (Leduc's own units: ante 1)")
    return (
        f"LBR-{result.settings.variant} against {result.target}: {result.value:+{f}} {units}, "
        f"95% [{lo:+{f}}, {hi:+{f}}] over {result.hands:,} hands ({seats}); "
        f"{result.seconds:.1f} s, {result.hands / max(result.seconds, 1e-9):,.0f} hands/s on "
        f"{result.settings.workers} worker{'s' if result.settings.workers != 1 else ''}"
    )

"""Run the subgame solver for a budget: iterations, milliseconds, or both (whichever ends first).

The kernel runs in batches sized from the measured time per iteration, so a time budget is met
without the kernel reading a clock; ``workers`` sets numba's thread count for the call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numba
import numpy as np

from holdem.cards import NUM_CARDS
from holdem.search import kernel
from holdem.search.subgame import Subgame
from holdem.solver.regret import Discounting

GADGETS = {"none": kernel.NO_GADGET, "maxmargin": kernel.MAXMARGIN, "resolve": kernel.RESOLVE}


def most_workers() -> int:
    """The size of numba's thread pool (NUMBA_NUM_THREADS): the most threads a search can use."""
    return numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]  # (numba.config sets its names at import)


@dataclass(frozen=True, slots=True)
class SolveOptions:
    iterations: int | None = None  # stop after this many
    ms: float | None = None  # or when this much wall time is spent (counted from `started`)
    workers: int = 1
    gadget: str = "resolve"  # how the other player enters a subgame that has a history: see kernel
    gadget_weight: float = 1.0  # re-solve gadget: a hand enters with range x (1 + weight x P(follow))
    uniform_share: float = 0.05  # of the gadget player's range spread over every hand (see solve)
    alpha: float = 1.5
    beta: float = 0.0
    gamma: float = 2.0

    def __post_init__(self) -> None:
        if self.iterations is None and self.ms is None:
            raise ValueError("a search needs a budget: --search-iters or --search-ms")
        if self.iterations is not None and self.iterations < 1:
            raise ValueError(f"--search-iters must be at least 1, got {self.iterations}")
        if self.ms is not None and not self.ms > 0:
            raise ValueError(f"--search-ms must be above 0, got {self.ms}")
        if not 0.0 <= self.uniform_share <= 1.0:
            raise ValueError(f"search uniform_share must be in [0, 1], got {self.uniform_share}")
        if self.gadget not in GADGETS:
            raise ValueError(f"search gadget must be one of {', '.join(GADGETS)}, got {self.gadget!r}")
        most = most_workers()
        if not 1 <= self.workers <= most:
            raise ValueError(f"--search-workers must be in [1, {most}], got {self.workers}")


@dataclass(frozen=True, slots=True)
class SolveResult:
    average: np.ndarray  # average strategy, slot layout of the subgame
    iterations: int
    seconds: float


def _check_range(name: str, r: np.ndarray, n: int) -> np.ndarray:
    r = np.ascontiguousarray(r, dtype=np.float64)
    if r.shape != (n,) or not np.all(np.isfinite(r)) or np.any(r < 0):
        raise ValueError(f"{name} must be {n} finite non-negative reach probabilities")
    return r


def _root_values(
    sub: Subgame, player: int, mode: kernel.PassMode, fixed: np.ndarray, range_other: np.ndarray, workers: int
) -> np.ndarray:
    numba.set_num_threads(workers)
    return kernel.root_values(
        player,
        mode,
        sub.arrays(),
        sub.leaves,
        np.ascontiguousarray(fixed, dtype=np.float64),
        _check_range("range", range_other, sub.hands.n),
        kernel.scratch(sub.n_nodes, sub.hands.n),
        workers,
    )


def gadget_values(sub: Subgame, fixed: np.ndarray, range_searcher: np.ndarray, workers: int = 1) -> np.ndarray:
    """The non-searcher's best-response counterfactual values at the root against ``fixed`` (the
    blueprint in the subgame's layout): what the Maxmargin gadget measures margins from."""
    return _root_values(sub, 1 - sub.searcher, kernel.BEST_RESPONSE, fixed, range_searcher, workers)


def pair_mass(cards: np.ndarray, mine: np.ndarray, other: np.ndarray) -> float:
    """Sum over pairs of hands sharing no card of mine[h] x other[h']."""
    card_sum = np.zeros(NUM_CARDS)
    np.add.at(card_sum, cards[:, 0], other)
    two = cards[:, 1] >= 0
    np.add.at(card_sum, cards[two, 1], other[two])
    compatible = other.sum() - card_sum[cards[:, 0]] - np.where(two, card_sum[np.maximum(cards[:, 1], 0)] - other, 0.0)
    return float((mine * compatible).sum())


def expected_value(
    sub: Subgame, strategy: np.ndarray, player: int, ranges: tuple[np.ndarray, np.ndarray], workers: int = 1
) -> float:
    """``player``'s expected chips at the end of the hand when both play ``strategy`` (slot layout) from
    the root with these ranges, per pair of hands: how a strategy fares against a fixed opponent."""
    mine = _check_range("range", ranges[player], sub.hands.n)
    other = _check_range("range", ranges[1 - player], sub.hands.n)
    values = _root_values(sub, player, kernel.EVALUATE, strategy, other, workers)
    mass = pair_mass(sub.hands.cards, mine, other)
    return float((mine * values).sum()) / mass if mass > 0 else 0.0


def solve(
    sub: Subgame,
    ranges: tuple[np.ndarray, np.ndarray],
    alt: np.ndarray | None,
    options: SolveOptions,
    started: float | None = None,
) -> SolveResult:
    """Solve the subgame from both players' root reaches; with ``alt`` the non-searcher enters through the
    Maxmargin gadget instead of its range. Returns the searcher's (and the other's) average strategy."""
    started = time.perf_counter() if started is None else started
    h = sub.hands
    r0 = _check_range("player 0's range", ranges[0], h.n)
    r1 = _check_range("player 1's range", ranges[1], h.n)
    mode = kernel.NO_GADGET if alt is None else GADGETS[options.gadget]
    player = -1 if mode == kernel.NO_GADGET else 1 - sub.searcher
    alt_arr = np.zeros(h.n) if alt is None else np.ascontiguousarray(alt, dtype=np.float64)
    if player >= 0:
        # The gadget player's range as probabilities, a share of it spread over every hand: a best
        # response may bring here hands the Bayes range says are (nearly) never here, and the gadget's
        # constraints hold only for hands with weight.
        r = (r0, r1)[player]
        r = r / r.sum() if r.sum() > 0 else np.full(h.n, 1.0 / h.n)
        r = (1.0 - options.uniform_share) * r + options.uniform_share / h.n
        r0, r1 = (r, r1) if player == 0 else (r0, r)
    arrays = sub.arrays()
    regrets = np.zeros(sub.n_slots)
    strat_sum = np.zeros(sub.n_slots)
    sigma = np.zeros(sub.n_slots)
    gadget = kernel.Gadget(player, mode, alt_arr, np.zeros((h.n, 2)), options.gadget_weight)
    work = kernel.scratch(sub.n_nodes, h.n)
    discounting = Discounting(options.alpha, options.beta, options.gamma)
    numba.set_num_threads(options.workers)
    deadline = None if options.ms is None else started + options.ms / 1000.0
    done, batch = 0, 1
    while True:
        n = batch if options.iterations is None else min(batch, options.iterations - done)
        if n <= 0:
            break
        t = time.perf_counter()
        kernel.dcfr_iterations(
            arrays, sub.leaves, (r0, r1), gadget, regrets, strat_sum, sigma, work, done, n, discounting, options.workers
        )
        now = time.perf_counter()
        done += n
        if deadline is None:
            batch = options.iterations or 1
            continue
        left = deadline - now
        per = (now - t) / n
        # stop while a slow iteration (a busy machine makes one take twice as long) still fits
        if left <= 2.0 * per:
            break
        batch = max(1, int(0.5 * left / per))
    average = np.empty(sub.n_slots)
    kernel.normalise(strat_sum, arrays, average)
    return SolveResult(average, done, time.perf_counter() - started)

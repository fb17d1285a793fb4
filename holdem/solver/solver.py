"""The solver's public face: a game, its tables, and ``run(n)`` that advances n iterations.

All state that decides the future (regrets, strategy sums, every worker's generator state, the iteration
number) is exposed by ``state()`` and restored by ``restore()``; nothing else persists between calls, so a
solver rebuilt from a checkpoint continues exactly as the original would have (bit for bit with one
worker; with W > 1 the workers share the tables lock-free, see ``workers.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from holdem.games.hunl.game import HunlGame
from holdem.games.tree import Game
from holdem.solver import es, es_hunl, full
from holdem.solver.regret import Discounting, average_positive_regret, average_strategy
from holdem.solver.workers import Kernel, WorkerPool

ALGORITHMS = ("cfr", "cfr+", "dcfr", "es-mccfr")
_FULL_VARIANT = {"cfr": full.CFR, "cfr+": full.CFR_PLUS, "dcfr": full.DCFR}


@dataclass(frozen=True, slots=True)
class SolverSettings:
    algorithm: str
    linear_averaging: bool = True
    linear_regrets: bool = True
    dcfr_alpha: float = 1.5
    dcfr_beta: float = 0.0
    dcfr_gamma: float = 2.0
    prune: bool = False
    prune_threshold: float = -3e8
    prune_probability: float = 0.95
    prune_start: int = 0

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"unknown algorithm {self.algorithm!r} (allowed: {', '.join(ALGORITHMS)})")


@dataclass(frozen=True, slots=True)
class SolverState:
    iteration: int
    regrets: np.ndarray
    strategy_sum: np.ndarray
    rng: np.ndarray  # uint64 [W, 4], one generator state per worker ([4] is read as one worker)


class Solver:
    """workers: threads of the sampled solver (es-mccfr); the full sweeps always run on one thread
    (a Leduc sweep takes well under a millisecond: handing it to threads costs more than it saves)."""

    def __init__(self, game: Game | HunlGame, settings: SolverSettings, seed: int, workers: int = 1) -> None:
        self.game = game
        self.settings = settings
        t = game.tree
        self.iteration = 0
        self.regrets = np.zeros(t.n_slots)
        self.strategy_sum = np.zeros(t.n_slots)
        self._full = settings.algorithm in _FULL_VARIANT
        if self._full and isinstance(game, HunlGame):  # hold'em: deals are sampled in the kernel
            raise ValueError(f"{settings.algorithm} sweeps every deal; hold'em needs es-mccfr")
        self.workers = 1 if self._full else workers
        self._pool = WorkerPool(self.workers, seed, lambda: es.scratch(t.n_nodes, t.max_actions), t.n_slots)
        self._schedule = es.Schedule(
            settings.linear_regrets,
            settings.linear_averaging,
            settings.prune,
            settings.prune_threshold,
            settings.prune_probability,
            settings.prune_start,
        )
        self._tree = t.arrays()
        self._discounting = Discounting(settings.dcfr_alpha, settings.dcfr_beta, settings.dcfr_gamma)
        self._packed = None if self._full else es.packed_tree(t)
        self._deals = game.deals.arrays() if isinstance(game, Game) else None  # hold'em samples its own
        self._sweep = None
        if self._full and isinstance(game, Game):
            self._sweep = full.sweep_scratch(t.n_slots, t.n_nodes, game.deals.n_deals)

    @property
    def rng(self) -> np.ndarray:
        """uint64 [W, 4]: a copy of every worker's generator state."""
        return self._pool.rng_states()

    def run(self, n_iters: int) -> int:
        """Advance n_iters iterations; returns the node visits (node-deal pairs for full sweeps)."""
        if n_iters <= 0:
            return 0
        s = self.settings
        if self._sweep is not None and self._deals is not None:  # a full sweep
            visits = full.full_iterations(
                self._tree,
                self._deals,
                self.regrets,
                self.strategy_sum,
                self._sweep,
                self.iteration,
                n_iters,
                _FULL_VARIANT[s.algorithm],
                s.linear_averaging,
                self._discounting,
            )
        else:
            visits = self._pool.run(self._es_kernel(), self.iteration, n_iters, self.strategy_sum)
        self.iteration += n_iters
        return int(visits)

    def _es_kernel(self) -> Kernel:
        """One worker's traversals on the shared tables."""
        regrets, packed, schedule, deals = self.regrets, self._packed, self._schedule, self._deals
        if deals is None:
            assert isinstance(self.game, HunlGame)
            tables = self.game.buckets.arrays()

            def hunl(t0: int, n: int, rng: np.ndarray, work: tuple[np.ndarray, ...], strategy_sum: np.ndarray) -> int:
                return es_hunl.es_iterations_hunl(tables, packed, regrets, strategy_sum, rng, t0, n, schedule, work)

            return hunl

        def enumerated(t0: int, n: int, rng: np.ndarray, work: tuple[np.ndarray, ...], strategy_sum: np.ndarray) -> int:
            return es.es_iterations_enumerated(deals, packed, regrets, strategy_sum, rng, t0, n, schedule, work)

        return enumerated

    def average_strategy(self) -> np.ndarray:
        return average_strategy(self.game.tree, self.strategy_sum)

    def average_regret(self) -> float:
        """Average positive regret per infoset, per unit of the iterations' regret weight."""
        n = self.iteration
        linear = self.settings.linear_regrets and not self._full
        return average_positive_regret(self.game.tree, self.regrets, n * (n + 1) / 2 if linear else n)

    def state(self) -> SolverState:
        return SolverState(self.iteration, self.regrets, self.strategy_sum, self.rng)

    def restore(self, state: SolverState) -> str | None:
        """Continue from state; returns a sentence when it was saved with another number of workers."""
        n = self.game.tree.n_slots
        for name in ("regrets", "strategy_sum"):
            if getattr(state, name).shape != (n,):
                raise ValueError(f"{name} has shape {getattr(state, name).shape}, the game needs ({n},)")
        rng = np.asarray(state.rng)
        if rng.dtype != np.uint64 or rng.ndim not in (1, 2) or rng.shape[-1] != 4 or rng.size == 0:
            raise ValueError(f"rng state must be uint64 [workers, 4], got {rng.dtype} {rng.shape}")
        self.iteration = int(state.iteration)
        # In place: the worker kernels hold references to these arrays.
        self.regrets[:] = state.regrets
        self.strategy_sum[:] = state.strategy_sum
        return self._pool.set_rng_states(rng, self.iteration)

    def close(self) -> None:
        """Stop the worker threads (idle between runs; closing is only tidiness)."""
        self._pool.close()

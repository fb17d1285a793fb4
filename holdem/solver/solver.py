"""The solver's public face: a game, its tables, and ``run(n)`` that advances n iterations.

All state that decides the future (regrets, strategy sums, every worker's generator state, the iteration
number) is exposed by ``state()`` and restored by ``restore()``; nothing else persists between calls, so a
solver rebuilt from a checkpoint continues exactly as the original would have (bit for bit with one
worker; with W > 1 the workers share the tables lock-free, see ``workers.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from holdem.abstraction.isomorphism import BINOM, CARD_PERMS
from holdem.games.hunl.game import HunlGame
from holdem.games.tree import Game
from holdem.solver import es, es_hunl, full
from holdem.solver.regret import average_positive_regret, average_strategy
from holdem.solver.workers import WorkerPool

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
        self._sampled_deals = not isinstance(game, Game)  # hold'em: deals are sampled in the kernel
        if self._full and self._sampled_deals:
            raise ValueError(f"{settings.algorithm} sweeps every deal; hold'em needs es-mccfr")
        self.workers = 1 if self._full else workers
        self._pool = WorkerPool(self.workers, seed, lambda: es.scratch(t.n_nodes, t.max_actions), t.n_slots)
        if self._full:
            shape = (t.n_nodes, game.deals.n_deals)
            self._work = (np.zeros(t.n_slots), np.zeros(shape), np.zeros(shape), np.zeros(shape))
        else:
            self._nodes = es.pack_nodes(t)
            if not self._sampled_deals:
                self._cdf = game.deals.cdf()

    @property
    def rng(self) -> np.ndarray:
        """uint64 [W, 4]: a copy of every worker's generator state."""
        return self._pool.rng_states()

    def run(self, n_iters: int) -> int:
        """Advance n_iters iterations; returns the node visits (node-deal pairs for full sweeps)."""
        if n_iters <= 0:
            return 0
        t, s = self.game.tree, self.settings
        dl = None if self._sampled_deals else self.game.deals
        if self._full:
            visits = full.full_iterations(
                t.kind,
                t.player,
                t.street,
                t.child_start,
                t.num_children,
                t.children,
                t.contrib,
                t.slot,
                t.bucket_stride,
                t.num_buckets,
                dl.buckets,
                dl.winner,
                dl.prob,
                self.regrets,
                self.strategy_sum,
                *self._work,
                self.iteration,
                n_iters,
                _FULL_VARIANT[s.algorithm],
                s.linear_averaging,
                s.dcfr_alpha,
                s.dcfr_beta,
                s.dcfr_gamma,
            )
        else:
            visits = self._pool.run(self._es_kernel(), self.iteration, n_iters, self.strategy_sum)
        self.iteration += n_iters
        return int(visits)

    def _es_kernel(self):  # -> workers.Kernel: one worker's traversals on the shared tables
        t, s = self.game.tree, self.settings
        regrets, nodes = self.regrets, self._nodes
        if self._sampled_deals:
            b = self.game.buckets

            def hunl(t0: int, n: int, rng: np.ndarray, work: tuple[np.ndarray, ...], strategy_sum: np.ndarray) -> int:
                return es_hunl.es_iterations_hunl(
                    BINOM,
                    CARD_PERMS,
                    b.preflop,
                    b.flop,
                    b.turn,
                    b.river,
                    b.board3_id,
                    b.board3_perm,
                    b.board4_id,
                    b.board4_perm,
                    b.board5_id,
                    b.board5_perm,
                    nodes,
                    t.children,
                    t.contrib,
                    regrets,
                    strategy_sum,
                    rng,
                    t0,
                    n,
                    s.linear_regrets,
                    s.linear_averaging,
                    s.prune,
                    s.prune_threshold,
                    s.prune_probability,
                    s.prune_start,
                    *work,
                )

            return hunl
        dl, cdf = self.game.deals, self._cdf

        def enumerated(t0: int, n: int, rng: np.ndarray, work: tuple[np.ndarray, ...], strategy_sum: np.ndarray) -> int:
            return es.es_iterations_enumerated(
                dl.buckets,
                dl.winner,
                cdf,
                nodes,
                t.children,
                t.contrib,
                regrets,
                strategy_sum,
                rng,
                t0,
                n,
                s.linear_regrets,
                s.linear_averaging,
                s.prune,
                s.prune_threshold,
                s.prune_probability,
                s.prune_start,
                *work,
            )

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

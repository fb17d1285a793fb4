"""W worker threads running external-sampling traversals on one shared set of tables, lock-free.

As in Pluribus (Brown & Sandholm, "Superhuman AI for multiplayer poker", 2019), the workers read and
add to the same float64 regret and strategy-sum arrays without locks: two workers adding to one
entry at the same instant may lose one of the additions, which MCCFR tolerates as noise (see
docs/decisions.md). Everything a traversal writes besides the tables is private to its worker: the
generator state (one xoshiro256** stream per worker), the explicit stack and the value scratch.
Small tables (Leduc, Kuhn) would have every core write the same few cache lines all the time; there
each worker adds to a private strategy sum, folded into the shared one at the barrier (the traversal
never reads the strategy sum, so nothing it does changes), while regrets stay shared: the workers
learn from each other's updates at once.

Invariants:
* ``run(kernel, t0, n)`` performs iterations t0+1 .. t0+n exactly once each, every worker taking
  blocks of consecutive iteration numbers (so Linear CFR weights are the global iteration's), and
  returns only when every worker has finished its last traversal: the end of ``run`` is the barrier
  at which a checkpoint or a stop sees whole traversals only.
* With one worker nothing runs on another thread and the single stream sees the iterations in order,
  so W = 1 is bit-identical to the sequential solver whatever the chunking.
* The kernels release the GIL (``nogil=True``), so the threads run in parallel; the Python work per
  block (a lock, a call) is microseconds against milliseconds of traversal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from holdem.rng import seed_state

_MASK = (1 << 64) - 1
# Guided self-scheduling (Polychronopoulos & Kuck 1987): a worker takes 1/(2W) of what is left, but at
# least 1/(W * MIN_BLOCK_FRACTION) of the run, so blocks shrink towards the barrier and the workers
# finish within a small block of each other; the per-block overhead (a lock, a call) stays noise.
MIN_BLOCK_FRACTION = 64
# A worker's 32-byte generator state sits in the middle of its own 256-byte buffer, so two workers'
# states never share a cache line (each draw writes the state: sharing a line would stall both).
_RNG_PAD = 32

# Tables up to this many slots get private strategy sums per worker (Leduc has 672; hold'em millions).
PRIVATE_SUM_SLOTS = 1 << 16

# kernel(t0, n, rng, scratch, strategy_sum) -> node visits; iterations t0+1 .. t0+n with one worker's stream.
Kernel = Callable[[int, int, np.ndarray, tuple[np.ndarray, ...], np.ndarray], int]


def worker_seed(seed: int, worker: int, salt: int = 0) -> int:
    """The seed of worker w's stream: worker 0 uses the instance seed itself (so W = 1 is today's run);
    the others mix (seed, worker, salt) through splitmix64 so the streams are unrelated."""
    if worker == 0 and salt == 0:
        return seed
    x = (seed * 0x9E3779B97F4A7C15 + worker * 0xBF58476D1CE4E5B9 + salt * 0x94D049BB133111EB) & _MASK
    x = ((x ^ (x >> 31)) * 0xD6E8FEB86659FD93) & _MASK
    return x ^ (x >> 32)


def _padded(state: np.ndarray) -> np.ndarray:
    buf = np.zeros(_RNG_PAD, dtype=np.uint64)
    view = buf[_RNG_PAD // 2 : _RNG_PAD // 2 + 4]
    view[:] = state
    return view


class WorkerPool:
    """The private state of W workers and the threads that run them (worker 0 is the caller's thread)."""

    def __init__(
        self, n_workers: int, seed: int, make_scratch: Callable[[], tuple[np.ndarray, ...]], n_slots: int
    ) -> None:
        if n_workers < 1:
            raise ValueError(f"workers must be >= 1, got {n_workers}")
        self.n_workers = n_workers
        self.seed = seed
        self._rngs = [_padded(seed_state(worker_seed(seed, w))) for w in range(n_workers)]
        self._scratch = [make_scratch() for _ in range(n_workers)]
        private = n_workers > 1 and n_slots <= PRIVATE_SUM_SLOTS
        self._sums = [np.zeros(n_slots) for _ in range(n_workers)] if private else None
        self._threads = ThreadPoolExecutor(n_workers - 1, "mccfr-worker") if n_workers > 1 else None
        self._lock = threading.Lock()
        self._next = 0
        self._end = 0
        self._min_block = 1

    # ------------------------------------------------------------------ generator states
    def rng_states(self) -> np.ndarray:
        """uint64 [W, 4]: every worker's generator state (a copy)."""
        return np.stack([r.copy() for r in self._rngs])

    def set_rng_states(self, states: np.ndarray, iteration: int) -> str | None:
        """Restore the states of a checkpoint made with any number of workers.

        Workers the checkpoint has no state for start a fresh stream from (seed, worker, iteration),
        which no earlier segment of the run can have used; states of workers beyond W are dropped.
        Returns a sentence describing the change of W, or None when W is the checkpoint's.
        """
        states = np.asarray(states, dtype=np.uint64).reshape(-1, 4)
        saved = states.shape[0]
        for w in range(self.n_workers):
            fresh = states[w] if w < saved else seed_state(worker_seed(self.seed, w, iteration + 1))
            self._rngs[w][:] = fresh
        if saved == self.n_workers:
            return None
        if saved < self.n_workers:
            return (
                f"checkpoint was made with {saved} worker(s), continuing with {self.n_workers}: "
                f"workers {saved}..{self.n_workers - 1} start fresh streams"
            )
        return (
            f"checkpoint was made with {saved} workers, continuing with {self.n_workers}: "
            f"the streams of workers {self.n_workers}..{saved - 1} are dropped"
        )

    # ------------------------------------------------------------------ running
    def run(self, kernel: Kernel, t0: int, n_iters: int, strategy_sum: np.ndarray) -> int:
        """Iterations t0+1 .. t0+n_iters over all workers; returns the node visits of all of them."""
        if n_iters <= 0:
            return 0
        if self._threads is None:
            return int(kernel(t0, n_iters, self._rngs[0], self._scratch[0], strategy_sum))
        self._next, self._end = t0, t0 + n_iters
        self._min_block = max(1, n_iters // (self.n_workers * MIN_BLOCK_FRACTION))
        sums = self._sums or [strategy_sum] * self.n_workers
        futures: list[Future[int]] = [
            self._threads.submit(self._work, kernel, w, sums[w]) for w in range(1, self.n_workers)
        ]
        visits = self._work(kernel, 0, sums[0])
        # The barrier: every worker has finished its last whole traversal when this returns.
        visits += sum(f.result() for f in futures)
        if self._sums is not None:
            for private in self._sums:
                strategy_sum += private
                private[:] = 0.0
        return visits

    def _take(self) -> tuple[int, int]:
        with self._lock:
            start = self._next
            left = self._end - start
            count = min(left, max(self._min_block, left // (2 * self.n_workers)))
            self._next = start + count
        return start, count

    def _work(self, kernel: Kernel, w: int, strategy_sum: np.ndarray) -> int:
        visits = 0
        rng, scratch = self._rngs[w], self._scratch[w]
        while True:
            start, count = self._take()
            if count <= 0:
                return visits
            visits += int(kernel(start, count, rng, scratch, strategy_sum))

    def close(self) -> None:
        if self._threads is not None:
            self._threads.shutdown(wait=True)
            self._threads = None

"""Card buckets of heads-up hold'em: build once per abstraction, store by its hash, load by mmap.

* Preflop: the 169 lossless classes (pairs, suited, offsuit), or fewer by equal-mass quantiles of
  their equity when the config asks for fewer.
* Flop, turn: weighted k-means on (E[HS], E[HS^2]) of every suit-canonical (board, hole) pair.
* River: equal-mass quantiles of exact hand strength.

A bucket set is stored under ``<root>/<key>/`` (key: hash of what shapes the buckets) in the
checkpoint format (``checkpoints/000000000000/`` with a manifest of sha256 sums), so it is written
atomically and verified before use. Training maps the arrays with ``mmap_mode="r"``: N instances
share one copy in the page cache, and a lookup is two or three array reads, never a simulation.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numba import njit

from holdem.abstraction import clustering, features
from holdem.abstraction.isomorphism import BINOM, CARD_PERMS, build_board_index, colex_rank, hole_combos
from holdem.cards import BOARD_CARDS, NUM_CARDS, NUM_COMBOS, NUM_PREFLOP_CLASSES, Street, combo_index
from holdem.storage import checkpoint as ckpt

BUCKETS_FORMAT = 1
STAGES = ("board index", "river strength", "turn features", "flop features", "preflop", "clustering", "writing")
_CHUNKS = 40  # the feature kernels run in this many slices of boards, so progress has real units


class BucketStoreError(ValueError):
    """The bucket store cannot be written (checked before a minute of work, not after it)."""


@dataclass(frozen=True, slots=True)
class BuildProgress:
    """Where a build is: stage k of STAGES, `done` of `total` units (boards, streets) at `per_s`."""

    stage: int
    name: str
    done: int
    total: int
    unit: str
    per_s: float


@dataclass(frozen=True, slots=True)
class BucketSpec:
    """What shapes a bucket set: its counts per street and the clustering seed."""

    preflop: int
    flop: int
    turn: int
    river: int
    seed: int = 0

    def key(self) -> str:
        data = {
            "format": BUCKETS_FORMAT,
            "features": "ehs-ehs2/hs",
            "preflop": self.preflop,
            "flop": self.flop,
            "turn": self.turn,
            "river": self.river,
            "seed": self.seed,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:20]


class BucketArrays(NamedTuple):
    """The lookup from cards to buckets as the kernels take it (``BucketTables.arrays()``): one argument;
    numba reads a named tuple's fields at no cost. A bucket on street s of hole (a, b) and board B is
    ``table_s[board_id[r], combo_index(card_perms[q, a], card_perms[q, b])]``, with r the colex rank of
    B (by ``binom``) and q = ``board_perm[r]`` its suit renaming."""

    binom: np.ndarray
    card_perms: np.ndarray
    preflop: np.ndarray
    flop: np.ndarray
    turn: np.ndarray
    river: np.ndarray
    board3_id: np.ndarray
    board3_perm: np.ndarray
    board4_id: np.ndarray
    board4_perm: np.ndarray
    board5_id: np.ndarray
    board5_perm: np.ndarray


@dataclass(frozen=True, slots=True)
class BucketTables:
    """The arrays a traversal reads (all mmapped); `digest` names them in every checkpoint."""

    preflop: np.ndarray  # uint16 [1326]
    flop: np.ndarray  # uint16 [1755, 1326]
    turn: np.ndarray  # uint16 [16432, 1326]
    river: np.ndarray  # uint16 [134459, 1326]
    board3_id: np.ndarray  # int32 [22100]: raw flop colex rank -> canonical id
    board3_perm: np.ndarray  # int8 [22100]: -> suit renaming
    board4_id: np.ndarray
    board4_perm: np.ndarray
    board5_id: np.ndarray
    board5_perm: np.ndarray
    digest: str
    path: Path

    def arrays(self) -> BucketArrays:
        return BucketArrays(
            BINOM,
            CARD_PERMS,
            self.preflop,
            self.flop,
            self.turn,
            self.river,
            self.board3_id,
            self.board3_perm,
            self.board4_id,
            self.board4_perm,
            self.board5_id,
            self.board5_perm,
        )


def preflop_class(c1: int, c2: int) -> int:
    """0..12 pairs (deuces first), 13..90 suited, 91..168 offsuit; by (high rank, low rank)."""
    r1, r2 = c1 // 4, c2 // 4
    hi, lo = max(r1, r2), min(r1, r2)
    if hi == lo:
        return hi
    tri = hi * (hi - 1) // 2 + lo
    return 13 + tri if c1 % 4 == c2 % 4 else 91 + tri


@njit(cache=True)
def _preflop_equity(combos, board3_id, board3_perm, card_perms, binom, flop_mean, out):
    """Mean over every raw flop of the flop E[HS]: each combo's all-in equity against a random hand."""
    flop = np.empty(3, dtype=np.int64)
    for h in range(NUM_COMBOS):
        acc = 0.0
        n = 0
        for a in range(NUM_CARDS):
            for b in range(a + 1, NUM_CARDS):
                for c in range(b + 1, NUM_CARDS):
                    if (
                        a == combos[h, 0]
                        or a == combos[h, 1]
                        or b == combos[h, 0]
                        or b == combos[h, 1]
                        or c == combos[h, 0]
                        or c == combos[h, 1]
                    ):
                        continue
                    flop[0] = a
                    flop[1] = b
                    flop[2] = c
                    r = colex_rank(flop, 3, binom)
                    p = board3_perm[r]
                    acc += flop_mean[
                        board3_id[r], combo_index(card_perms[p, combos[h, 0]], card_perms[p, combos[h, 1]])
                    ]
                    n += 1
        out[h] = acc / n


def _check_writable(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=root).close()
    except OSError as exc:
        raise BucketStoreError(f"the bucket store {root} cannot be written: {exc.strerror or exc}") from None


def build_buckets(
    spec: BucketSpec,
    root: Path,
    report: Callable[[int, str], None] = lambda i, s: None,
    progress: Callable[[BuildProgress], None] | None = None,
) -> Path:
    """Build the bucket set of `spec` under root (a no-op if it is there and verifies); returns its folder.

    `report` hears each stage as it starts; `progress` also hears the boards done within a stage."""
    folder = Path(root) / spec.key()
    if _verified(folder) is not None:
        return folder
    _check_writable(Path(root))

    def stage(k: int, done: int = 0, total: int = 1, unit: str = "steps", per_s: float = 0.0) -> None:
        if done == 0:
            report(k, STAGES[k])
        if progress is not None:
            progress(BuildProgress(k, STAGES[k], done, total, unit, per_s))

    def by_boards(k: int, n: int, kernel: Callable[[int, int], None]) -> None:
        """Run kernel(lo, hi) over [0, n) in slices, reporting boards done and boards per second."""
        t0 = time.monotonic()
        stage(k, 0, n, "boards")
        edges = np.linspace(0, n, min(n, _CHUNKS) + 1).astype(np.int64)
        for lo, hi in zip(edges[:-1], edges[1:]):
            kernel(int(lo), int(hi))
            stage(k, int(hi), n, "boards", int(hi) / max(time.monotonic() - t0, 1e-9))

    combos = hole_combos()
    stage(0, 0, 3, "streets")
    idx = {}
    for n, k in enumerate(BOARD_CARDS[Street.FLOP :]):
        idx[k] = build_board_index(k)
        stage(0, n + 1, 3, "streets")
    river_hs = np.empty((idx[5].n_canonical, NUM_COMBOS), dtype=np.float32)
    river_boards = idx[5].boards.astype(np.int64)
    by_boards(
        1, idx[5].n_canonical, lambda lo, hi: features.river_strength(river_boards[lo:hi], combos, river_hs[lo:hi])
    )
    turn_mean = np.empty((idx[4].n_canonical, NUM_COMBOS), dtype=np.float32)
    turn_sq = np.empty_like(turn_mean)
    turn_boards = idx[4].boards.astype(np.int64)
    by_boards(
        2,
        idx[4].n_canonical,
        lambda lo, hi: features.average_next(
            turn_boards[lo:hi],
            combos,
            BINOM,
            CARD_PERMS,
            idx[5].canon_id,
            river_hs,
            river_hs,
            True,
            turn_mean[lo:hi],
            turn_sq[lo:hi],
        ),
    )
    flop_mean = np.empty((idx[3].n_canonical, NUM_COMBOS), dtype=np.float32)
    flop_sq = np.empty_like(flop_mean)
    flop_boards = idx[3].boards.astype(np.int64)
    by_boards(
        3,
        idx[3].n_canonical,
        lambda lo, hi: features.average_next(
            flop_boards[lo:hi],
            combos,
            BINOM,
            CARD_PERMS,
            idx[4].canon_id,
            turn_mean,
            turn_sq,
            False,
            flop_mean[lo:hi],
            flop_sq[lo:hi],
        ),
    )
    stage(4)
    classes = np.array([preflop_class(int(a), int(b)) for a, b in combos], dtype=np.int64)
    if spec.preflop >= NUM_PREFLOP_CLASSES:
        preflop = classes.astype(np.uint16)
    else:
        equity = np.empty(NUM_COMBOS)
        _preflop_equity(combos, idx[3].canon_id, idx[3].perm, CARD_PERMS, BINOM, flop_mean, equity)
        class_equity = np.bincount(classes, weights=equity, minlength=NUM_PREFLOP_CLASSES) / np.bincount(
            classes, minlength=NUM_PREFLOP_CLASSES
        )
        per_class = clustering.quantile_buckets(class_equity[None, :].astype(np.float32), np.ones(1), spec.preflop)[0]
        preflop = per_class[classes].astype(np.uint16)
    stage(4, 1)
    stage(5, 0, 3, "streets")
    flop = clustering.cluster_2d(flop_mean, flop_sq, idx[3].weight, spec.flop, spec.seed)
    stage(5, 1, 3, "streets")
    turn = clustering.cluster_2d(turn_mean, turn_sq, idx[4].weight, spec.turn, spec.seed + 1)
    stage(5, 2, 3, "streets")
    river = clustering.quantile_buckets(river_hs, idx[5].weight, spec.river)
    stage(5, 3, 3, "streets")
    stage(6)
    arrays = {"preflop": preflop, "flop": flop, "turn": turn, "river": river}
    for k in BOARD_CARDS[Street.FLOP :]:
        arrays[f"board{k}_id"] = idx[k].canon_id
        arrays[f"board{k}_perm"] = idx[k].perm
    meta = {
        "kind": "holdem-buckets",
        "buckets_format": BUCKETS_FORMAT,
        "spec": {"preflop": spec.preflop, "flop": spec.flop, "turn": spec.turn, "river": spec.river, "seed": spec.seed},
    }
    ckpt.write_checkpoint(folder, 0, arrays, meta, keep=1)
    stage(6, 1)
    return folder


def _verified(folder: Path) -> ckpt.Checkpoint | None:
    found = ckpt.list_checkpoints(folder)
    if not found:
        return None
    try:
        return ckpt.load_checkpoint(found[0])
    except ckpt.CorruptCheckpoint:
        return None


class MissingBuckets(FileNotFoundError):
    pass


def load_buckets(spec: BucketSpec, root: Path) -> BucketTables:
    """Verify the stored set, then map its arrays read-only; MissingBuckets if it is not built."""
    folder = Path(root) / spec.key()
    found = _verified(folder)
    if found is None:
        raise MissingBuckets(f"no verified bucket set for this abstraction under {folder}")
    arrays = {
        name[:-4]: np.load(found.path / name, mmap_mode="r", allow_pickle=False) for name in found.manifest["files"]
    }
    digest = hashlib.sha256((found.path / ckpt.MANIFEST).read_bytes()).hexdigest()
    return BucketTables(digest=digest, path=found.path, **arrays)

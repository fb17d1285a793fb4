"""The heads-up hold'em game as the solver sees it: the abstract betting tree and the card buckets.

Unlike Kuhn and Leduc there is no deal table: deals are sampled inside the kernel and bucketed by
lookup. ``digest()`` covers both the tree and the exact bucket files, so a checkpoint can refuse to
resume against other buckets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from holdem.abstraction.buckets import BucketSpec, BucketTables, build_buckets, load_buckets
from holdem.games.hunl.betting import HunlAbstraction, abstraction_from_config, build_betting_tree
from holdem.games.tree import BettingTree


@dataclass(frozen=True, slots=True)
class HunlGame:
    abstraction: HunlAbstraction
    tree: BettingTree
    buckets: BucketTables
    name: str = "hunl"

    def digest(self) -> str:
        h = hashlib.sha256(repr(self.abstraction).encode())
        h.update(self.buckets.digest.encode())
        return h.hexdigest()

    def infoset_key(self, node: int, bucket: int) -> str:
        return f"{bucket}:{self.tree.history[node]}"


def bucket_spec(abstraction: HunlAbstraction) -> BucketSpec:
    return BucketSpec(*abstraction.buckets)


def load_hunl(
    section: Mapping[str, Any] | None,
    bucket_root: Path,
    build_if_missing: bool = True,
    report: Callable[[int, str], None] = lambda i, s: None,
) -> HunlGame:
    """The game of a config's `hunl` section; builds its buckets first if they are missing."""
    abstraction = abstraction_from_config(section)
    spec = bucket_spec(abstraction)
    if build_if_missing:
        build_buckets(spec, bucket_root, report)
    return HunlGame(abstraction, build_betting_tree(abstraction), load_buckets(spec, bucket_root))

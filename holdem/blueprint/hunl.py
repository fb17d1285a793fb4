"""Load a hold'em blueprint: the average strategy of a training run, with the game it was trained on.

A source is an instance folder (its newest checkpoint that verifies), one checkpoint folder, or a
merged folder (laid out like an instance). The checkpoint's manifest carries the resolved config; its
`hunl` section rebuilds the abstraction and finds (or builds) the bucket set, and the game hash
recorded at training must match the rebuilt game, so a blueprint is never read against other buckets
or another tree. The average strategy is the strategy sum normalised per infoset (uniform where an
infoset was never reached), as in every CFR variant's convergence theorem. It imports nothing of
``holdem.blueprint.policy`` (which loads blueprints): the shared pieces live in ``holdem.blueprint.sources``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from holdem.abstraction.buckets import MissingBuckets
from holdem.blueprint.sources import PolicyError, find_checkpoint
from holdem.config import AbstractionError
from holdem.games.hunl.game import HunlGame, load_hunl
from holdem.solver.regret import average_strategy
from holdem.storage import checkpoint as ckpt


@dataclass(frozen=True, slots=True)
class Blueprint:
    game: HunlGame
    policy: np.ndarray  # average strategy in the tree's slot layout
    iteration: int
    source: Path
    config: dict[str, Any] | None = None  # the training config (its `search` section tells search's sizes)


def _training_config(found: ckpt.Checkpoint) -> dict[str, Any]:
    """The config a checkpoint was trained with; a merged folder borrows the config of its first source."""
    meta = found.meta
    if meta.get("game") != "hunl":
        raise PolicyError(f"{found.path} is a {meta.get('game')!r} policy, not a hold'em one")
    config = meta.get("config")
    if not isinstance(config, dict) and meta.get("merged_from"):
        first = Path(str(meta["merged_from"][0].get("source", "")))
        try:
            config = ckpt.load_checkpoint(first).meta.get("config")
        except (ckpt.CorruptCheckpoint, OSError):
            config = None
    if not isinstance(config, dict):
        raise PolicyError(f"{found.path}: the manifest has no config to rebuild the abstraction from")
    return config


def load_blueprint(path: Path, bucket_root: Path) -> Blueprint:
    """Read a blueprint; raises PolicyError with a message naming the source when it cannot."""
    found = find_checkpoint(path)
    config = _training_config(found)
    section = dict(config["hunl"]) if isinstance(config.get("hunl"), dict) else {}
    try:
        try:  # verifying a bucket set reads every byte: do it once, not once to find and once to load
            game = load_hunl(section, bucket_root, build_if_missing=False)
        except MissingBuckets:
            game = load_hunl(section, bucket_root, build_if_missing=True)
    except AbstractionError as exc:
        raise PolicyError(f"{found.path}: {exc}") from None
    if found.meta.get("game_hash") not in (None, game.digest()):
        raise PolicyError(f"{found.path} was trained on other buckets or another tree (game hash differs)")
    sums = found.load_arrays(["strategy_sum"])["strategy_sum"]
    if sums.shape != (game.tree.n_slots,):
        raise PolicyError(f"{found.path}: strategy_sum has shape {sums.shape}, the tree needs ({game.tree.n_slots},)")
    return Blueprint(game, average_strategy(game.tree, sums), found.iteration, found.path, config)

"""Average strategies: load from any source, export with readable keys, merge instances.

A *source* is an instance folder (its newest verified checkpoint), a checkpoint folder, a merged folder
(laid out like an instance: ``checkpoints/<iter>/`` plus ``policy.json``), or an exported ``policy.json``.

Merging adds the instances' strategy sums after scaling each by its own total iteration weight (the
sum at the root infoset, which every iteration adds exactly its weight to, whatever the algorithm).
Each instance then counts equally, and since the sums are reach-weighted this averages the instances'
realization plans: exploitability is convex in those, so the merge is no more exploitable than the
instances on average (exactly for full traversal, in expectation for sampled runs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from holdem.blueprint.sources import PolicyError
from holdem.games import is_hunl, load_game
from holdem.games.tree import Game
from holdem.solver.regret import average_strategy
from holdem.storage import checkpoint as ckpt
from holdem.storage.atomic import write_json_atomic

if TYPE_CHECKING:
    from holdem.games.hunl.game import HunlGame

__all__ = ["LoadedPolicy", "PolicyError", "export_policy", "load_policy", "merge_policies", "write_merged"]

POLICY_FORMAT = "holdem-policy"
POLICY_VERSION = 1


@dataclass(frozen=True, slots=True)
class LoadedPolicy:
    game: Game | HunlGame
    iteration: int
    policy: np.ndarray  # behaviour strategy in the game's slot layout
    strategy_sum: np.ndarray | None  # None for an exported policy.json
    source: Path
    config: dict[str, Any] | None = None  # the training config, when the source records it


def action_letters(game: Game, node: int) -> list[str]:
    """The history letter of each action at a decision node (e.g. f, c, r; or p, b in Kuhn)."""
    t = game.tree
    own = len(t.history[node])
    kids = t.children[t.child_start[node] : t.child_start[node] + t.num_children[node]]
    return [t.history[int(c)][own] for c in kids]


def load_policy(path: Path, buckets_root: Path | None = None) -> LoadedPolicy:
    """Any source's average strategy; hold'em sources also need the bucket store they were trained on."""
    path = Path(path)
    if not path.exists():
        raise PolicyError(f"{path} does not exist")
    if path.is_file():
        return _load_export(path)
    if (path / ckpt.MANIFEST).is_file():
        found = _verified(path)
    elif (path / "checkpoints").is_dir():
        newest = ckpt.latest_valid_checkpoint(path)
        if newest is None:
            raise PolicyError(f"{path} has no checkpoint that verifies")
        found = newest
    else:
        raise PolicyError(f"{path} is neither a policy file, a checkpoint nor an instance folder")
    config = found.meta.get("config") if isinstance(found.meta.get("config"), dict) else None
    if found.meta.get("game") == "hunl":
        if buckets_root is None:
            raise PolicyError(f"{found.path} is a hold'em policy: give the bucket store (--buckets-root)")
        from holdem.blueprint.hunl import load_blueprint

        bp = load_blueprint(found.path, buckets_root)
        sums = found.load_arrays(["strategy_sum"])["strategy_sum"]
        return LoadedPolicy(bp.game, found.iteration, bp.policy, sums, found.path, config)
    game = _game_of(found.meta, found.path)
    sums = found.load_arrays(["strategy_sum"])["strategy_sum"]
    if sums.shape != (game.tree.n_slots,):
        raise PolicyError(f"{found.path}: strategy_sum has shape {sums.shape}, the game needs ({game.tree.n_slots},)")
    return LoadedPolicy(game, found.iteration, average_strategy(game.tree, sums), sums, found.path, config)


def _verified(path: Path) -> ckpt.Checkpoint:
    try:
        return ckpt.load_checkpoint(path)
    except ckpt.CorruptCheckpoint as exc:
        raise PolicyError(str(exc)) from None


def _game_of(meta: dict[str, Any], where: Path) -> Game:
    name = meta.get("game")
    try:
        game = load_game(str(name))
    except ValueError as exc:
        raise PolicyError(f"{where}: {exc}") from None
    if meta.get("game_hash") != game.digest():
        raise PolicyError(f"{where} was made for another version of the {name} game (hash differs)")
    return game


def export_policy(loaded: LoadedPolicy) -> dict[str, Any]:
    """The average strategy as JSON-able data keyed by readable infoset keys (docs/formats.md); for hold'em,
    whose full tables stay arrays, the preflop strategy by hand class (preflop_export.py)."""
    g = loaded.game
    if is_hunl(g):
        from holdem.blueprint.hunl import Blueprint
        from holdem.blueprint.preflop_export import preflop_export

        return preflop_export(Blueprint(g, loaded.policy, loaded.iteration, loaded.source))
    infosets: dict[str, dict[str, float]] = {}
    for node, bucket in g.infosets():
        na = int(g.tree.num_children[node])
        o = g.tree.offset(node, bucket)
        probs = loaded.policy[o : o + na]
        infosets[g.infoset_key(node, bucket)] = {a: float(p) for a, p in zip(action_letters(g, node), probs)}
    return {
        "format": POLICY_FORMAT,
        "version": POLICY_VERSION,
        "game": g.name,
        "game_hash": g.digest(),
        "iteration": loaded.iteration,
        "infosets": infosets,
    }


def _load_export(path: Path) -> LoadedPolicy:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PolicyError(f"{path} is not a readable JSON policy: {exc}") from None
    if isinstance(data, dict) and data.get("format") == "holdem-preflop":
        raise PolicyError(f"{path} is a hold'em preflop export, for reading: give the blueprint's folder instead")
    if not isinstance(data, dict) or data.get("format") != POLICY_FORMAT:
        raise PolicyError(f"{path} is not a {POLICY_FORMAT} file")
    if data.get("version") != POLICY_VERSION:
        raise PolicyError(f"{path} has policy version {data.get('version')!r}; this build reads {POLICY_VERSION}")
    game = _game_of(data, path)
    table = data.get("infosets")
    if not isinstance(table, dict):
        raise PolicyError(f"{path}: 'infosets' must be a mapping")
    policy = np.empty(game.tree.n_slots)
    for node, bucket in game.infosets():
        key = game.infoset_key(node, bucket)
        letters = action_letters(game, node)
        entry = table.get(key)
        if not isinstance(entry, dict) or sorted(entry) != sorted(letters):
            raise PolicyError(f"{path}: infoset {key!r} is missing or has actions other than {letters}")
        probs = np.array([float(entry[a]) for a in letters])
        if np.any(probs < 0) or abs(probs.sum() - 1.0) > 1e-6:
            raise PolicyError(f"{path}: infoset {key!r} probabilities must be >= 0 and sum to 1")
        o = game.tree.offset(node, bucket)
        policy[o : o + len(letters)] = probs / probs.sum()
    return LoadedPolicy(game, int(data.get("iteration", 0)), policy, None, path)


def root_weight(game: Game | HunlGame, strategy_sum: np.ndarray) -> float:
    """Total iteration weight in a strategy sum: what the root infosets have accumulated."""
    t = game.tree
    return float(strategy_sum[t.node_slots(0)].sum())


def merge_policies(sources: list[Path], buckets_root: Path | None = None) -> tuple[LoadedPolicy, list[dict[str, Any]]]:
    """Merge instances (each counted equally); returns the merged policy and what went into it."""
    if not sources:
        raise PolicyError("nothing to merge")
    loaded = [load_policy(p, buckets_root) for p in sources]
    game = loaded[0].game
    total = np.zeros(game.tree.n_slots)
    used: list[dict[str, Any]] = []
    for item in loaded:
        if item.strategy_sum is None:
            raise PolicyError(f"{item.source}: an exported policy has no strategy sums to merge")
        if item.game.digest() != game.digest():
            raise PolicyError(f"{item.source} is a {item.game.name} policy; {sources[0]} is {game.name}")
        weight = root_weight(game, item.strategy_sum)
        if weight <= 0:
            raise PolicyError(f"{item.source} has not run a single iteration")
        total += item.strategy_sum / weight
        used.append({"source": str(item.source), "iteration": item.iteration, "weight": weight})
    iteration = sum(item.iteration for item in loaded)
    merged = LoadedPolicy(game, iteration, average_strategy(game.tree, total), total, Path(), loaded[0].config)
    return merged, used


def write_merged(out: Path, merged: LoadedPolicy, used: list[dict[str, Any]]) -> ckpt.WrittenCheckpoint:
    """A merged folder reads like an instance folder (so eval/export/match take it), plus a readable
    policy.json (for hold'em, whose millions of infosets stay arrays: the preflop strategy by hand class)."""
    meta: dict[str, Any] = {"game": merged.game.name, "game_hash": merged.game.digest(), "merged_from": used}
    if merged.config is not None:
        meta["config"] = merged.config
    assert merged.strategy_sum is not None
    written = ckpt.write_checkpoint(out, merged.iteration, {"strategy_sum": merged.strategy_sum}, meta, keep=1)
    write_json_atomic(out / "policy.json", export_policy(merged))
    return written

"""The readable export of a hold'em blueprint: its preflop strategy by hand class, as JSON.

A hold'em blueprint has millions of infosets, so its full tables stay arrays (checkpoint folders).
What a person can read is the preflop: at every preflop decision of the blueprint's own tree, the
probability of each action for each of the 169 hand classes (AA, AKs, AKo, ... 22), each the mean
over the class's combos, as the strategy explorer's grid shows it (with 169 preflop buckets every
combo of a class shares one bucket, so the mean is exact). Written by `holdem export` and by
`holdem merge` (as `policy.json` in a merged folder).

    {"format": "holdem-preflop", "version": 1, "game": "hunl", "game_hash", "iteration",
     "rules": {"small_blind", "big_blind", "stack"}, "classes": ["AA", "AKs", ...],
     "spots": [{"history": "", "position": "button", "pot", "to_call",
                "actions": [{"action": "f", "label": "fold"}, {"action": "c", "label": "call 50"}, ...],
                "frequency": {"f": ..., ...},          # over all combos, each counted once
                "strategy": {"AA": {"f": 0.0, "c": 0.02, "r300": 0.98}, ...}}, ...]}

A spot's `history` is in the tree's letters (`f`, `c`, `r<to>`), as `holdem strategy --history` takes it.
"""

from __future__ import annotations

from typing import Any

from holdem.blueprint.explorer import class_name, find_spot, grid_json
from holdem.blueprint.hunl import Blueprint
from holdem.games.tree import DECISION

PREFLOP_FORMAT = "holdem-preflop"
PREFLOP_VERSION = 1


def preflop_nodes(tree: Any) -> list[int]:
    """Every preflop decision node of the tree, in preorder (the root first)."""
    return [n for n in range(tree.n_nodes) if tree.kind[n] == DECISION and tree.street[n] == 0]


def preflop_export(blueprint: Blueprint) -> dict[str, Any]:
    """The JSON-able preflop strategy of a hold'em blueprint (see the module docstring)."""
    game = blueprint.game
    tree = game.tree
    spots = []
    for node in preflop_nodes(tree):
        spot = find_spot(blueprint, tree.history[node], "")
        grid = grid_json(blueprint, spot, str(blueprint.source))
        letters = [a["action"] for a in spot.actions]
        strategy = {cell["hand"]: dict(zip(letters, cell["probabilities"])) for row in grid["grid"] for cell in row}
        spots.append(
            {
                "history": spot.history,
                "position": grid["position"],
                "pot": grid["pot"],
                "to_call": grid["to_call"],
                "actions": [{"action": a["action"], "label": a["label"]} for a in spot.actions],
                "frequency": {a["action"]: a["frequency"] for a in grid["actions"]},
                "strategy": strategy,
            }
        )
    rules = game.abstraction.rules
    return {
        "format": PREFLOP_FORMAT,
        "version": PREFLOP_VERSION,
        "game": "hunl",
        "game_hash": game.digest(),
        "iteration": blueprint.iteration,
        "rules": {"small_blind": rules.small_blind, "big_blind": rules.big_blind, "stack": rules.stack},
        "classes": [class_name(r, c) for r in range(13) for c in range(13)],
        "spots": spots,
    }

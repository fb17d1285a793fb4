"""Sanity probes: spots where a sound hold'em blueprint has one obviously right answer, checked everywhere
on its tree.

* ``aa-never-folds-preflop``: holding two aces, fold at no preflop decision that faces a bet.
* ``nuts-never-fold-river``: holding the nuts on the river (the best hand any combo can make on the board,
  for a fixed sample of boards where the nuts is at most 5% of the combos: where most hands chop,
  the "nuts" shares its bucket with hands that lose), fold at no river decision that faces a bet.
* ``no-fold-when-checking-is-free``: no decision with nothing to call gives folding any probability. The
  betting rules leave fold out of such menus (``hunl.rules``), so this guards the tree's construction.

A probe fails at a spot where the fold probability exceeds ``THRESHOLD`` (an average strategy keeps a
trace of its early iterations, so exactly zero is not asked for). Each result names its worst spot with
its share of the training weight, and the failing spots' share of the weight of all spots checked: a
failure confined to corners training hardly reached reads as a near-zero share. Pure functions of the
blueprint's arrays; the hands are looked up as in training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from holdem.blueprint.explorer import Spot, combo_buckets
from holdem.blueprint.hunl import Blueprint
from holdem.cards import COMBO_CARDS, format_cards
from holdem.evaluator import evaluate_batch
from holdem.games.tree import ActionKind
from holdem.play.match import deal_cards

THRESHOLD = 0.01
RIVER_BOARDS = 40  # boards sampled (seeded) for the nuts probe
NUT_SHARE = 0.05  # ... among boards whose nut hand is at most this share of the live combos


@dataclass(frozen=True, slots=True)
class ProbeResult:
    name: str
    description: str
    passed: bool
    spots: int  # (decision node, bucket) pairs checked
    failing: int
    worst: dict[str, Any] | None  # the spot with the highest fold probability
    failing_weight: float | None  # the failing spots' share of the training weight of all the spots checked
    heaviest_failing: dict[str, Any] | None = None  # the failing spot training reached most

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "passed": self.passed,
            "spots": self.spots,
            "failing": self.failing,
            "threshold": THRESHOLD,
            "failing_weight": self.failing_weight,
            "worst": self.worst,
            "heaviest_failing": self.heaviest_failing,
        }


def _fold_nodes(tree, street: int | None) -> list[int]:
    """Decision nodes (of one street, or all) whose first action is a fold, i.e. that face a bet."""
    out = []
    for n in tree.decision_nodes().tolist():
        if street is not None and tree.street[n] != street:
            continue
        if tree.action[tree.children[tree.child_start[n]]] == ActionKind.FOLD:
            out.append(n)
    return out


def _check(
    name: str, description: str, bp: Blueprint, sums: np.ndarray | None, spots: list[tuple[int, int, str, str]]
) -> ProbeResult:
    """spots: (node, bucket, hand text, board text); the probability checked is the fold child's.

    With the strategy sums, a spot's training weight is its infoset's share of everything training
    averaged (the root's total): about how often training reached it. A spot never reached keeps the
    uniform strategy; a failure there says the blueprint is untrained, not that it learned a mistake."""
    tree = bp.game.tree
    root = float(sums[tree.node_slots(0)].sum()) if sums is not None else 0.0
    worst, heaviest, failing, w_all, w_fail = None, None, 0, 0.0, 0.0
    for node, bucket, hand, board in spots:
        o = tree.offset(node, bucket)
        p = float(bp.policy[o + ActionKind.FOLD])
        weight: float | None = None
        if sums is not None and root > 0:
            weight = float(sums[o : o + int(tree.num_children[node])].sum()) / root
        spot: dict[str, Any] = {
            "history": tree.history[node],
            "hand": hand,
            "board": board,
            "bucket": bucket,
            "fold_probability": round(p, 6),
            "training_weight": weight,
        }
        w_all += weight or 0.0
        if p > THRESHOLD:
            failing += 1
            w_fail += weight or 0.0
            if weight is not None and (heaviest is None or weight > heaviest["training_weight"]):
                heaviest = spot
        if worst is None or p > worst["fold_probability"]:
            worst = spot
    share = (w_fail / w_all if w_all > 0 else 0.0) if root > 0 else None
    return ProbeResult(name, description, failing == 0, len(spots), failing, worst, share, heaviest)


def aces_never_fold(bp: Blueprint, sums: np.ndarray | None = None) -> ProbeResult:
    tree = bp.game.tree
    aces = [i for i, (a, b) in enumerate(COMBO_CARDS.tolist()) if a >> 2 == 12 and b >> 2 == 12]
    buckets = sorted({int(bp.game.buckets.preflop[i]) for i in aces})
    spots = [(n, b, "AA", "") for n in _fold_nodes(tree, 0) for b in buckets]
    return _check("aa-never-folds-preflop", "two aces never fold before the flop", bp, sums, spots)


def nuts_never_fold(bp: Blueprint, sums: np.ndarray | None = None, seed: int = 0) -> ProbeResult:
    tree = bp.game.tree
    nodes = _fold_nodes(tree, 3)
    spots: list[tuple[int, int, str, str]] = []
    boards = 0
    for row in deal_cards(20 * RIVER_BOARDS, seed)[:, 4:9]:
        if boards == RIVER_BOARDS:
            break
        board = tuple(int(c) for c in row)
        live = [i for i, (a, b) in enumerate(COMBO_CARDS.tolist()) if a not in board and b not in board]
        hands = np.array([[*COMBO_CARDS[i], *board] for i in live], dtype=np.uint8)
        ranks = evaluate_batch(hands)
        nuts = [live[i] for i in np.flatnonzero(ranks == ranks.max())]
        if len(nuts) > NUT_SHARE * len(live):
            continue  # a board most hands chop on: its "nuts" shares a bucket with hands that lose
        boards += 1
        buckets = combo_buckets(bp, Spot(0, "", 3, 0, board, ()))
        hand = format_cards(COMBO_CARDS[nuts[0]], sep="")
        for b in sorted({int(buckets[i]) for i in nuts}):
            spots += [(n, b, hand, format_cards(board)) for n in nodes]
    return _check(
        "nuts-never-fold-river", f"the nuts never fold on the river ({boards} seeded boards)", bp, sums, spots
    )


def never_fold_for_free(bp: Blueprint, sums: np.ndarray | None = None) -> ProbeResult:
    tree = bp.game.tree
    spots = []
    for n in tree.decision_nodes().tolist():
        me = int(tree.player[n])
        if tree.contrib[n, me] < tree.contrib[n, 1 - me]:
            continue  # facing a bet: folding is a real choice
        if tree.action[tree.children[tree.child_start[n]]] == ActionKind.FOLD:
            spots += [(n, b, "any", "") for b in range(int(tree.num_buckets[tree.street[n]]))]
    free = int(
        sum(
            int(tree.num_buckets[tree.street[n]])
            for n in tree.decision_nodes().tolist()
            if tree.contrib[n, int(tree.player[n])] >= tree.contrib[n, 1 - int(tree.player[n])]
        )
    )
    result = _check("no-fold-when-checking-is-free", "no fold is ever played when checking is free", bp, sums, spots)
    if not spots:  # the tree offers no fold at any of its `free` decisions: nothing can be folded there
        return ProbeResult(result.name, result.description, True, free, 0, None, 0.0)
    return result


def run_probes(bp: Blueprint, sums: np.ndarray | None = None) -> list[ProbeResult]:
    return [aces_never_fold(bp, sums), nuts_never_fold(bp, sums), never_fold_for_free(bp, sums)]

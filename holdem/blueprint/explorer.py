"""The strategy explorer: what a hold'em blueprint plays at one spot, for one hand or for every hand class.

A spot is a betting history on the blueprint's own tree, written in the tree's letters (``f`` fold, ``c``
check or call, ``r<to>`` raise to a street total, ``/`` where a street ends, optional; spaces and commas
are ignored): ``r300c/`` is the button raising to 300, the big blind calling, and the flop to act. The
board must hold the cards that street has dealt. A hand's distribution is the blueprint's average
strategy in the bucket the hand falls in (the same lookup as training); a hand class (AKs) shows each
of its combos and, as its distribution, their mean, as a grid cell does. The 13x13 grid shows each hand
class (pairs on the diagonal, suited above it, offsuit below) as the mean over its combos that the board
leaves possible, each counted once: a picture of the strategy, not weighted by how often a hand gets here.

``spot_json`` and ``grid_json`` are the stable shapes of ``holdem strategy --json`` (docs/formats.md
documents them; the daemon's ``strategy`` method passes them on).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from holdem.abstraction import hand_kernels as K
from holdem.blueprint.hunl import Blueprint
from holdem.cards import (
    BOARD_CARDS,
    COMBO_CARDS,
    COMBO_INDEX,
    NUM_CARDS,
    NUM_COMBOS,
    RANK_CHARS,
    format_cards,
    parse_cards,
)
from holdem.games.hunl.rules import STREETS
from holdem.games.tree import DECISION, FOLD

STRATEGY_FORMAT = "holdem-strategy"
STRATEGY_VERSION = 1
_TOKEN = re.compile(r"\s*(f|c|r\d+|/)\s*,?", re.IGNORECASE)
_HANDS = np.ascontiguousarray(COMBO_CARDS, dtype=np.int64)
_CLASS = re.compile(r"([2-9TJQKA])([2-9TJQKA])([so]?)", re.IGNORECASE)
HAND_FORMS = "give two cards like AsKd, a hand class like AKs, AKo, QQ or AK, or --range for every class"


class SpotError(ValueError):
    """A spot that cannot be shown; the message names the bad card, action or count."""


@dataclass(frozen=True, slots=True)
class Spot:
    node: int
    history: str  # the tree's own text of the history
    street: int
    player: int  # 0 = button
    board: tuple[int, ...]
    actions: tuple[dict[str, Any], ...]  # per child: action letter, label, raise-to amount


def _menu(tree, node: int) -> list[str]:
    own = len(tree.history[node])
    kids = tree.children[tree.child_start[node] : tree.child_start[node] + tree.num_children[node]]
    return [tree.history[int(c)][own:].rstrip("/") for c in kids]


def _label(tree, node: int, letter: str, stack: int) -> tuple[str, int | None]:
    """A person's name for an action (fold, check, call 200, bet 450 (0.75 pot), raise to 10000 (all-in))
    and its raise-to amount."""
    me, opp = int(tree.player[node]), 1 - int(tree.player[node])
    owe = float(tree.contrib[node, opp] - tree.contrib[node, me])
    if letter == "f":
        return "fold", None
    if letter == "c":
        return (f"call {owe:g}" if owe > 0 else "check"), None
    to = int(letter[1:])
    kid = int(tree.children[tree.child_start[node] + _menu(tree, node).index(letter)])
    frac = (float(tree.contrib[kid, me]) - float(tree.contrib[node, opp])) / (2.0 * float(tree.contrib[node, opp]))
    verb = "raise to" if owe > 0 or tree.street[node] == 0 else "bet"
    return f"{verb} {to}" + (" (all-in)" if tree.contrib[kid, me] >= stack else f" ({frac:.2g} pot)"), to


def find_spot(blueprint: Blueprint, history: str, board: str) -> Spot:
    """Walk the tree along `history`; check the board fits the street reached (SpotError names what not)."""
    tree = blueprint.game.tree
    text = history.strip()
    pos, node, done = 0, 0, ""
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise SpotError(
                f"history {history!r}: cannot read {text[pos:]!r} (actions are f, c, r<to>, streets end with /)"
            )
        pos = m.end()
        token = m.group(1).lower()
        if token == "/":
            if not tree.history[node].endswith("/"):
                raise SpotError(
                    f"history {history!r}: '/' after {done!r}, but the {STREETS[tree.street[node]]} is not over there"
                )
            continue
        if tree.kind[node] != DECISION:
            raise SpotError(f"history {history!r}: the hand is over after {done!r}, {token!r} cannot follow")
        menu = _menu(tree, node)
        if token not in menu:
            raise SpotError(
                f"history {history!r}: {token!r} after {done!r} is not on the blueprint's tree; "
                f"the {STREETS[tree.street[node]]} offers {', '.join(menu)}"
            )
        node = int(tree.children[tree.child_start[node] + menu.index(token)])
        done = tree.history[node]
    if tree.kind[node] != DECISION:
        how = "a fold" if tree.kind[node] == FOLD else "a showdown"
        raise SpotError(f"history {history!r} ends the hand ({how}): there is no decision to show")
    street = int(tree.street[node])
    try:
        cards = tuple(parse_cards(board)) if board.strip() else ()
    except ValueError as exc:
        raise SpotError(f"--board: {exc}") from None
    if len(cards) != BOARD_CARDS[street]:
        raise SpotError(
            f"history {history!r} reaches the {STREETS[street]}: --board needs "
            f"{BOARD_CARDS[street]} cards, got {len(cards)}"
        )
    stack = blueprint.game.abstraction.rules.stack
    labels = [(a, *_label(tree, node, a, stack)) for a in _menu(tree, node)]
    actions = tuple({"action": a, "label": label, "to": to} for a, label, to in labels)
    return Spot(node, tree.history[node], street, int(tree.player[node]), cards, actions)


def combo_buckets(blueprint: Blueprint, spot: Spot) -> np.ndarray:
    """The bucket of every hole combo (int64 [1326]) on the spot's street and board; 0 where the board
    holds one of its cards."""
    b = blueprint.game.buckets
    board = np.zeros(5, dtype=np.int64)
    dead = np.zeros(NUM_CARDS, dtype=np.bool_)
    for i, c in enumerate(spot.board):
        board[i] = c
        dead[c] = True
    out = np.empty(NUM_COMBOS, dtype=np.int64)
    K.street_buckets(
        K.GAME_HUNL, spot.street, board, len(spot.board), _HANDS, dead, b.arrays(), np.empty(5, dtype=np.int64), out
    )
    return out


def combo_strategy(blueprint: Blueprint, spot: Spot, buckets: np.ndarray) -> np.ndarray:
    """float [1326, actions]: the average strategy of every combo at the spot."""
    t = blueprint.game.tree
    na = int(t.num_children[spot.node])
    first = int(t.slot[spot.node]) + buckets * int(t.bucket_stride[spot.node])
    return blueprint.policy[first[:, None] + np.arange(na)[None, :]]


def _header(blueprint: Blueprint, spot: Spot, source: str) -> dict[str, Any]:
    t = blueprint.game.tree
    me, opp = spot.player, 1 - spot.player
    return {
        "format": STRATEGY_FORMAT,
        "version": STRATEGY_VERSION,
        "policy": source,
        "iteration": blueprint.iteration,
        "history": spot.history,
        "street": STREETS[spot.street],
        "player": me,
        "position": "button" if me == 0 else "big blind",
        "board": format_cards(spot.board),
        "pot": int(t.contrib[spot.node].sum()),
        "to_call": int(t.contrib[spot.node, opp] - t.contrib[spot.node, me]),
        "buckets": int(t.num_buckets[spot.street]),
    }


def spot_json(blueprint: Blueprint, spot: Spot, hand: str, source: str) -> dict[str, Any]:
    """One hand at the spot: its bucket and the probability of each action; for a hand class
    (``class_cells``), every combo of it the board leaves possible and their mean."""
    cells = class_cells(hand)
    if cells is not None:
        return _class_json(blueprint, spot, hand, cells, source)
    try:
        cards = parse_cards(hand)
    except ValueError as exc:
        raise SpotError(f"--hand: {exc}; {HAND_FORMS}") from None
    if len(cards) != 2:
        raise SpotError(f"--hand needs two hole cards; got {len(cards)} in {hand!r}; {HAND_FORMS}")
    on_board = [c for c in cards if c in spot.board]
    if on_board:
        raise SpotError(f"card {format_cards(on_board)} is both in --hand and on --board")
    combo = int(COMBO_INDEX[cards[0], cards[1]])
    buckets = combo_buckets(blueprint, spot)
    probs = combo_strategy(blueprint, spot, buckets)[combo]
    out = _header(blueprint, spot, source)
    out.update(
        kind="hand",
        hand=format_cards(cards, sep=""),
        bucket=int(buckets[combo]),
        actions=[{**a, "probability": round(float(p), 6)} for a, p in zip(spot.actions, probs)],
    )
    return out


def class_cells(text: str) -> list[tuple[int, int]] | None:
    """The grid cells of a hand class as GTO tools write it: AKs (suited), AKo (offsuit), QQ (a pair),
    AK (both suitings); None if the text is no hand class."""
    m = _CLASS.fullmatch(text.strip())
    if m is None:
        return None
    hi, lo = (12 - RANK_CHARS.index(c.upper()) for c in m.group(1, 2))
    top, low, suiting = min(hi, lo), max(hi, lo), m.group(3).lower()
    if top == low:
        return None if suiting else [(top, top)]
    suited, offsuit = (top, low), (low, top)
    return {"s": [suited], "o": [offsuit], "": [suited, offsuit]}[suiting]


def _class_json(
    blueprint: Blueprint, spot: Spot, text: str, cells: list[tuple[int, int]], source: str
) -> dict[str, Any]:
    """Every combo of the class at the spot with its bucket and strategy; the actions' probabilities are
    their mean, each possible combo counted once (as a --range cell)."""
    buckets = combo_buckets(blueprint, spot)
    probs = combo_strategy(blueprint, spot, buckets)
    combos = [
        combo
        for combo, (c1, c2) in enumerate(COMBO_CARDS.tolist())
        if _class_cell(c1, c2) in cells and c1 not in spot.board and c2 not in spot.board
    ]
    name = text.strip()[:2].upper() + text.strip()[2:].lower()
    if not combos:
        raise SpotError(f"--hand {name}: every combo of it holds a card of the board {format_cards(spot.board)}")
    mean = probs[combos].mean(axis=0)
    out = _header(blueprint, spot, source)
    out.update(
        kind="class",
        hand=name,
        combos=[
            {
                "hand": format_cards(COMBO_CARDS[combo].tolist()[::-1], sep=""),
                "bucket": int(buckets[combo]),
                "probabilities": [round(float(p), 6) for p in probs[combo]],
            }
            for combo in combos
        ],
        actions=[{**a, "probability": round(float(p), 6)} for a, p in zip(spot.actions, mean)],
    )
    return out


def class_name(row: int, col: int) -> str:
    """The grid's hand class at (row, col), ranks from the ace down: AA on the diagonal, AKs above, AKo below."""
    hi, lo = RANK_CHARS[12 - min(row, col)], RANK_CHARS[12 - max(row, col)]
    return hi + lo if row == col else hi + lo + ("s" if row < col else "o")


def _class_cell(c1: int, c2: int) -> tuple[int, int]:
    r1, r2 = 12 - (c1 >> 2), 12 - (c2 >> 2)
    top, low = min(r1, r2), max(r1, r2)
    if top == low:
        return top, top
    return (top, low) if c1 % 4 == c2 % 4 else (low, top)


def grid_json(blueprint: Blueprint, spot: Spot, source: str) -> dict[str, Any]:
    """Every hand class at the spot: 13 rows of 13 cells, each the mean strategy of its possible combos."""
    probs = combo_strategy(blueprint, spot, combo_buckets(blueprint, spot))
    na = probs.shape[1]
    sums = np.zeros((13, 13, na))
    counts = np.zeros((13, 13), dtype=np.int64)
    for combo, (c1, c2) in enumerate(COMBO_CARDS.tolist()):
        if c1 in spot.board or c2 in spot.board:
            continue
        r, c = _class_cell(c1, c2)
        sums[r, c] += probs[combo]
        counts[r, c] += 1
    grid = [
        [
            {
                "hand": class_name(r, c),
                "combos": int(counts[r, c]),
                "probabilities": [round(float(x), 6) for x in (sums[r, c] / max(counts[r, c], 1))],
            }
            for c in range(13)
        ]
        for r in range(13)
    ]
    weights = counts.sum()
    overall = (sums.sum(axis=(0, 1)) / max(weights, 1)).tolist()
    out = _header(blueprint, spot, source)
    out.update(
        kind="range", actions=[{**a, "frequency": round(float(f), 6)} for a, f in zip(spot.actions, overall)], grid=grid
    )
    return out

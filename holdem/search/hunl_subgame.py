"""The hold'em subgame of one street, built from the real public state with the real bet sizes.

It starts from the real state at the start of the street (or at the current decision, when a re-solve
is needed) and expands, with ``rules.State``, every sequence of: fold, check/call, and raises of the
search's pot fractions (``search.bet_sizes``, by default the blueprint's) plus the fractions of the
raises already seen in the hand, plus all-in, with the blueprint's cap on raises per street. Along the
real history the real action is always in the menu, at its real size, even off every tree and over
the cap: the opponent's size is an action of its own, never translated inside the searched street.

The street ends in a showdown on the river (exact, by the hands' seven-card ranks) and in a depth-limit
leaf before it, where the non-searcher picks one of K continuation strategies (``hunl_leaves``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit

from holdem.blueprint.translation import pot_fraction, raise_to_for_fraction
from holdem.cards import COMBO_CARDS, NUM_CARDS
from holdem.evaluator import evaluate7
from holdem.games.hunl.rules import Action, Kind, State
from holdem.games.tree import DECISION, FOLD, LEAF, SHOWDOWN
from holdem.search.bpmap import LOST, BlueprintMap
from holdem.search.subgame import K_CONTINUATIONS, Hands, LeafTables, Subgame, SubgameBuilder


@njit(cache=True)
def _river_strength(cards, board, out):
    for h in range(cards.shape[0]):
        out[h] = evaluate7(cards[h, 0], cards[h, 1], board[0], board[1], board[2], board[3], board[4])


def hunl_hands(board: list[int], leaf_bucket_of_combo: np.ndarray) -> tuple[Hands, np.ndarray]:
    """Every hole combo that misses the board, with its river strength and its leaf bucket; and the
    combo index (0..1325) of each hand."""
    dead = np.zeros(NUM_CARDS, dtype=bool)
    dead[board] = True
    combos = np.flatnonzero(~(dead[COMBO_CARDS[:, 0]] | dead[COMBO_CARDS[:, 1]])).astype(np.int64)
    cards = COMBO_CARDS[combos].astype(np.int64)
    strength = np.zeros(len(combos), dtype=np.int64)
    if len(board) == 5:
        _river_strength(cards, np.asarray(board, dtype=np.int64), strength)
    labels = tuple(f"{a}-{b}" for a, b in cards.tolist())
    return Hands(cards, strength, leaf_bucket_of_combo[combos].astype(np.int64), labels), combos


@dataclass(frozen=True, slots=True)
class Leaf:
    bp_node: int  # blueprint node where the continuation starts; LOST: check down (also after an all-in)
    contrib: float  # real chips each player has in at the leaf
    bp_contrib: float  # the same at bp_node


@dataclass(slots=True)
class HunlSubgame:
    sub: Subgame
    states: list[State]  # real state at every node (a leaf's: where the street ended)
    actions: list[tuple[Action, ...]]  # the real action of each child, per node
    bp_node: np.ndarray  # int64 [n]: blueprint node of every node, LOST where the tree and the hand part
    path: list[int]  # nodes along the real history, root first
    leaves: list[Leaf]
    combos: np.ndarray  # combo index of every hand


def search_menu(state: State, fractions: tuple[float, ...], max_raises: int, forced: Action | None) -> list[Action]:
    legal = state.legal()
    out = [Action(Kind.FOLD)] if legal.can_fold else []
    out.append(Action(Kind.CHECK_CALL))
    targets: set[int] = set()
    if legal.max_raise_to is not None and state.raises < max_raises:
        for f in fractions:
            to = raise_to_for_fraction(state, f)
            if to is not None:
                targets.add(to)
        targets.add(legal.max_raise_to)
    if forced is not None and forced.kind == Kind.RAISE:
        targets.add(forced.to)
    out += [Action(Kind.RAISE, to) for to in sorted(targets)]
    return out


def build_hunl_subgame(
    root: State,
    real: list[Action],
    fractions: tuple[float, ...],
    max_raises: int,
    searcher: int,
    hands: Hands,
    combos: np.ndarray,
    bpmap: BlueprintMap,
    bp_root: int,
    leaf_values_of: Callable[[list[Leaf]], np.ndarray | LeafTables],
    leaf_card_removal: bool = False,
) -> HunlSubgame:
    """The subgame from ``root`` to the end of its street, containing the ``real`` actions taken since
    ``root``; ``leaf_values_of(leaves)`` returns their value tables [L * K, B, B]."""
    street = root.street
    seen = tuple(pot_fraction(s, a.to) for s, a in _replay(root, real) if a.kind == Kind.RAISE)
    sizes = tuple(sorted(set(fractions) | set(seen)))
    b = SubgameBuilder()
    states: list[State] = []
    actions: list[tuple[Action, ...]] = []
    bp_nodes: list[int] = []
    leaves: list[Leaf] = []
    path: list[int] = []

    def node(kind: int, player: int, parent: int, state: State, label: str, bp: int, table: int = -1) -> int:
        me = b.add(kind, player, parent, (state.committed[0], state.committed[1]), label, origin=bp, table=table)
        states.append(state)
        actions.append(())
        bp_nodes.append(bp)
        return me

    # depth-first, children in menu order: (state, parent, label, bp node, depth on the real path or -1)
    stack: list[tuple[State, int, str, int, int]] = [(root, -1, "", bp_root if bpmap.at(bp_root, root) else LOST, 0)]
    while stack:
        state, parent, label, bp, depth = stack.pop()
        if depth >= 0 and depth == len(path):
            path.append(len(states))
        if state.finished and state.folded >= 0:
            node(FOLD, state.folded, parent, state, label, LOST)
        elif state.finished and state.street == 3:
            node(SHOWDOWN, -1, parent, state, label, LOST)
        elif state.finished or state.street > street:  # depth limit: the street is over
            choice = node(DECISION, 1 - searcher, parent, state, label + "|", LOST)
            cont = bp if (not state.finished and bpmap.at(bp, state)) else LOST
            bp_c = float(bpmap.state(cont).committed[0]) if cont != LOST else float(state.committed[0])
            for k in range(K_CONTINUATIONS):
                node(LEAF, -1, choice, state, f"{label}|{k}", LOST, table=len(leaves) * K_CONTINUATIONS + k)
            actions[choice] = tuple(Action(Kind.CHECK_CALL) for _ in range(K_CONTINUATIONS))
            leaves.append(Leaf(cont, float(state.committed[0]), bp_c))
        else:
            forced = real[depth] if 0 <= depth < len(real) else None
            menu = search_menu(state, sizes, max_raises, forced)
            me = node(DECISION, state.to_act, parent, state, label, bp)
            actions[me] = tuple(menu)
            for a in reversed(menu):
                on_path = depth if forced is not None and a == forced else -1
                child_bp = bpmap.child(bp, state, a) if bp != LOST else LOST
                stack.append((state.apply(a), me, label + a.letter(), child_bp, depth + 1 if on_path >= 0 else -1))
    sub = b.build(hands, leaf_values_of(leaves), searcher, exact_leaves=leaf_card_removal)
    return HunlSubgame(sub, states, actions, np.array(bp_nodes, dtype=np.int64), path, leaves, combos)


def _replay(state: State, actions: list[Action]) -> list[tuple[State, Action]]:
    out = []
    for a in actions:
        out.append((state, a))
        state = state.apply(a)
    return out

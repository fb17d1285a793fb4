"""Betting trees of fixed-limit games (Kuhn, Leduc), with OpenSpiel's rules.

Every round player 0 acts first. Fold is legal only when facing a bet; call (a check when there is
nothing to call) is always legal; raise is legal while the round has had fewer than ``max_raises``.
A round ends after two checks or a call of a raise; the last round ends in a showdown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from holdem.games.tree import DECISION, FOLD, SHOWDOWN, BettingTree

A_FOLD, A_CALL, A_RAISE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class LimitRules:
    ante: float
    raise_sizes: tuple[float, ...]  # one per round
    max_raises: int
    # Letter written into the history for an action: (action, facing_bet) -> str
    letter: Callable[[int, bool], str]


@dataclass(slots=True)
class _Node:
    kind: int
    player: int
    street: int
    parent: int
    action: int
    contrib: tuple[float, float]
    history: str
    children: list[int]


def build_limit_tree(rules: LimitRules, num_buckets: tuple[int, ...]) -> BettingTree:
    """Expand the betting of every round into a preorder tree of flat arrays."""
    nodes: list[_Node] = []

    def add(kind: int, player: int, street: int, parent: int, action: int,
            contrib: tuple[float, float], history: str) -> int:
        nodes.append(_Node(kind, player, street, parent, action, contrib, history, []))
        if parent >= 0:
            nodes[parent].children.append(len(nodes) - 1)
        return len(nodes) - 1

    def expand(street: int, to_act: int, raises: int, checks: int, contrib: tuple[float, float],
               history: str, parent: int, action: int) -> None:
        me = add(DECISION, to_act, street, parent, action, contrib, history)
        facing = contrib[1 - to_act] > contrib[to_act]
        if facing:  # fold
            add(FOLD, to_act, street, me, A_FOLD, contrib, history + rules.letter(A_FOLD, True))
        # call or check
        called = list(contrib)
        called[to_act] = contrib[1 - to_act]
        h = history + rules.letter(A_CALL, facing)
        if facing or checks == 1:  # the round is over
            end_round(street, (called[0], called[1]), h, me)
        else:
            expand(street, 1 - to_act, raises, checks + 1, (called[0], called[1]), h, me, A_CALL)
        if raises < rules.max_raises:
            raised = list(called)
            raised[to_act] += rules.raise_sizes[street]
            expand(street, 1 - to_act, raises + 1, checks, (raised[0], raised[1]),
                   history + rules.letter(A_RAISE, facing), me, A_RAISE)

    def end_round(street: int, contrib: tuple[float, float], history: str, parent: int) -> None:
        if street + 1 == len(rules.raise_sizes):
            add(SHOWDOWN, -1, street, parent, A_CALL, contrib, history)
        else:
            # The next round starts at the node reached by the closing call: it is a decision node.
            expand(street + 1, 0, 0, 0, contrib, history + "/", parent, A_CALL)

    expand(0, 0, 0, 0, (rules.ante, rules.ante), "", -1, -1)
    return compile_tree(nodes, num_buckets, ("fold", "call", "raise"))


def compile_tree(nodes: list, num_buckets: tuple[int, ...], action_labels: tuple[str, ...]) -> BettingTree:
    """Turn preorder node records (kind, player, street, parent, action, contrib, history, children)."""
    n = len(nodes)
    nb = np.asarray(num_buckets, dtype=np.int32)
    kind = np.array([x.kind for x in nodes], dtype=np.int8)
    num_children = np.array([len(x.children) for x in nodes], dtype=np.int32)
    child_start = np.zeros(n, dtype=np.int32)
    child_start[1:] = np.cumsum(num_children)[:-1]
    children = np.array([c for x in nodes for c in x.children], dtype=np.int32)
    subtree = np.ones(n, dtype=np.int32)
    for i in range(n - 1, 0, -1):  # children come after parents in preorder
        subtree[nodes[i].parent] += subtree[i]
    slot = np.full(n, -1, dtype=np.int64)
    next_slot = 0
    for i, x in enumerate(nodes):
        if x.kind == DECISION:
            slot[i] = next_slot
            next_slot += int(nb[x.street]) * len(x.children)
    return BettingTree(
        kind=kind,
        player=np.array([x.player for x in nodes], dtype=np.int8),
        street=np.array([x.street for x in nodes], dtype=np.int8),
        parent=np.array([x.parent for x in nodes], dtype=np.int32),
        action=np.array([x.action for x in nodes], dtype=np.int8),
        child_start=child_start,
        num_children=num_children,
        children=children,
        subtree_size=subtree,
        contrib=np.array([x.contrib for x in nodes], dtype=np.float64),
        slot=slot,
        num_buckets=nb,
        n_slots=next_slot,
        action_labels=action_labels,
        history=tuple(x.history for x in nodes),
    )

"""Betting trees of fixed-limit games (Kuhn, Leduc), with OpenSpiel's rules.

Every round player 0 acts first. Fold is legal only when facing a bet; call (a check when there is
nothing to call) is always legal; raise is legal while the round has had fewer than ``max_raises``.
A round ends after two checks or a call of a raise; the last round ends in a showdown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from holdem.games.tree import DECISION, FOLD, SHOWDOWN, ActionKind, BettingTree, NodeRecord, compile_tree


@dataclass(frozen=True, slots=True)
class LimitRules:
    ante: float
    raise_sizes: tuple[float, ...]  # one per round
    max_raises: int
    # Letter written into the history for an action: (action, facing_bet) -> str
    letter: Callable[[int, bool], str]


def build_limit_tree(rules: LimitRules, num_buckets: tuple[int, ...]) -> BettingTree:
    """Expand the betting of every round into a preorder tree of flat arrays."""
    nodes: list[NodeRecord] = []

    def add(
        kind: int, player: int, street: int, parent: int, action: int, contrib: tuple[float, float], history: str
    ) -> int:
        nodes.append(NodeRecord(kind, player, street, parent, action, contrib, history, []))
        if parent >= 0:
            nodes[parent].children.append(len(nodes) - 1)
        return len(nodes) - 1

    def expand(
        street: int,
        to_act: int,
        raises: int,
        checks: int,
        contrib: tuple[float, float],
        history: str,
        parent: int,
        action: int,
    ) -> None:
        me = add(DECISION, to_act, street, parent, action, contrib, history)
        facing = contrib[1 - to_act] > contrib[to_act]
        if facing:  # fold
            add(FOLD, to_act, street, me, ActionKind.FOLD, contrib, history + rules.letter(ActionKind.FOLD, True))
        # call or check
        called = list(contrib)
        called[to_act] = contrib[1 - to_act]
        h = history + rules.letter(ActionKind.CALL, facing)
        if facing or checks == 1:  # the round is over
            end_round(street, (called[0], called[1]), h, me)
        else:
            expand(street, 1 - to_act, raises, checks + 1, (called[0], called[1]), h, me, ActionKind.CALL)
        if raises < rules.max_raises:
            raised = list(called)
            raised[to_act] += rules.raise_sizes[street]
            expand(
                street,
                1 - to_act,
                raises + 1,
                checks,
                (raised[0], raised[1]),
                history + rules.letter(ActionKind.RAISE, facing),
                me,
                ActionKind.RAISE,
            )

    def end_round(street: int, contrib: tuple[float, float], history: str, parent: int) -> None:
        if street + 1 == len(rules.raise_sizes):
            add(SHOWDOWN, -1, street, parent, ActionKind.CALL, contrib, history)
        else:
            # The next round starts at the node reached by the closing call: it is a decision node.
            expand(street + 1, 0, 0, 0, contrib, history + "/", parent, ActionKind.CALL)

    expand(0, 0, 0, 0, (rules.ante, rules.ante), "", -1, -1)
    return compile_tree(nodes, num_buckets, ("fold", "call", "raise"))

"""Where a real hold'em history stands on the blueprint's abstract tree, and what the blueprint plays.

The real actions are followed down the abstract tree: fold and check/call as such, a raise to the
abstract raise nearest in pot fraction (an all-in to the all-in). The node reached tells the search
what the blueprint would play there (for the opponent's range by Bayes, for the gadget's alternative
values) and where the blueprint's continuation starts at a depth-limit leaf. Where the tree and the
real hand part (a raise the tree has no room for) the position is lost (-1) and stays lost.
"""

from __future__ import annotations

import numpy as np

from holdem.blueprint.translation import pot_fraction
from holdem.games.hunl.betting import HunlAbstraction
from holdem.games.hunl.rules import Action, Kind, State
from holdem.games.tree import DECISION, BettingTree

LOST = -1


class BlueprintMap:
    """Abstract states and menus of the blueprint tree's nodes, computed once per node on demand."""

    def __init__(self, tree: BettingTree, abstraction: HunlAbstraction) -> None:
        self.tree = tree
        self.abstraction = abstraction
        self._states: dict[int, State] = {0: State.initial(abstraction.rules)}
        self._menus: dict[int, tuple[Action, ...]] = {}

    def state(self, node: int) -> State:
        found = self._states.get(node)
        if found is None:
            parent = int(self.tree.parent[node])
            kids = self.children(parent)
            found = self.state(parent).apply(self.menu(parent)[kids.index(node)])
            self._states[node] = found
        return found

    def menu(self, node: int) -> tuple[Action, ...]:
        found = self._menus.get(node)
        if found is None:
            found = tuple(self.abstraction.actions(self.state(node)))
            self._menus[node] = found
        return found

    def children(self, node: int) -> list[int]:
        t = self.tree
        return t.children[t.child_start[node] : t.child_start[node] + t.num_children[node]].tolist()

    def at(self, node: int, real: State) -> bool:
        """Whether ``node`` is a decision for the same player on the same street as ``real``."""
        t = self.tree
        return (
            node >= 0
            and int(t.kind[node]) == DECISION
            and int(t.street[node]) == real.street
            and int(t.player[node]) == real.to_act
        )

    def action_index(self, node: int, real: State, action: Action) -> int:
        """Index of the abstract action at ``node`` standing for the real ``action`` at ``real``."""
        menu = self.menu(node)
        kinds = [a.kind for a in menu]
        if action.kind != Kind.RAISE or Kind.RAISE not in kinds:
            want = action.kind if action.kind in kinds else Kind.CHECK_CALL
            return kinds.index(want)
        raises = [i for i, a in enumerate(menu) if a.kind == Kind.RAISE]
        legal = real.legal()
        if action.to == legal.max_raise_to and self.abstraction.all_in:
            return raises[-1]
        x = pot_fraction(real, action.to)
        here = self.state(node)
        fractions = [pot_fraction(here, menu[i].to) for i in raises]
        return raises[int(np.argmin([abs(np.log1p(f) - np.log1p(x)) for f in fractions]))]

    def child(self, node: int, real: State, action: Action) -> int:
        """The node the real ``action`` leads to, or LOST."""
        if not self.at(node, real):
            return LOST
        return self.children(node)[self.action_index(node, real, action)]

    def follow(self, history: list[tuple[State, Action]]) -> int:
        """The node a whole real history leads to (LOST when it parts from the tree)."""
        node = 0
        for before, action in history:
            node = self.child(node, before, action)
            if node == LOST:
                return LOST
        return node

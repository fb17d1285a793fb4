"""Agents that play the real game of heads-up no-limit hold'em: built-in bots and blueprints.

Every agent sees the real ``rules.State`` and returns a legal real ``Action``; the hand runner tells
it every action taken (its own included) through ``observe``. Randomness comes only from the match's
generator, passed in, so a match is a function of its seed.

A blueprint keeps a pointer into its own abstract betting tree. The opponent's real actions are
translated onto the tree (fold, call as such; a raise to a neighbouring abstract raise by the
pseudo-harmonic mapping, see ``translation``); its own abstract raise becomes a real raise of the same
pot fraction (all-in stays all-in), clamped to what is legal. When the tree and the real hand drift
apart (a raise the tree has no room for, a size clamped to all-in) the pointer may fall behind a
street (it then follows check/call down to the real street), run ahead of it, or reach a terminal;
until it is back in step with the real hand the blueprint checks or calls.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numba import njit

from holdem.blueprint.hunl import Blueprint
from holdem.blueprint.translation import pot_fraction, raise_to_for_fraction, translate_raise
from holdem.cards import NUM_STREETS
from holdem.games.hunl.betting import HunlAbstraction
from holdem.games.hunl.rules import Action, HunlRules, Kind, State
from holdem.games.tree import DECISION
from holdem.solver.es_hunl import deal_buckets

CHECK_CALL = Action(Kind.CHECK_CALL)
FOLD = Action(Kind.FOLD)
BOTS = ("random", "call", "raise-pot", "oddsizes")
ODD_SIZES = (0.37, 0.8, 1.7)  # pot fractions on no abstraction's tree


class Agent(Protocol):
    name: str

    def prepare(self, cards: np.ndarray) -> None:
        """Called once with every deal of the match: int64 [deals, 9] (p0 hole, p1 hole, board)."""

    def begin_hand(self, seat: int, deal: int) -> None: ...

    def act(self, state: State, rng: random.Random) -> Action: ...

    def observe(self, before: State, action: Action, rng: random.Random) -> None: ...


class _Bot:
    """Shared no-op parts of the memoryless bots."""

    name = "bot"

    def prepare(self, cards: np.ndarray) -> None:
        pass

    def begin_hand(self, seat: int, deal: int) -> None:
        pass

    def observe(self, before: State, action: Action, rng: random.Random) -> None:
        pass


class CallBot(_Bot):
    name = "call"

    def act(self, state: State, rng: random.Random) -> Action:
        return CHECK_CALL


class RaisePotBot(_Bot):
    """Raises the pot (call, then add the pot after the call) whenever it may, else checks or calls."""

    name = "raise-pot"

    def act(self, state: State, rng: random.Random) -> Action:
        to = raise_to_for_fraction(state, 1.0)
        return CHECK_CALL if to is None else Action(Kind.RAISE, to)


class RandomBot(_Bot):
    """Uniform over the default abstraction's menu at the real state (fold, check/call, its raises)."""

    name = "random"

    def __init__(self, rules: HunlRules) -> None:
        self.abstraction = HunlAbstraction(rules)

    def act(self, state: State, rng: random.Random) -> Action:
        menu = self.abstraction.actions(state)
        return menu[int(rng.random() * len(menu))]


class OddSizesBot(_Bot):
    """Bets and raises sizes off every tree (0.37, 0.8 or 1.7 pot): facing a bet it folds 1/4, calls
    1/2 and raises 1/4 of the time; otherwise it checks or bets half the time each. At most four bets
    and raises a street, so two of them end their hands."""

    name = "oddsizes"

    def act(self, state: State, rng: random.Random) -> Action:
        legal = state.legal()
        u = rng.random()
        raise_now = (u >= 0.75) if legal.can_fold else (u >= 0.5)
        if legal.can_fold and u < 0.25:
            return FOLD
        if not raise_now or state.raises >= 4:
            return CHECK_CALL
        to = raise_to_for_fraction(state, ODD_SIZES[int(rng.random() * len(ODD_SIZES))])
        return CHECK_CALL if to is None else Action(Kind.RAISE, to)


@dataclass(frozen=True, slots=True)
class _NodeMenu:
    """What the blueprint needs at one abstract decision node, computed once per node."""

    actions: tuple[Action, ...]  # in the order of the node's children
    call: int  # child index of check/call
    raises: tuple[int, ...]  # child indices of the raises, ascending in size
    fractions: tuple[float, ...]  # their pot fractions at the abstract state
    all_in: int  # child index of the all-in raise, -1 if the node has none


@njit(cache=True)
def bucket_deals(cards, tables, out):
    """out[d, seat, street] = the bucket of deal d's seat on every street, by ``tables`` (``BucketArrays``)."""
    b = np.empty((2, NUM_STREETS), dtype=np.int64)
    for d in range(cards.shape[0]):
        deal_buckets(cards[d], tables, b)
        out[d] = b


class BlueprintAgent:
    """Plays a blueprint's average strategy in the real game (see the module docstring)."""

    def __init__(self, blueprint: Blueprint, name: str = "blueprint") -> None:
        self.name = name
        g = blueprint.game
        t = g.tree
        self.abstraction = g.abstraction
        self.buckets_tables = g.buckets
        self.policy = blueprint.policy
        # Plain lists: per-decision indexing of Python lists is several times cheaper than of arrays.
        self.kind = t.kind.tolist()
        self.player = t.player.tolist()
        self.street = t.street.tolist()
        self.child_start = t.child_start.tolist()
        self.num_children = t.num_children.tolist()
        self.children = t.children.tolist()
        self.slot = t.slot.tolist()
        self.bucket_stride = t.bucket_stride.tolist()
        self.states: dict[int, State] = {0: State.initial(g.abstraction.rules)}
        self.menus: dict[int, _NodeMenu] = {}
        self.deal_buckets = np.zeros((0, 2, NUM_STREETS), dtype=np.int64)
        self.seat = 0
        self.node = 0
        self.hand_buckets: list[int] = [0, 0, 0, 0]
        self.pending = -1

    def prepare(self, cards: np.ndarray) -> None:
        out = np.empty((cards.shape[0], 2, NUM_STREETS), dtype=np.int64)
        bucket_deals(np.ascontiguousarray(cards, dtype=np.int64), self.buckets_tables.arrays(), out)
        self.deal_buckets = out

    def begin_hand(self, seat: int, deal: int) -> None:
        self.seat = seat
        self.node = 0
        self.pending = -1
        self.hand_buckets = self.deal_buckets[deal, seat].tolist()

    def menu(self, node: int) -> _NodeMenu:
        found = self.menus.get(node)
        if found is not None:
            return found
        state = self.states[node]
        actions = tuple(self.abstraction.actions(state))
        if len(actions) != self.num_children[node]:
            raise AssertionError(f"abstract node {node}: the menu and the tree disagree")
        raises = tuple(i for i, a in enumerate(actions) if a.kind == Kind.RAISE)
        legal = state.legal()
        all_in = next((i for i in raises if actions[i].to == legal.max_raise_to), -1)
        found = _NodeMenu(
            actions,
            next(i for i, a in enumerate(actions) if a.kind == Kind.CHECK_CALL),
            raises,
            tuple(pot_fraction(state, actions[i].to) for i in raises),
            all_in,
        )
        self.menus[node] = found
        return found

    def _advance(self, i: int) -> None:
        node = self.node
        child = self.children[self.child_start[node] + i]
        if child not in self.states:
            self.states[child] = self.states[node].apply(self.menu(node).actions[i])
        self.node = child

    def _in_step(self, real: State) -> bool:
        """Catch the pointer up to the real street; True if it then stands where the real hand does."""
        while self.kind[self.node] == DECISION and self.street[self.node] < real.street:
            self._advance(self.menu(self.node).call)
        node = self.node
        return self.kind[node] == DECISION and self.street[node] == real.street and self.player[node] == real.to_act

    def act(self, state: State, rng: random.Random) -> Action:
        self.pending = -1
        if not self._in_step(state):
            return CHECK_CALL
        node = self.node
        menu = self.menu(node)
        na = self.num_children[node]
        o = self.slot[node] + self.hand_buckets[self.street[node]] * self.bucket_stride[node]
        u = rng.random()
        i = na - 1
        acc = 0.0
        for k, p in enumerate(self.policy[o : o + na].tolist()):
            acc += p
            if u < acc:
                i = k
                break
        chosen = menu.actions[i]
        real = CHECK_CALL
        if chosen.kind == Kind.FOLD:
            if state.legal().can_fold:
                real = FOLD
            else:
                i = menu.call  # folding for free is never offered: check instead
        elif chosen.kind == Kind.RAISE:
            legal = state.legal()
            if i == menu.all_in:
                to = legal.max_raise_to
            else:
                to = raise_to_for_fraction(state, menu.fractions[menu.raises.index(i)])
            if to is None:
                i = menu.call
            else:
                real = Action(Kind.RAISE, to)
        self.pending = i
        return real

    def observe(self, before: State, action: Action, rng: random.Random) -> None:
        if before.to_act == self.seat:
            if self.pending >= 0:
                self._advance(self.pending)
                self.pending = -1
            return
        if not self._in_step(before):
            return
        menu = self.menu(self.node)
        if action.kind == Kind.FOLD and menu.actions[0].kind == Kind.FOLD:
            i = 0
        elif action.kind != Kind.RAISE or not menu.raises:
            i = menu.call
        elif menu.all_in >= 0 and action.to == before.legal().max_raise_to:
            i = menu.all_in
        else:
            i = menu.raises[translate_raise(menu.fractions, pot_fraction(before, action.to), rng.random())]
        self._advance(i)

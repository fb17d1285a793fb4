"""Heads-up no-limit hold'em betting rules, as a small immutable state machine in chips.

Seats: player 0 is the button. The button posts the small blind and acts first before the flop, last
after it. A bet or raise is stated as "raise to" the player's total bet on the current street.
The minimum raise is the size of the last bet or raise on the street (at least the big blind); a player
may always go all-in, even for less, and an incomplete all-in does not reopen the betting (in heads-up
the other player then can only call or fold). A call for more than one's stack is an all-in call and
the excess is returned. Folding is offered only when facing a bet (folding for free is dominated).
The street closes when both players have acted and the bets are equal, or someone is all-in and called.

The abstraction's betting tree is built by driving this machine, and tests check it against pokerkit's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from holdem.cards import STREETS  # noqa: F401 (re-exported: the street names with the rules)


@dataclass(frozen=True, slots=True)
class HunlRules:
    small_blind: int = 50
    big_blind: int = 100
    stack: int = 10_000  # each player's starting stack (100 big blinds by default)

    def __post_init__(self) -> None:
        if not 0 < self.small_blind <= self.big_blind < self.stack:
            raise ValueError("need 0 < small_blind <= big_blind < stack")


class Kind(enum.IntEnum):
    FOLD = 0
    CHECK_CALL = 1
    RAISE = 2  # a bet or a raise, with a raise-to amount


@dataclass(frozen=True, slots=True)
class Action:
    kind: Kind
    to: int = 0  # raise-to amount on this street (RAISE only)

    def letter(self) -> str:
        return "f" if self.kind == Kind.FOLD else "c" if self.kind == Kind.CHECK_CALL else f"r{self.to}"


@dataclass(frozen=True, slots=True)
class Legal:
    can_fold: bool
    call_amount: int  # 0 = check
    min_raise_to: int | None  # None: no raise possible
    max_raise_to: int | None


@dataclass(frozen=True, slots=True)
class State:
    rules: HunlRules
    street: int = 0
    to_act: int = 0
    street_bet: tuple[int, int] = (0, 0)
    committed: tuple[int, int] = (0, 0)  # chips put in over the whole hand
    last_raise: int = 0  # size of the last full raise increment on this street
    acted: tuple[bool, bool] = (False, False)
    raises: int = 0  # bets and raises on this street
    folded: int = -1
    finished: bool = False  # folded, or betting is over (showdown after the remaining cards)
    history: tuple[tuple[Action, ...], ...] = ((),)

    @staticmethod
    def initial(rules: HunlRules) -> State:
        blinds = (rules.small_blind, rules.big_blind)
        return State(rules, street_bet=blinds, committed=blinds, last_raise=rules.big_blind)

    def stack(self, p: int) -> int:
        return self.rules.stack - self.committed[p]

    @property
    def pot(self) -> int:
        return self.committed[0] + self.committed[1]

    def legal(self) -> Legal:
        me, opp = self.to_act, 1 - self.to_act
        owe = self.street_bet[opp] - self.street_bet[me]
        call = min(owe, self.stack(me))
        all_in_to = self.street_bet[me] + self.stack(me)
        can_raise = self.stack(me) > call and self.stack(opp) > 0
        if not can_raise:
            return Legal(owe > 0, call, None, None)
        min_to = min(self.street_bet[opp] + max(self.last_raise, self.rules.big_blind), all_in_to)
        return Legal(owe > 0, call, min_to, all_in_to)

    def apply(self, action: Action) -> State:
        if self.finished:
            raise ValueError("the hand is over")
        me, opp = self.to_act, 1 - self.to_act
        legal = self.legal()
        bets = list(self.street_bet)
        committed = list(self.committed)
        history = self.history[:-1] + (self.history[-1] + (action,),)
        if action.kind == Kind.FOLD:
            if not legal.can_fold:
                raise ValueError("folding is only offered when facing a bet")
            return replace(self, folded=me, finished=True, history=history)
        acted = list(self.acted)
        acted[me] = True
        last_raise, raises = self.last_raise, self.raises
        if action.kind == Kind.CHECK_CALL:
            bets[me] += legal.call_amount
            committed[me] += legal.call_amount
            if bets[me] < bets[opp]:  # an all-in call for less: the excess goes back
                committed[opp] -= bets[opp] - bets[me]
                bets[opp] = bets[me]
        else:
            lo, hi = legal.min_raise_to, legal.max_raise_to  # None together: no raise possible
            if lo is None or hi is None or not lo <= action.to <= hi:
                raise ValueError(f"raise to {action.to} is not in [{legal.min_raise_to}, {legal.max_raise_to}]")
            increment = action.to - bets[opp]
            if increment >= max(self.last_raise, self.rules.big_blind):
                last_raise = increment  # a full raise; an all-in for less leaves it as it was
            committed[me] += action.to - bets[me]
            bets[me] = action.to
            raises += 1
            acted[opp] = False
        state = replace(
            self,
            street_bet=(bets[0], bets[1]),
            committed=(committed[0], committed[1]),
            acted=(acted[0], acted[1]),
            last_raise=last_raise,
            raises=raises,
            to_act=opp,
            history=history,
        )
        return state._close_street_if_done()

    def _close_street_if_done(self) -> State:
        bets_equal = self.street_bet[0] == self.street_bet[1]
        someone_all_in = self.stack(0) == 0 or self.stack(1) == 0
        if not (bets_equal and (all(self.acted) or someone_all_in)):
            return self
        if someone_all_in or self.street == 3:
            return replace(self, finished=True)
        return replace(
            self,
            street=self.street + 1,
            to_act=1,
            street_bet=(0, 0),
            last_raise=0,
            acted=(False, False),
            raises=0,
            history=self.history + ((),),
        )

    def payoff(self, winner: int) -> tuple[float, float]:
        """Chips won by each player; winner +1 player 0, -1 player 1, 0 split (ignored after a fold)."""
        if not self.finished:
            raise ValueError("the hand is not over")
        if self.folded >= 0:
            loser = self.folded
        elif winner == 0:
            return (0.5 * (self.committed[1] - self.committed[0]), 0.5 * (self.committed[0] - self.committed[1]))
        else:
            loser = 1 if winner > 0 else 0
        won = self.committed[loser]
        return (won, -won) if loser == 1 else (-won, won)

    def history_text(self) -> str:
        return "/".join("".join(a.letter() for a in street) for street in self.history)

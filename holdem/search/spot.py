"""A decision point of heads-up hold'em given as text, checked before any search sees it.

``hole`` and ``board`` are cards (``"AsKd"``, ``"Qh 7c 2s"``); ``history`` is the betting so far in the
form ``State.history_text`` prints: per street ``f`` fold, ``c`` check/call, ``r<to>`` raise to (chips
on that street), streets separated by ``/`` (``"r300c/r450"``). Every problem raises ``SpotError``
naming the card, the history token and what was allowed there: an unknown or repeated card, an action
that is not legal where it stands, a bet larger than the stack, a board that does not fit the street.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from holdem.cards import BOARD_CARDS, STREETS, format_cards, parse_cards
from holdem.games.hunl.rules import Action, HunlRules, Kind, State

_TOKEN = re.compile(r"f|c|r(\d+)")


class SpotError(ValueError):
    """A spot that cannot be played; the message names the offending input."""


@dataclass(frozen=True, slots=True)
class Spot:
    hole: tuple[int, int]
    board: tuple[int, ...]
    history: tuple[tuple[State, Action], ...]  # every action with the state it was taken in
    state: State  # the decision to make

    @property
    def seat(self) -> int:
        return self.state.to_act


def parse_spot(rules: HunlRules, hole: str, board: str, history: str) -> Spot:
    try:
        hole_cards = parse_cards(hole)
    except ValueError as exc:
        raise SpotError(f"hole cards {hole!r}: {exc}") from None
    if len(hole_cards) != 2:
        raise SpotError(f"hole cards {hole!r}: expected two cards, got {len(hole_cards)}")
    try:
        board_cards = parse_cards(board) if board.strip() else []
    except ValueError as exc:
        raise SpotError(f"board {board!r}: {exc}") from None
    both = set(hole_cards) & set(board_cards)
    if both:
        raise SpotError(f"card {format_cards(sorted(both))} is both in the hole and on the board")
    state = State.initial(rules)
    played: list[tuple[State, Action]] = []
    streets = history.split("/") if history else [""]
    for s, text in enumerate(streets):
        if s > 0 and state.finished:
            raise SpotError(f"history {history!r}: the hand is over before the {STREETS[min(s, 3)]}")
        if s > 0 and state.street != s:
            raise SpotError(
                f"history {history!r}: street {s + 1} ({STREETS[min(s, 3)]}) begins before "
                f"the {STREETS[state.street]} betting is over"
            )
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:
                raise SpotError(f"history {history!r}: unknown action {text[pos:]!r} (f, c or r<chips>)")
            action = _action(m, state, history)
            try:
                after = state.apply(action)
            except ValueError as exc:
                raise SpotError(f"history {history!r}: {m.group(0)!r} on the {STREETS[state.street]}: {exc}") from None
            played.append((state, action))
            state, pos = after, m.end()
            if state.finished and (pos < len(text) or any(streets[s + 1 :])):
                raise SpotError(f"history {history!r}: the hand is over after {m.group(0)!r}")
            if state.street > s and pos < len(text):
                raise SpotError(
                    f"history {history!r}: the {STREETS[s]} betting is over after {m.group(0)!r}; "
                    f"write '/' before the next street"
                )
    if state.finished:
        raise SpotError(f"history {history!r}: the hand is over, there is no decision to make")
    if len(board_cards) != BOARD_CARDS[state.street]:
        raise SpotError(
            f"board {board!r}: the {STREETS[state.street]} needs {BOARD_CARDS[state.street]} board "
            f"cards, got {len(board_cards)}"
        )
    return Spot((hole_cards[0], hole_cards[1]), tuple(board_cards), tuple(played), state)


def _action(m: re.Match, state: State, history: str) -> Action:
    token = m.group(0)
    legal = state.legal()
    if token == "f":
        if not legal.can_fold:
            raise SpotError(
                f"history {history!r}: 'f' on the {STREETS[state.street]} with nothing to call (check with c)"
            )
        return Action(Kind.FOLD)
    if token == "c":
        return Action(Kind.CHECK_CALL)
    to = int(m.group(1))
    if legal.max_raise_to is None:
        raise SpotError(f"history {history!r}: {token!r} on the {STREETS[state.street]}, where no raise is possible")
    if to > legal.max_raise_to:
        raise SpotError(
            f"history {history!r}: {token!r} bets more than the stack allows on the "
            f"{STREETS[state.street]} (at most r{legal.max_raise_to}, all-in)"
        )
    if to < (legal.min_raise_to or 0):
        raise SpotError(
            f"history {history!r}: {token!r} is below the minimum raise on the "
            f"{STREETS[state.street]} (at least r{legal.min_raise_to})"
        )
    return Action(Kind.RAISE, to)

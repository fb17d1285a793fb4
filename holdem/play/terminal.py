"""`holdem play`: a person plays heads-up no-limit hold'em against a blueprint in the terminal.

Plain line-oriented text on purpose: it reads one command per line (``f`` fold, ``c`` check or call,
``b 600`` bet 600 or ``r 600`` raise to 600, ``q`` quit) from any text stream, so it works in a
terminal and through a pipe alike; end of input quits like ``q``. The blueprint plays through the
same ``BlueprintAgent`` and hand runner as `holdem match`, so what a person meets is what the matches
measure. A bad command is explained and asked again; it never ends the session. A first bet on a
street after the flop is a bet (amounts are street totals, so "bet 600" and "raise to 600" name the
same chips); at a showdown both hands are named ("a pair of kings", "two pair, aces and sevens").
"""

from __future__ import annotations

import functools
import itertools
import random
from collections import Counter
from dataclasses import dataclass
from typing import Protocol, TextIO

import numpy as np

from holdem.cards import format_cards
from holdem.evaluator import CATEGORY_NAMES, category, evaluate5
from holdem.games.hunl.betting import HunlAbstraction
from holdem.games.hunl.rules import STREETS, Action, Kind, State
from holdem.play.agents import CHECK_CALL, FOLD, Agent
from holdem.play.match import deal_cards, play_hand, showdown_winners

HELP = "f = fold, c = check/call, b AMOUNT = bet, r AMOUNT = raise to AMOUNT, q = quit"
RANK_NAMES = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "jack", "queen", "king", "ace")
PLURAL = (
    "twos",
    "threes",
    "fours",
    "fives",
    "sixes",
    "sevens",
    "eights",
    "nines",
    "tens",
    "jacks",
    "queens",
    "kings",
    "aces",
)


class Quit(Exception):
    """The person asked to stop (q or end of input)."""


@dataclass(frozen=True, slots=True)
class PlayOptions:
    hands: int = 1_000_000
    seat: int | None = None  # the person's seat (0 = button); None alternates, starting on the button
    seed: int = 0
    opponent: str = "a blueprint"  # who the bot is, in the greeting: the blueprint, and whether it searches


class Opponent(Agent, Protocol):
    """The bot across the table: a blueprint agent, or search on the blueprint's abstraction."""

    @property
    def abstraction(self) -> HunlAbstraction: ...


def _cards(cards: list[int]) -> str:
    return format_cards(cards)


def opens(state: State) -> bool:
    """No bet to call after the flop: a raise here is the street's first bet."""
    return state.street > 0 and not state.legal().call_amount


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def hand_name(cards: list[int]) -> str:
    """The best five of 5-7 cards in words: 'a pair of kings', 'a flush, ace high', 'a full house, ...'."""
    best = max(itertools.combinations(cards, 5), key=lambda five: int(evaluate5(*five)))
    kind = int(category(int(evaluate5(*best))))
    counts = Counter(c // 4 for c in best)
    by_count = sorted(counts, key=lambda r: (counts[r], r), reverse=True)  # e.g. trips first, then the pair
    top = by_count[0]
    if kind in (4, 8) and set(counts) == {12, 0, 1, 2, 3}:
        top = 3  # the wheel, A-2-3-4-5, is five high
    if kind == 0:
        return f"high card {RANK_NAMES[top]}"
    if kind == 1:
        return f"a pair of {PLURAL[top]}"
    if kind == 2:
        return f"two pair, {PLURAL[by_count[0]]} and {PLURAL[by_count[1]]}"
    if kind == 3:
        return f"three of a kind, {PLURAL[top]}"
    if kind == 6:
        return f"a full house, {PLURAL[by_count[0]]} full of {PLURAL[by_count[1]]}"
    if kind == 7:
        return f"four of a kind, {PLURAL[top]}"
    if kind == 8 and top == 12:
        return "a royal flush"
    return f"a {CATEGORY_NAMES[kind]}, {RANK_NAMES[top]} high"


def parse_command(line: str, state: State) -> Action | str:
    """The Action a line asks for at ``state``, or the reason it is not legal there."""
    words = line.strip().lower().split()
    if not words:
        return f"type a command ({HELP})"
    legal = state.legal()
    head = words[0]
    if head in ("q", "quit"):
        raise Quit
    if head in ("f", "fold"):
        return FOLD if legal.can_fold else "there is no bet to fold to: check with c"
    if head in ("c", "check", "call", "k"):
        return CHECK_CALL
    if head in ("r", "raise", "b", "bet"):
        if legal.min_raise_to is None or legal.max_raise_to is None:
            return "no raise is possible here"
        verb = "bet" if opens(state) else "raise to"
        if len(words) != 2 or not words[1].isdigit():
            return f"say how much to {verb}, e.g. {verb[0]} {legal.min_raise_to}"
        to = int(words[1])
        if not legal.min_raise_to <= to <= legal.max_raise_to:
            return f"{verb} between {legal.min_raise_to} and {legal.max_raise_to}"
        return Action(Kind.RAISE, to)
    return f"unknown command {line.strip()!r} ({HELP})"


class HumanAgent:
    """Asks the person for each action, after showing the table from their seat."""

    name = "you"

    def __init__(self, inp: TextIO, out: TextIO) -> None:
        self.inp, self.out = inp, out
        self.seat = 0
        self.deal = np.zeros((0, 9), dtype=np.int64)
        self.cards: list[int] = []

    def prepare(self, cards: np.ndarray) -> None:
        self.deal = cards

    def begin_hand(self, seat: int, deal: int) -> None:
        self.seat = seat
        self.cards = self.deal[deal].tolist()

    def observe(self, before: State, action: Action, rng: random.Random) -> None:
        pass

    def act(self, state: State, rng: random.Random) -> Action:
        legal = state.legal()
        me, opp = self.seat, 1 - self.seat
        w = self.out.write
        w(f"  {STREETS[state.street]:7}  board [{_cards(_board(self.cards, state.street))}]  pot {state.pot}\n")
        mine = _cards(self.cards[2 * me : 2 * me + 2])
        w(f"  you    [{mine}]  stack {state.stack(me)}  bet {state.street_bet[me]}\n")
        w(f"  bot    [?? ??]  stack {state.stack(opp)}  bet {state.street_bet[opp]}\n")
        options = (["f fold"] if legal.can_fold else []) + [
            f"c call {legal.call_amount}" if legal.call_amount else "c check"
        ]
        if legal.min_raise_to is not None:
            options.append(
                f"b {legal.min_raise_to}..{legal.max_raise_to} bet"
                if opens(state)
                else f"r {legal.min_raise_to}..{legal.max_raise_to} raise to"
            )
        w(f"your turn: {' | '.join(options)} | q quit\n")
        while True:
            w("> ")
            self.out.flush()
            line = self.inp.readline()
            if not line:
                raise Quit
            if not self.inp.isatty():
                w(line if line.endswith("\n") else line + "\n")  # what a pipe said, as a terminal would echo it
            answer = parse_command(line, state)
            if isinstance(answer, Action):
                return answer
            w(f"  {answer}\n")


def _board(cards: list[int], street: int) -> list[int]:
    return cards[4 : 4 + (0, 3, 4, 5)[street]]


def _describe(action: Action, before: State, s: str) -> str:
    """'you call 50' / 'bot calls 50': s is the verb ending of the subject."""
    if action.kind == Kind.FOLD:
        return f"fold{s}"
    if action.kind == Kind.CHECK_CALL:
        call = before.legal().call_amount
        return f"call{s} {call}" if call else f"check{s}"
    all_in = " (all-in)" if action.to == before.legal().max_raise_to else ""
    if opens(before):
        return f"bet{s} {action.to}{all_in}"
    return f"raise{s} to {action.to}{all_in}"


def run_play(bot: Opponent, options: PlayOptions, inp: TextIO, out: TextIO) -> float:
    """Play until the hand count, q or end of input; returns the person's total in chips."""
    rules = bot.abstraction.rules
    human = HumanAgent(inp, out)
    rng = random.Random(options.seed)
    total, played = 0.0, 0
    w = out.write
    w(
        f"heads-up no-limit hold'em against {options.opponent}, blinds {rules.small_blind}/{rules.big_blind}, "
        f"stacks {rules.stack}. {HELP}\n"
    )
    for hand in range(options.hands):
        cards = deal_cards(1, options.seed * 1_000_003 + hand)
        winners = np.empty(1, dtype=np.int8)
        showdown_winners(cards, winners)
        bot.prepare(cards)
        human.prepare(cards)
        seat = options.seat if options.seat is not None else hand % 2
        seats = (human, bot) if seat == 0 else (bot, human)
        c = cards[0].tolist()
        w(
            f"\n=== hand {hand + 1}: you are {'the button (small blind)' if seat == 0 else 'the big blind'}, "
            f"holding [{_cards(c[2 * seat : 2 * seat + 2])}] ===\n"
        )

        show = functools.partial(_narrate, out, seat, c)
        try:
            final, won0 = play_hand(rules, seats, 0, int(winners[0]), rng, listener=show)
        except Quit:
            w(f"\nbye. {_tally(played, total, rules.big_blind)}\n")
            return total
        mine = won0 if seat == 0 else -won0
        if final.folded < 0:
            mine_cards, bots = c[2 * seat : 2 * seat + 2], c[2 * (1 - seat) : 2 * (1 - seat) + 2]
            w(
                f"showdown: board [{_cards(c[4:9])}]  you [{_cards(mine_cards)}] {hand_name(mine_cards + c[4:9])}  "
                f"bot [{_cards(bots)}] {hand_name(bots + c[4:9])}\n"
            )
        total += mine
        played += 1
        w(outcome_text(mine, total, played) + "\n")
    w(f"\ndone. {_tally(played, total, rules.big_blind)}\n")
    return total


def _narrate(out: TextIO, seat: int, cards: list[int], before: State, action: Action, after: State) -> None:
    """The hand runner's listener: who did what, and each new street's board."""
    mine = before.to_act == seat
    out.write(f"  {'you' if mine else 'bot'} {_describe(action, before, '' if mine else 's')}\n")
    if after.street > before.street and not after.finished:
        out.write(f"-- {STREETS[after.street]} [{_cards(_board(cards, after.street))}]  pot {after.pot} --\n")


def outcome_text(mine: float, total: float, played: int) -> str:
    """'you win 150; total +150 chips over 1 hand', or 'you split the pot; ...' when nothing changed hands."""
    result = f"{'win' if mine > 0 else 'lose'} {abs(mine):.0f}" if mine else "split the pot"
    return f"you {result}; total {total:+.0f} chips over {plural(played, 'hand')}"


def _tally(played: int, total: float, big_blind: int) -> str:
    return f"{plural(played, 'hand')}, total {total:+.0f} chips ({total / big_blind:+.1f} big blinds)"

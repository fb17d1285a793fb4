"""Head-to-head matches in the real game, with duplicate deals to cancel the luck of the cards.

Each deal (two hole cards per seat and five board cards, drawn from the seed) is played twice with
the agents' seats swapped and the cards kept per seat, so whatever the cards give one seat both agents
get once. A's duplicate result for a deal is the sum of its two hands; the mean over deals estimates
A's edge and its standard error is sd/sqrt(deals), which is much smaller than over single hands
(the duplicate scheme of the Annual Computer Poker Competition). Results are in milli-big-blinds per
hand: 1000 * chips won / big blind / hands. A match is a pure function of its seed and its agents.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from holdem.blueprint.hunl import Blueprint, load_blueprint
from holdem.blueprint.policy import PolicyError
from holdem.evaluator import evaluate7
from holdem.games.hunl.rules import Action, HunlRules, State
from holdem.play.agents import BOTS, Agent, BlueprintAgent, CallBot, OddSizesBot, RaisePotBot, RandomBot
from holdem.stats import mean_interval

if TYPE_CHECKING:
    from holdem.play.search_agent import SearchConfig

# Called after every action with (state before, action, state after); the play UI draws from it.
Listener = Callable[[State, Action, State], None]
# Called after every duplicate deal with (deals done, deals): `holdem match` draws its bar from it.
MatchProgress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class MatchResult:
    a: str
    b: str
    hands: int
    mbb_per_hand: float
    ci95: tuple[float, float]
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "hands": self.hands,
            "mbb_per_hand": round(self.mbb_per_hand, 3),
            "ci95": [round(self.ci95[0], 3), round(self.ci95[1], 3)],
            "seconds": round(self.seconds, 3),
        }


def deal_cards(n_deals: int, seed: int) -> np.ndarray:
    """int64 [n_deals, 9]: p0 hole, p1 hole, flop, turn, river; distinct within a deal."""
    rng = np.random.default_rng(seed)
    return np.argsort(rng.random((n_deals, 52)), axis=1)[:, :9].astype(np.int64)


@njit(cache=True)
def showdown_winners(cards, out):
    """out[d] = +1 if seat 0's seven cards beat seat 1's, -1 if they lose, 0 on a tie."""
    for d in range(cards.shape[0]):
        c = cards[d]
        s0 = evaluate7(c[0], c[1], c[4], c[5], c[6], c[7], c[8])
        s1 = evaluate7(c[2], c[3], c[4], c[5], c[6], c[7], c[8])
        out[d] = 1 if s0 > s1 else (-1 if s1 > s0 else 0)


def play_hand(
    rules: HunlRules,
    seats: tuple[Agent, Agent],
    deal: int,
    winner: int,
    rng: random.Random,
    listener: Listener | None = None,
) -> tuple[State, float]:
    """Play one hand to the end; returns the final state and seat 0's chips won."""
    for seat, agent in enumerate(seats):
        agent.begin_hand(seat, deal)
    state = State.initial(rules)
    while not state.finished:
        action = seats[state.to_act].act(state, rng)
        after = state.apply(action)
        for agent in seats:
            agent.observe(state, action, rng)
        if listener is not None:
            listener(state, action, after)
        state = after
    return state, state.payoff(winner)[0]


def hand_rng(seed: int, deal: int) -> random.Random:
    """The random numbers of one deal, the same for both of its hands (common random numbers): while the
    two seatings face the same decisions they draw the same actions, so a difference in result comes
    from a difference in play, not in luck. Each hand alone is still an honest sample."""
    return random.Random(f"deal {deal} of seed {seed}")  # a str seed is hashed (sha512): no two collide


def duplicate_deal(a: Agent, b: Agent, rules: HunlRules, deal: int, winner: int, seed: int) -> float:
    """A's chips over one deal played twice, seats swapped, both hands on the deal's random numbers."""
    _, first = play_hand(rules, (a, b), deal, winner, hand_rng(seed, deal))
    _, second = play_hand(rules, (b, a), deal, winner, hand_rng(seed, deal))
    return first - second  # A is seat 1 in the second hand


def run_match(
    a: Agent,
    b: Agent,
    rules: HunlRules,
    hands: int,
    seed: int,
    names: tuple[str, str] | None = None,
    progress: MatchProgress | None = None,
) -> MatchResult:
    """Play ceil(hands / 2) duplicate deals; the result is from A's point of view."""
    started = time.perf_counter()
    n_deals = max(1, math.ceil(hands / 2))
    cards = deal_cards(n_deals, seed)
    winners = np.empty(n_deals, dtype=np.int8)
    showdown_winners(cards, winners)
    for agent in (a, b) if a is not b else (a,):
        agent.prepare(cards)
    per_deal = np.empty(n_deals)
    for d, w in enumerate(winners.tolist()):
        per_deal[d] = duplicate_deal(a, b, rules, d, w, seed)
        if progress is not None:
            progress(d + 1, n_deals)
    scale = 1000.0 / rules.big_blind / 2.0  # chips per deal -> mbb per hand
    mean, half = mean_interval(per_deal, scale)
    a_name, b_name = names or (a.name, b.name)
    return MatchResult(a_name, b_name, 2 * n_deals, mean, (mean - half, mean + half), time.perf_counter() - started)


def make_agent(
    spec: str, bucket_root: Path, rules: HunlRules | None = None, loaded: dict[str, Blueprint] | None = None
) -> Agent:
    """A built-in bot by name, or a blueprint agent from a folder (raises PolicyError)."""
    if spec in BOTS:
        rules = rules or HunlRules()
        bots: dict[str, Callable[[], Agent]] = {
            "random": lambda: RandomBot(rules),
            "call": CallBot,
            "raise-pot": RaisePotBot,
            "oddsizes": OddSizesBot,
        }
        return bots[spec]()
    blueprint = (loaded or {}).get(spec) or load_blueprint(Path(spec), bucket_root)
    return BlueprintAgent(blueprint, name=spec)


def match_rules(blueprints: list[Blueprint]) -> HunlRules:
    """The blinds and stacks both sides play by: the blueprints' own, which must agree."""
    rules = {bp.game.abstraction.rules for bp in blueprints}
    if len(rules) > 1:
        raise PolicyError(
            "the blueprints were trained for different blinds or stacks: " + ", ".join(sorted(map(repr, rules)))
        )
    return rules.pop() if rules else HunlRules()


def match_from_specs(
    spec_a: str,
    spec_b: str,
    hands: int,
    seed: int,
    bucket_root: Path,
    search: tuple[SearchConfig | None, SearchConfig | None] = (None, None),
    progress: MatchProgress | None = None,
) -> MatchResult:
    """The `holdem match` command: load both sides, agree on the rules, play. ``search`` holds a
    ``SearchConfig`` for a side that searches (a blueprint), else None."""
    loaded: dict[str, Blueprint] = {}
    for spec in (spec_a, spec_b):
        if spec not in BOTS and not Path(spec).exists():
            raise PolicyError(
                f"{spec} does not exist (expected a bot name: {', '.join(BOTS)}; "
                "or an instance, checkpoint or merged folder)"
            )
        if spec not in BOTS and spec not in loaded:
            loaded[spec] = load_blueprint(Path(spec), bucket_root)
    rules = match_rules(list(loaded.values()))
    sides: list[Agent] = []
    names: list[str] = []
    for spec, config in zip((spec_a, spec_b), search):
        if config is None:
            sides.append(make_agent(spec, bucket_root, rules, loaded))
            names.append(spec)
            continue
        if spec in BOTS:
            raise PolicyError(f"{spec!r} is a bot: only a blueprint can search")
        from holdem.play.search_agent import SearchAgent

        sides.append(SearchAgent(loaded[spec], config, name=f"{spec}+search"))
        names.append(f"{spec}+search")
    return run_match(sides[0], sides[1], rules, hands, seed, names=(names[0], names[1]), progress=progress)

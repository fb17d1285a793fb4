"""The search agent: plays the blueprint before its first searched street (the river by default,
``SearchConfig.first_street``; never before the flop) and searches every decision from there on.

At its first decision of a street it solves the subgame from the start of the street (``hunl_subgame``)
and plays that solution while the opponent's actions are in it; when the opponent leaves it (a size
the subgame does not hold), it re-solves from the current decision through the gadget. Ranges are
weights over the 1,326 hole combos: the opponent's by Bayes from the blueprint's probabilities of its
actions (each combo's bucket on each street, the action mapped onto the blueprint's tree), its own by
the strategy it actually played (the blueprint's on the streets the blueprint played, its solutions'
after). Every number
a search needs is computed for all hands at once; what a decision costs is kept in ``decisions``.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

import numpy as np

from holdem.abstraction.hand_kernels import GAME_HUNL, street_buckets
from holdem.blueprint.hunl import Blueprint
from holdem.blueprint.translation import pot_fraction, raise_to_for_fraction
from holdem.cards import BOARD_CARDS, COMBO_CARDS, COMBO_INDEX, NUM_CARDS, NUM_COMBOS
from holdem.config import search_sizes_from_config
from holdem.games.hunl.rules import Action, Kind, State
from holdem.games.tree import DECISION
from holdem.play.agents import BlueprintAgent
from holdem.search.bpmap import LOST, BlueprintMap
from holdem.search.hunl_leaves import leaf_tables
from holdem.search.hunl_subgame import HunlSubgame, build_hunl_subgame, hunl_hands
from holdem.search.solve import SolveOptions, SolveResult, gadget_values, solve
from holdem.search.spot import Spot, SpotError

LEAF_SHARE = 0.25  # of a time budget, at most, for sampling leaf values (then the rest is solving)


@dataclass(frozen=True, slots=True)
class SearchConfig:
    solve: SolveOptions
    bet_sizes: tuple[tuple[float, ...], ...] | None = None  # per street; None: the config's search.bet_sizes
    leaf_deals: int = 2000  # sampled deals that value the depth-limit leaves
    # leaves against the compatible range: 3-4x the cost of a leaf against the whole range by bucket
    leaf_card_removal: bool = False
    # leaves' check-down part exact by bucket pair, the deals estimating only the betting after it. Off
    # by default: its dense tables cost the flop search more iterations than the exact part gains
    # (benchmarks/search_leaf_noise.py; the measurements are in docs/decisions.md)
    leaf_checkdown: bool = False
    # search from this street on (1 flop, 2 turn, 3 river), the blueprint before. The river by default:
    # at 100 ms, flop and turn searches fit the noise of their sampled leaf values and lose to the
    # blueprint (docs/decisions.md, benchmarks/search_leaf_noise.py); the river is solved exactly
    first_street: int = 3


@dataclass(frozen=True, slots=True)
class Decision:
    street: int
    seconds: float
    iterations: int
    nodes: int
    resolved: bool  # a new search (False: the street's solution was reused)


@dataclass(slots=True)
class _Solution:
    game: HunlSubgame
    result: SolveResult
    hand_of_combo: np.ndarray  # combo -> hand index, -1 where the board rules the combo out
    ranges: tuple[np.ndarray, np.ndarray]  # what it was solved from (kept for benchmarks that judge it)
    board: list[int]


@dataclass(slots=True)
class _Hand:
    seat: int = 0
    deal: int = 0
    history: list[tuple[State, Action]] = field(default_factory=list)
    likelihood: list[np.ndarray] = field(default_factory=list)  # P(action | combo) of each action in history
    solution: _Solution | None = None
    node: int = -1  # where the real hand stands in the solution's subgame
    pending: np.ndarray | None = None  # our strategy column for every hand, for the action just chosen


class SearchAgent:
    def __init__(self, blueprint: Blueprint, config: SearchConfig, name: str = "search") -> None:
        self.name = name
        self.config = config
        self.blueprint = blueprint
        self.game = blueprint.game
        self.abstraction = blueprint.game.abstraction
        # --search-sizes, else the training config's `search.bet_sizes`, else the blueprint's own sizes
        self.bet_sizes = config.bet_sizes or search_sizes_from_config(
            (blueprint.config or {}).get("search"), self.abstraction.bet_sizes
        )
        self.fallback = BlueprintAgent(blueprint, name)
        self.bpmap = BlueprintMap(self.game.tree, self.abstraction)
        self.cards = np.zeros((0, 9), dtype=np.int64)
        self.hand = _Hand()
        self.decisions: list[Decision] = []
        self._buckets: dict[tuple[int, ...], np.ndarray] = {}

    # ---- the Agent protocol
    def prepare(self, cards: np.ndarray) -> None:
        self.cards = np.asarray(cards, dtype=np.int64)
        self.fallback.prepare(cards)

    def begin_hand(self, seat: int, deal: int) -> None:
        self.fallback.begin_hand(seat, deal)
        self.hand = _Hand(seat=seat, deal=deal)

    def act(self, state: State, rng: random.Random) -> Action:
        if state.street < self.config.first_street:
            return self.fallback.act(state, rng)
        return self._search_act(state, rng)

    def observe(self, before: State, action: Action, rng: random.Random) -> None:
        self.fallback.observe(before, action, rng)
        h = self.hand
        mine = before.to_act == h.seat
        if mine and h.pending is not None:
            h.likelihood.append(h.pending)
        else:
            h.likelihood.append(self._blueprint_likelihood(h.history, before, action))
        h.pending = None
        h.history.append((before, action))
        if h.solution is not None and h.node >= 0:
            h.node = self._child(h.solution.game, h.node, action)

    def decide(self, spot: Spot, rng: random.Random) -> tuple[Action, dict[str, float]]:
        """Search one decision given as a spot (after the flop): the action chosen and the strategy the
        search found for the spot's hole cards, keyed by action (``c``, ``f``, ``r<to>``)."""
        if spot.state.street == 0:
            raise SpotError("search plays from the flop on; before it the blueprint plays")
        used = set(spot.hole) | set(spot.board)
        spare = [c for c in range(NUM_CARDS) if c not in used]
        cards = np.empty(9, dtype=np.int64)
        seat = spot.seat
        cards[2 * seat : 2 * seat + 2] = spot.hole
        cards[2 * (1 - seat) : 2 * (1 - seat) + 2] = spare[:2]  # never read: the search is for every hand
        board = list(spot.board) + spare[2 : 2 + 5 - len(spot.board)]
        cards[4:] = board
        self.prepare(cards[None, :])
        self.begin_hand(seat, 0)
        for before, action in spot.history:
            self.observe(before, action, rng)
        action = self._search_act(spot.state, rng)
        h = self.hand
        assert h.solution is not None
        g = h.solution.game
        strat = g.sub.node_strategy(h.solution.result.average, h.node)
        row = strat[h.solution.hand_of_combo[COMBO_INDEX[spot.hole[0], spot.hole[1]]]]
        return action, {a.letter(): float(p) for a, p in zip(g.actions[h.node], row)}

    # ---- ranges
    def board(self, street: int) -> list[int]:
        return self.cards[self.hand.deal, 4 : 4 + BOARD_CARDS[street]].tolist()

    def combo_buckets(self, street: int) -> np.ndarray:
        """The blueprint's bucket of every combo on this street of the current deal's board."""
        board = self.board(street)
        key = (street, *board)
        found = self._buckets.get(key)
        if found is None:
            b = self.game.buckets
            found = np.zeros(NUM_COMBOS, dtype=np.int64)
            dead = np.zeros(NUM_CARDS, dtype=np.bool_)
            dead[board] = True
            street_buckets(
                GAME_HUNL,
                street,
                np.array(board + [0] * (5 - len(board)), dtype=np.int64),
                len(board),
                COMBO_CARDS.astype(np.int64),
                dead,
                b.arrays(),
                np.zeros(5, dtype=np.int64),
                found,
            )
            if len(self._buckets) > 64:
                self._buckets.clear()
            self._buckets[key] = found
        return found

    def _blueprint_likelihood(self, history: list[tuple[State, Action]], before: State, action: Action) -> np.ndarray:
        """P(action | combo) under the blueprint, for every combo (1 where the hand has left the tree)."""
        node = self.bpmap.follow(history)
        if node == LOST or not self.bpmap.at(node, before):
            return np.ones(NUM_COMBOS)
        t = self.game.tree
        i = self.bpmap.action_index(node, before, action)
        slots = t.slot[node] + self.combo_buckets(before.street) * t.bucket_stride[node] + i
        return np.asarray(self.blueprint.policy[slots], dtype=np.float64)

    # ---- search
    def _child(self, g: HunlSubgame, node: int, action: Action) -> int:
        if int(g.sub.kind[node]) != DECISION or action not in g.actions[node]:
            return -1
        cs = int(g.sub.child_start[node])
        return int(g.sub.children[cs + g.actions[node].index(action)])

    def _search_act(self, state: State, rng: random.Random) -> Action:
        started = time.perf_counter()
        h = self.hand
        sol = h.solution
        reuse = (
            sol is not None
            and h.node >= 0
            and int(sol.game.sub.player[h.node]) == h.seat
            and sol.game.states[h.node] == state
        )
        if not reuse:
            sol = self._solve(state, started)
            h.solution, h.node = sol, sol.game.path[-1]
        assert sol is not None
        g = sol.game
        strat = g.sub.node_strategy(sol.result.average, h.node)
        mine = COMBO_INDEX[self.cards[h.deal, 2 * h.seat], self.cards[h.deal, 2 * h.seat + 1]]
        probs = strat[sol.hand_of_combo[mine]]
        u, i, acc = rng.random(), len(probs) - 1, 0.0
        for k, p in enumerate(probs.tolist()):
            acc += p
            if u < acc:
                i = k
                break
        column = np.zeros(NUM_COMBOS)
        live = sol.hand_of_combo >= 0
        column[live] = strat[sol.hand_of_combo[live], i]
        h.pending = column
        self.decisions.append(
            Decision(
                state.street,
                time.perf_counter() - started,
                sol.result.iterations if not reuse else 0,
                g.sub.n_nodes,
                not reuse,
            )
        )
        return g.actions[h.node][i]

    def _solve(self, state: State, started: float) -> _Solution:
        h = self.hand
        street = state.street
        in_street = [(s, a) for s, a in h.history if s.street == street]
        fresh = not any(s.to_act == h.seat for s, _ in in_street)
        if fresh and in_street:  # from the start of the street, with what the opponent did since
            root, real, before_root = in_street[0][0], [a for _, a in in_street], len(h.history) - len(in_street)
        else:
            root, real, before_root = state, [], len(h.history)
        prior = h.history[:before_root]
        bp_root = self.bpmap.follow(prior)
        # ranges at the root: the likelihoods along the history before it
        lik = np.ones((2, NUM_COMBOS))
        for (s, _), x in zip(prior, h.likelihood):
            lik[s.to_act] *= x
        board = self.board(street)
        leaf_bucket = self.combo_buckets(street)
        hands, combos = hunl_hands(board, leaf_bucket)
        hand_of_combo = np.full(NUM_COMBOS, -1, dtype=np.int64)
        hand_of_combo[combos] = np.arange(len(combos))
        sizes = self.bet_sizes[street]
        searcher = h.seat
        seed = int(self.cards[h.deal, :].sum()) * 7919 + len(h.history)

        ms = self.config.solve.ms
        deadline = None if ms is None else started + LEAF_SHARE * ms / 1000.0

        def leaves_of(leaves):
            return leaf_tables(
                self.game,
                self.blueprint.policy,
                board,
                searcher,
                leaves,
                self.config.leaf_deals,
                seed,
                deadline,
                self.config.solve.workers,
                hands if self.config.leaf_checkdown else None,
            )

        g = build_hunl_subgame(
            root,
            real,
            sizes,
            self.abstraction.max_raises[street],
            searcher,
            hands,
            combos,
            self.bpmap,
            bp_root,
            leaves_of,
            self.config.leaf_card_removal,
        )
        ranges = (lik[0][combos], lik[1][combos])
        mine = ranges[searcher]
        if mine.sum() <= 0:
            mine = np.ones_like(mine)
        if ranges[1 - searcher].sum() <= 0:
            ranges = (np.ones_like(mine), np.ones_like(mine))
        ranges = (mine, ranges[1]) if searcher == 0 else (ranges[0], mine)
        alt = gadget_values(g.sub, self.blueprint_strategy(g), mine)
        result = solve(g.sub, ranges, alt, self.config.solve, started=started)
        return _Solution(g, result, hand_of_combo, ranges, board)

    def blueprint_strategy(self, g: HunlSubgame) -> np.ndarray:
        """The blueprint's strategy at every subgame decision (by the hands' buckets on the subgame's
        street), mapped onto the subgame's actions; uniform where the tree and the hand part."""
        t = self.game.tree
        bucket_of_hand = g.sub.hands.leaf_bucket
        out = np.zeros(g.sub.n_slots)
        for n in np.flatnonzero(g.sub.kind == DECISION).tolist():
            view = g.sub.node_strategy(out, n)
            bp = int(g.bp_node[n])
            state = g.states[n]
            if bp == LOST or not self.bpmap.at(bp, state):
                view[:] = 1.0 / view.shape[1]
                continue
            menu = self.bpmap.menu(bp)
            here = self.bpmap.state(bp)
            acts = g.actions[n]
            rows = self.blueprint.policy[
                t.slot[bp] + bucket_of_hand[:, None] * t.bucket_stride[bp] + np.arange(len(menu))[None, :]
            ]
            for i, a in enumerate(menu):
                view[:, _nearest(acts, state, here, a)] += rows[:, i]
        return out


def _nearest(acts: tuple[Action, ...], state: State, abstract: State, a: Action) -> int:
    """The subgame action standing for the blueprint's action ``a`` (raises by pot fraction)."""
    kinds = [x.kind for x in acts]
    if a.kind != Kind.RAISE or Kind.RAISE not in kinds:
        return kinds.index(a.kind) if a.kind in kinds else kinds.index(Kind.CHECK_CALL)
    legal = abstract.legal()
    to = (
        state.legal().max_raise_to
        if a.to == legal.max_raise_to
        else raise_to_for_fraction(state, pot_fraction(abstract, a.to))
    )
    raises = [i for i, x in enumerate(acts) if x.kind == Kind.RAISE]
    return min(raises, key=lambda i: abs(acts[i].to - (to or 0)))

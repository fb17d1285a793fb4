"""Search in the small games (Kuhn, Leduc), on the real cards, and the whole policy it plays.

Hands are single cards (Kuhn J Q K; Leduc's six cards, suits kept so card removal is exact). Ranges
are each player's reach of every card under the blueprint along the history (Bayes: the prior is
uniform, the deal's card removal is in the solver). A subgame runs from the search root to the end of
its round: in Leduc's first round the depth limit is the start of the second, where the non-searcher
picks one of K continuation strategies (the blueprint, or biased to fold, call or raise) and the value
is the blueprint continuation's exact expectation over the board card; the last round is solved to
showdown.

``searched_policy`` is what search plays at every infoset: at its first decision in a round each player
solves the subgame from the start of that round (through the re-solve gadget unless that is the start
of the game, see ``kernel``) and plays that solution for the rest of the round, as the agent does when
the opponent's actions are in the subgame. Its own range follows what it played in earlier rounds.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from holdem.games.tree import DECISION, LEAF, Game
from holdem.search.solve import SolveOptions, gadget_values, solve
from holdem.search.subgame import K_CONTINUATIONS, Hands, Subgame, SubgameBuilder, bias_strategy
from holdem.solver.tree_values import tree_values

RANKS = "JQK"


@dataclass(frozen=True, slots=True)
class CardGame:
    """How a small game's cards read: how many, their rank, their bucket on a street."""

    name: str
    n_cards: int
    suits: int

    def rank(self, card: int) -> int:
        return card // self.suits

    def bucket(self, card: int, street: int, board: int | None) -> int:
        if street == 0 or board is None:
            return self.rank(card)
        return self.rank(card) * 3 + self.rank(board)

    def hands(self, board: int | None) -> Hands:
        cards = [c for c in range(self.n_cards) if c != board]
        strength = []
        for c in cards:
            pair = board is not None and self.rank(c) == self.rank(board)
            strength.append(10 + self.rank(c) if pair else self.rank(c))
        suits = "sh" if self.suits == 2 else ""
        labels = tuple(RANKS[self.rank(c)] + (suits[c % 2] if suits else "") for c in cards)
        arr = np.array([[c, -1] for c in cards], dtype=np.int64)
        return Hands(arr, np.array(strength, dtype=np.int64), arr[:, 0].copy(), labels)


def card_game(game: Game) -> CardGame:
    if game.name == "kuhn":
        return CardGame("kuhn", 3, 1)
    if game.name == "leduc":
        return CardGame("leduc", 6, 2)
    raise ValueError(f"small-game search plays Kuhn and Leduc, not {game.name!r}")


def path_to(game: Game, node: int) -> list[tuple[int, int]]:
    """(ancestor, index of the action taken there) from the root down to ``node``."""
    t = game.tree
    out = []
    while t.parent[node] >= 0:
        parent = int(t.parent[node])
        kids = t.children[t.child_start[parent] : t.child_start[parent] + t.num_children[parent]]
        out.append((parent, int(np.flatnonzero(kids == node)[0])))
        node = parent
    return out[::-1]


def ranges(
    game: Game, policies: tuple[np.ndarray, np.ndarray], node: int, hands: Hands, board: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Both players' reach of every hand at ``node``, player q's by ``policies[q]`` (Bayes, unnormalised)."""
    cg = card_game(game)
    t = game.tree
    r = np.ones((2, hands.n))
    for anc, i in path_to(game, node):
        q, st = int(t.player[anc]), int(t.street[anc])
        for h, c in enumerate(hands.cards[:, 0].tolist()):
            r[q, h] *= policies[q][t.offset(anc, cg.bucket(c, st, board)) + i]
    return r[0], r[1]


def _biased(game: Game, policy: np.ndarray, player: int, bias: int) -> np.ndarray:
    t = game.tree
    out = policy.copy()
    for n in t.decision_nodes():
        if int(t.player[n]) != player:
            continue
        slots = t.node_slots(int(n))
        kids = t.children[t.child_start[n] : t.child_start[n] + t.num_children[n]]
        out[slots] = bias_strategy(policy[slots], t.action[kids].astype(np.int64), bias)
    return out


def continuation_values(game: Game, policy: np.ndarray, searcher: int) -> np.ndarray:
    """[K, nodes, cards, cards]: player 0's expected chips from every node on, over the rest of the deal,
    when the searcher plays the blueprint and the other player continuation strategy k."""
    cg = card_game(game)
    t, dl = game.tree, game.deals
    out = np.zeros((K_CONTINUATIONS, t.n_nodes, cg.n_cards, cg.n_cards))
    rank_of = np.array([cg.rank(c) for c in range(cg.n_cards)])
    for k in range(K_CONTINUATIONS):
        values = np.zeros((t.n_nodes, dl.n_deals))
        reach = np.zeros((t.n_nodes, dl.n_deals))
        tree_values(0, False, t.arrays(), dl.arrays(), _biased(game, policy, 1 - searcher, k), reach, values)
        # average over the deals that share both players' first-round buckets (their ranks)
        r0, r1 = dl.buckets[:, 0, 0], dl.buckets[:, 1, 0]
        by_rank = np.zeros((t.n_nodes, 3, 3))
        weight = np.zeros((3, 3))
        np.add.at(weight, (r0, r1), dl.prob)
        for a in range(3):
            for b in range(3):
                sel = (r0 == a) & (r1 == b)
                if weight[a, b] > 0:
                    by_rank[:, a, b] = values[:, sel] @ dl.prob[sel] / weight[a, b]
        out[k] = by_rank[:, rank_of][:, :, rank_of]
    return out


def build_subgame(game: Game, root: int, searcher: int, board: int | None, continuation: np.ndarray | None) -> Subgame:
    """The subgame from game node ``root`` to the end of its round (see the module docstring)."""
    cg = card_game(game)
    t = game.tree
    street = int(t.street[root])
    b = SubgameBuilder()
    leaves: list[int] = []
    stack: list[tuple[int, int, str]] = [(root, -1, "")]
    while stack:
        gn, parent, label = stack.pop()
        contrib = (float(t.contrib[gn, 0]), float(t.contrib[gn, 1]))
        if int(t.street[gn]) > street:  # the next round starts: depth limit
            if continuation is None:
                raise ValueError("a depth-limited subgame needs continuation values")
            choice = b.add(DECISION, 1 - searcher, parent, contrib, label + "|")
            for k in range(K_CONTINUATIONS):
                b.add(LEAF, -1, choice, contrib, f"{label}|{k}", table=len(leaves) * K_CONTINUATIONS + k)
            leaves.append(gn)
            continue
        me = b.add(int(t.kind[gn]), int(t.player[gn]), parent, contrib, label, origin=gn)
        if int(t.kind[gn]) == DECISION:
            kids = t.children[t.child_start[gn] : t.child_start[gn] + t.num_children[gn]].tolist()
            for c in reversed(kids):
                stack.append((int(c), me, t.history[int(c)][len(t.history[root]) :]))
    hands = cg.hands(board)
    if leaves:
        assert continuation is not None
        tables = continuation[:, leaves].transpose(1, 0, 2, 3).reshape(-1, cg.n_cards, cg.n_cards)
    else:
        tables = np.zeros((0, cg.n_cards, cg.n_cards))
    return b.build(hands, tables, searcher)


def _assert_preorder(sub: Subgame) -> None:
    """Every child after its parent: the kernels sweep forwards and backwards by index."""
    parent_ok = all(
        int(c) > n
        for n in range(sub.n_nodes)
        for c in sub.children[sub.child_start[n] : sub.child_start[n] + sub.num_children[n]]
    )
    if not parent_ok:
        raise AssertionError("subgame nodes are not in preorder")


def blueprint_in_subgame(game: Game, sub: Subgame, policy: np.ndarray, board: int | None) -> np.ndarray:
    """The blueprint's strategy at every game-tree node of the subgame, for every hand (slot layout)."""
    cg = card_game(game)
    t = game.tree
    out = np.zeros(sub.n_slots)
    for n in np.flatnonzero(sub.kind == DECISION).tolist():
        view = sub.node_strategy(out, n)
        gn = int(sub.origin[n])
        if gn < 0:
            view[:] = 1.0 / view.shape[1]
            continue
        for h, c in enumerate(sub.hands.cards[:, 0].tolist()):
            o = t.offset(gn, cg.bucket(c, int(t.street[gn]), board))
            view[h] = policy[o : o + view.shape[1]]
    return out


def street_roots(game: Game) -> list[int]:
    """The first node of every round: where both players search from."""
    t = game.tree
    return [n for n in t.decision_nodes().tolist() if n == 0 or int(t.street[t.parent[n]]) < int(t.street[n])]


def search_once(
    game: Game,
    policy: np.ndarray,
    root: int,
    searcher: int,
    board: int | None,
    options: SolveOptions,
    continuation: dict[int, np.ndarray] | None = None,
    played: np.ndarray | None = None,
):
    """Solve the subgame at ``root`` for ``searcher``; returns (subgame, solve result).

    ``played`` is the strategy the searcher actually played before (its searched policy): its own range
    follows it, as it knows what it did with every hand; the other's range follows the blueprint."""
    own = policy if played is None else played
    cont = continuation[searcher] if continuation else None
    if cont is None and game.name == "leduc" and int(game.tree.street[root]) == 0:
        cont = continuation_values(game, policy, searcher)
    sub = build_subgame(game, root, searcher, board, cont)
    _assert_preorder(sub)
    r0, r1 = ranges(game, (own, policy) if searcher == 0 else (policy, own), root, sub.hands, board)
    for r in (r0, r1):
        if r.sum() <= 0:  # a history the blueprint never plays: every hand stays possible
            r[:] = 1.0
    alt = None
    if root != 0:
        mine = (r0, r1)[searcher]
        alt = gadget_values(sub, blueprint_in_subgame(game, sub, policy, board), mine)
    return sub, solve(sub, (r0, r1), alt, options)


def searched_policy(game: Game, policy: np.ndarray, options: SolveOptions) -> tuple[np.ndarray, int]:
    """The policy search plays at every infoset, in the game's slot layout; and the searches it took."""
    cg = card_game(game)
    t = game.tree
    out = np.array(policy, dtype=np.float64, copy=True)
    continuation = None
    if game.name == "leduc":
        continuation = {p: continuation_values(game, policy, p) for p in (0, 1)}
    count = 0
    for root in sorted(street_roots(game), key=lambda n: int(t.street[n])):  # earlier rounds first
        street = int(t.street[root])
        boards = [None] if street == 0 else [r * cg.suits for r in range(3)]
        for board, searcher in itertools.product(boards, (0, 1)):
            sub, res = search_once(game, policy, root, searcher, board, options, continuation, played=out)
            count += 1
            for n in np.flatnonzero((sub.kind == DECISION) & (sub.player == sub.searcher)).tolist():
                gn = int(sub.origin[n])
                if gn < 0:
                    continue
                strat = sub.node_strategy(res.average, n)
                buckets = np.array([cg.bucket(c, street, board) for c in sub.hands.cards[:, 0].tolist()])
                for bk in np.unique(buckets).tolist():
                    o = t.offset(gn, bk)
                    out[o : o + strat.shape[1]] = strat[buckets == bk].mean(axis=0)
    return out, count

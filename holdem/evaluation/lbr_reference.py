"""A plain-Python twin of local best response for Leduc (Lisý & Bowling, 2017), and LBR's exact value.

It states the rules of ``lbr_kernels`` for a game small enough to read: a range over the opponent's six
possible cards, Bayes after each opponent action, equity by enumeration of the public card, and the
values of fold, call and raise (see ``lbr_kernels``). ``play_hand`` consumes the same random draws as
the kernel, so the tests can ask for identical results hand by hand. ``exact_lbr`` enumerates all 120
deals and the blueprint's actions with their probabilities instead of sampling them: the exact
expected winnings of LBR in each seat, which the sampled figure estimates and which can never exceed
the best response's value in that seat.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from holdem.abstraction.hand_kernels import deal_cards, seed_stream
from holdem.evaluation import lbr_kernels as K
from holdem.games.tree import DECISION, FOLD, ActionKind, Game
from holdem.rng import uniform

CARDS = range(6)  # card >> 1 is the rank: J J Q Q K K


def _strength(card: int, board: int) -> int:
    rank = card >> 1
    return 100 + rank if rank == board >> 1 else rank


def _bucket(card: int, street: int, board: int) -> int:
    return card >> 1 if street == 0 else (card >> 1) * 3 + (board >> 1)


def equities(me: int, board: int | None, weight: list[float]) -> list[float]:
    """My showdown equity against each opponent card with weight, over the public cards still to come."""
    eq = [0.5] * 6
    for h in CARDS:
        if weight[h] <= 0.0:
            continue
        boards = [board] if board is not None else [x for x in CARDS if x not in (me, h)]
        win = 0.0
        for b in boards:
            mine, theirs = _strength(me, b), _strength(h, b)
            win += 1.0 if mine > theirs else 0.5 if mine == theirs else 0.0
        eq[h] = win / len(boards)
    return eq


def lbr_action(
    game: Game,
    policy: np.ndarray,
    variant: int,
    node: int,
    me: int,
    my_card: int,
    board: int | None,
    weight: list[float],
) -> int:
    """The child index LBR plays at `node` (the kernel's rules, in the kernel's order of arithmetic)."""
    t = game.tree
    cs, na, opp = int(t.child_start[node]), int(t.num_children[node]), 1 - me
    kids = [int(t.children[cs + a]) for a in range(na)]
    kind_of = [int(t.action[c]) for c in kids]
    call = kind_of.index(ActionKind.CALL)
    fold = kind_of.index(ActionKind.FOLD) if ActionKind.FOLD in kind_of else -1
    raises: list[int] = []
    if variant == K.VARIANT_FCPA:
        c_opp = float(t.contrib[node, opp])
        options = [a for a in range(na) if kind_of[a] == ActionKind.RAISE]
        if options:
            nearest = min(options, key=lambda a: (abs((t.contrib[kids[a], me] - c_opp) / (2.0 * c_opp) - 1.0), a))
            raises = [nearest] + ([options[-1]] if options[-1] != nearest else [])
    if fold < 0 and not raises:
        return call
    eq = equities(my_card, board, weight)
    total, e = 0.0, 0.0
    for h in CARDS:
        if weight[h] > 0.0:
            total += weight[h]
            e += weight[h] * eq[h]
    e /= total
    best, best_value = call, (2.0 * e - 1.0) * t.contrib[kids[call], me]
    street = int(t.street[node])
    for a in raises:
        c = kids[a]
        has_fold = t.kind[c] == DECISION and t.action[t.children[t.child_start[c]]] == ActionKind.FOLD
        fold_mass, stay, stay_e = 0.0, 0.0, 0.0
        for h in CARDS:
            w = weight[h]
            if w <= 0.0:
                continue
            pf = policy[t.slot[c] + _bucket(h, street, board or 0) * t.bucket_stride[c]] if has_fold else 0.0
            fold_mass += w * pf
            stay += w * (1.0 - pf)
            stay_e += w * (1.0 - pf) * eq[h]
        fp = fold_mass / total
        e_stay = stay_e / stay if stay > 0.0 else 0.0
        value = fp * t.contrib[node, opp] + (1.0 - fp) * (2.0 * e_stay - 1.0) * t.contrib[c, me]
        if value > best_value:
            best, best_value = a, value
    if fold >= 0 and -t.contrib[node, me] > best_value:
        best = fold
    return best


def _updated(weight: list[float], probs: list[float]) -> list[float]:
    """Bayes: each live card's weight times the probability it gave the action, renormalised."""
    out = [w * p if w > 0.0 else w for w, p in zip(weight, probs)]
    total = sum(w for w in out if w > 0.0)
    return [w / total for w in out] if total > 0.0 else out


def _payoff(game: Game, node: int, me: int, my_card: int, opp_card: int, board: int) -> float:
    t = game.tree
    opp = 1 - me
    if t.kind[node] == FOLD:
        return float(t.contrib[node, opp]) if t.player[node] == opp else -float(t.contrib[node, me])
    mine, theirs = _strength(my_card, board), _strength(opp_card, board)
    return float(t.contrib[node, opp]) if mine > theirs else -float(t.contrib[node, me]) if mine < theirs else 0.0


def _action_probs(game: Game, policy: np.ndarray, node: int, street: int, board: int | None, a: int) -> list[float]:
    t = game.tree
    return [float(policy[t.slot[node] + _bucket(h, street, board or 0) * t.bucket_stride[node] + a]) for h in CARDS]


def play_hand(game: Game, policy: np.ndarray, variant: int, seed: int, deal: int, me: int) -> float:
    """LBR's chips in seat `me` on deal `deal`, with the kernel's random draws."""
    t = game.tree
    rng = np.empty(4, dtype=np.uint64)
    cards = np.empty(5, dtype=np.int64)
    seed_stream(rng, seed, deal, 2)
    deal_cards(rng, 6, 1, np.empty(6, dtype=np.int64), cards)
    seed_stream(rng, seed, deal, me)
    my_card, opp_card, public = int(cards[2 * me]), int(cards[2 * (1 - me)]), int(cards[4])
    weight = [0.0 if h == my_card else 1.0 for h in CARDS]
    node = 0
    while t.kind[node] == DECISION:
        street = int(t.street[node])
        board = public if street == 1 else None
        if board is not None:
            weight[board] = 0.0
        cs, na = int(t.child_start[node]), int(t.num_children[node])
        if t.player[node] == me:
            a = lbr_action(game, policy, variant, node, me, my_card, board, weight)
        else:
            o = int(t.slot[node]) + _bucket(opp_card, street, public) * int(t.bucket_stride[node])
            u, acc, a = uniform(rng), 0.0, -1
            for k in range(na):
                if policy[o + k] > 0.0:
                    a, acc = k, acc + policy[o + k]
                    if u < acc:
                        break
            weight = _updated(weight, _action_probs(game, policy, node, street, board, a))
        node = int(t.children[cs + a])
    if t.kind[node] == FOLD:
        return _payoff(game, node, me, my_card, opp_card, public)
    # the kernel's showdown: LBR's expectation against the opponent's range (the same mean, less noise)
    weight[public] = 0.0
    eq = equities(my_card, public, weight)
    total = v = 0.0
    for h in CARDS:
        if weight[h] > 0.0:
            total += weight[h]
            v += weight[h] * (2.0 * eq[h] - 1.0)
    return v / total * float(t.contrib[node, me])


@dataclass(frozen=True, slots=True)
class _Deal:
    """LBR's seat, both private cards as seen from it, and the public card."""

    me: int
    my_card: int
    opp_card: int
    public: int


def exact_lbr(game: Game, policy: np.ndarray, variant: int) -> tuple[float, float]:
    """LBR's exact expected chips in seat 0 and seat 1: every deal, every blueprint action weighted."""
    values = []
    for me in range(2):
        total = 0.0
        deals = list(itertools.permutations(CARDS, 3))
        for c0, c1, public in deals:
            my_card, opp_card = (c0, c1) if me == 0 else (c1, c0)
            deal = _Deal(me, my_card, opp_card, public)
            total += _exact_value(game, policy, variant, deal, 0, [0.0 if h == deal.my_card else 1.0 for h in CARDS])
        values.append(total / len(deals))
    return values[0], values[1]


def _exact_value(game: Game, policy: np.ndarray, variant: int, deal: _Deal, node: int, weight: list[float]) -> float:
    """LBR's expected chips from ``node`` on, the blueprint's actions weighted by their probabilities."""
    t = game.tree
    me, my_card, opp_card, public = deal.me, deal.my_card, deal.opp_card, deal.public
    if t.kind[node] != DECISION:
        return _payoff(game, node, me, my_card, opp_card, public)
    street = int(t.street[node])
    board = public if street == 1 else None
    if board is not None and weight[board] != 0.0:
        weight = list(weight)
        weight[board] = 0.0
    cs, na = int(t.child_start[node]), int(t.num_children[node])
    if t.player[node] == me:
        a = lbr_action(game, policy, variant, node, me, my_card, board, weight)
        return _exact_value(game, policy, variant, deal, int(t.children[cs + a]), weight)
    o = int(t.slot[node]) + _bucket(opp_card, street, public) * int(t.bucket_stride[node])
    v = 0.0
    for a in range(na):
        p = float(policy[o + a])
        if p > 0.0:
            child_weight = _updated(weight, _action_probs(game, policy, node, street, board, a))
            v += p * _exact_value(game, policy, variant, deal, int(t.children[cs + a]), child_weight)
    return v

"""Numba kernels of local best response (Lisý & Bowling, "Equilibrium Approximation Quality of Current
No-Limit Poker Bots", 2017): one LBR hand per (deal, seat), pure functions of arrays and scalars.

The LBR player walks the blueprint's own betting tree. It keeps the opponent's range (a weight per
hole hand: 1,326 two-card combos in hold'em, 6 cards in Leduc) and updates it by Bayes after every
opponent action, with the action's probability in the bucket each hand falls in on that street. At its
own decision it values, against that range and assuming both players check or call to the showdown
afterwards: fold (-its chips in), call ((2e - 1) x the chips each has in after the call, e its
equity), and (variant fcpa) raises: fp x the opponent's chips in + (1 - fp) x (2e' - 1) x the chips
after the raise is called, fp the range's fold probability at the node the raise leads to and e' the
equity against the range that does not fold. It plays the best (ties: call, then raise, then fold).

Equities, buckets and deals come from ``abstraction.hand_kernels``. Every draw of a deal comes from xoshiro256**
streams seeded from (seed, deal, seat), so a deal's result never depends on which worker played it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from holdem.abstraction.hand_kernels import (
    GAME_LEDUC,
    deal_cards,
    equity_vector,
    hand_scratch,
    runout_odds,
    seed_stream,
    street_buckets,
)
from holdem.cards import combo_index
from holdem.games.tree import DECISION, FOLD, ActionKind
from holdem.rng import uniform

VARIANT_FC, VARIANT_FCPA = 0, 1


@njit(cache=True)
def lbr_choice(variant, node, me, tree, policy, weight, buckets, eq):
    """The child index LBR plays at its decision `node`, given the range `weight` and `eq` (see the
    module docstring for the values); eq is read only where a value needs it."""
    action, children, contrib = tree.action, tree.children, tree.contrib
    opp = 1 - me
    cs = tree.child_start[node]
    na = tree.num_children[node]
    call = -1
    fold = -1
    for a in range(na):
        act = action[children[cs + a]]
        if act == ActionKind.CALL:
            call = a
        elif act == ActionKind.FOLD:
            fold = a
    raises = np.full(2, -1, dtype=np.int64)
    if variant == VARIANT_FCPA:
        c_opp = contrib[node, opp]
        best_gap = np.inf
        for a in range(na):
            c = children[cs + a]
            if action[c] != ActionKind.RAISE:
                continue
            frac = (contrib[c, me] - c_opp) / (2.0 * c_opp)  # beyond the call, over the pot after it
            if abs(frac - 1.0) < best_gap:
                best_gap = abs(frac - 1.0)
                raises[0] = a
            raises[1] = a  # children come in ascending size: the last raise is the largest
        if raises[1] == raises[0]:
            raises[1] = -1
    if fold < 0 and raises[0] < 0:
        return call
    total = 0.0
    e = 0.0
    for h in range(weight.shape[0]):
        if weight[h] > 0.0:
            total += weight[h]
            e += weight[h] * eq[h]
    e /= total
    best = call
    best_value = (2.0 * e - 1.0) * contrib[children[cs + call], me]
    for k in range(2):
        a = raises[k]
        if a < 0:
            continue
        c = children[cs + a]
        fold_mass = 0.0
        stay = 0.0
        stay_e = 0.0
        fc = tree.slot[c]
        has_fold = tree.kind[c] == DECISION and action[children[tree.child_start[c]]] == ActionKind.FOLD
        for h in range(weight.shape[0]):
            w = weight[h]
            if w <= 0.0:
                continue
            pf = policy[fc + buckets[h] * tree.bucket_stride[c]] if has_fold else 0.0  # a raise stays on the street
            fold_mass += w * pf
            stay += w * (1.0 - pf)
            stay_e += w * (1.0 - pf) * eq[h]
        fp = fold_mass / total
        e_stay = stay_e / stay if stay > 0.0 else 0.0
        value = fp * contrib[node, opp] + (1.0 - fp) * (2.0 * e_stay - 1.0) * contrib[c, me]
        if value > best_value:
            best, best_value = a, value
    if fold >= 0 and -contrib[node, me] > best_value:
        best = fold
    return best


@njit(cache=True)
def lbr_hand(deck, tables, variant, me, cards, tree, policy, samples, rng, work):
    """LBR in seat `me` plays one hand of the deal `cards` against the blueprint; its chips won. ``deck``:
    the game's cards (``hand_kernels.Deck``), ``tables``: its ``BucketArrays``, ``work``: a HandScratch."""
    kind, street, children, contrib = tree.kind, tree.street, tree.children, tree.contrib
    slot, stride = tree.slot, tree.bucket_stride
    hand_cards, board_count = deck.hands, deck.board_count
    weight, buckets, dead, eq = work.weight, work.buckets, work.dead, work.eq
    opp = 1 - me
    n = hand_cards.shape[0]
    my0, my1 = cards[2 * me], cards[2 * me + 1]
    o0, o1 = cards[2 * opp], cards[2 * opp + 1]
    opp_hand = o0 if deck.game == GAME_LEDUC else combo_index(o0, o1)
    board = cards[4:]
    for x in range(deck.n_cards):
        dead[x] = False
    dead[my0] = True
    dead[my1] = True
    for h in range(n):
        weight[h] = 0.0 if dead[hand_cards[h, 0]] or dead[hand_cards[h, 1]] else 1.0
    node = 0
    cur = -1
    while kind[node] == DECISION:
        s = street[node]
        if s != cur:
            for i in range(board_count[max(cur, 0)], board_count[s]):
                dead[board[i]] = True
            for h in range(n):
                if dead[hand_cards[h, 0]] or dead[hand_cards[h, 1]]:
                    weight[h] = 0.0
            street_buckets(deck.game, s, board, board_count[s], hand_cards, dead, tables, work.sorted_board, buckets)
            cur = s
        na = tree.num_children[node]
        cs = tree.child_start[node]
        if tree.player[node] == me:
            can_raise = variant == VARIANT_FCPA and tree.action[children[cs + na - 1]] == ActionKind.RAISE
            if can_raise or tree.action[children[cs]] == ActionKind.FOLD:  # a free check needs no equity
                equity_vector(deck, my0, my1, board, board_count[s], samples, rng, work)
            a = lbr_choice(variant, node, me, tree, policy, weight, buckets, eq)
        else:
            o = slot[node] + buckets[opp_hand] * stride[node]
            u = uniform(rng)
            a = -1
            acc = 0.0
            for k in range(na):
                p = policy[o + k]
                if p > 0.0:
                    a = k
                    acc += p
                    if u < acc:
                        break
            total = 0.0
            for h in range(n):
                if weight[h] > 0.0:
                    weight[h] *= policy[slot[node] + buckets[h] * stride[node] + a]
                    total += weight[h]
            if total > 0.0:  # it always is: the opponent's own hand gave the action a positive weight
                for h in range(n):
                    weight[h] /= total
        node = children[cs + a]
    if kind[node] == FOLD:
        return contrib[node, opp] if tree.player[node] == opp else -contrib[node, me]
    n_known = board_count[street[node]]
    if n_known < deck.n_board:  # all-in before the river: score the expectation over the runout (same mean, less noise)
        dead[o0] = True
        dead[o1] = True
        won, lost = runout_odds(deck, my0, my1, o0, o1, board, n_known, samples, rng, work)
        return won * contrib[node, opp] - lost * contrib[node, me]
    # A showdown on the full board: score LBR's expectation against the opponent's range instead of the one
    # hand it holds. The range is the posterior of that hand given all LBR saw (its cards, the board, the
    # opponent's actions), so the mean is the same and the showdown's coin flip leaves the figure's noise.
    equity_vector(deck, my0, my1, board, n_known, samples, rng, work)
    total = 0.0
    v = 0.0
    for h in range(n):
        if weight[h] > 0.0:
            total += weight[h]
            v += weight[h] * (2.0 * eq[h] - 1.0)
    return v / total * contrib[node, me]  # both have the same chips in at a showdown


@njit(cache=True, nogil=True)
def lbr_deals(deck, tables, variant, seed, first_deal, tree, policy, samples, out):
    """out[i, seat] = LBR's chips won in seat `seat` on deal first_deal + i (each deal played in both seats,
    the cards staying with their seat: the duplicate scheme)."""
    rng = np.empty(4, dtype=np.uint64)
    pack = np.empty(deck.n_cards, dtype=np.int64)
    cards = np.empty(4 + deck.n_board, dtype=np.int64)
    work = hand_scratch(deck)
    for i in range(out.shape[0]):
        d = first_deal + i
        seed_stream(rng, seed, d, 2)
        deal_cards(rng, deck.n_cards, deck.n_board, pack, cards)
        for me in range(2):
            seed_stream(rng, seed, d, me)
            out[i, me] = lbr_hand(deck, tables, variant, me, cards, tree, policy, samples, rng, work)

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

Equity of the LBR hand against every opponent hand is exact over the remaining board cards (flop:
1,081 runouts, turn: 46, river: 1; Leduc: the one public card), and over ``samples`` random boards
before the flop of hold'em (1.7 M runouts would be too many per decision). Every draw comes from a
xoshiro256** stream seeded from (seed, deal, seat), so a deal's result never depends on which worker
played it.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

from holdem.abstraction.isomorphism import colex_rank, combo_index, sort_small
# The evaluator's key tables (see holdem.evaluator): the hot loop here adds two card keys to a board's sum.
from holdem.evaluator import _CARD_KEY, _FLUSH_BIAS, _FLUSH_BITS, _OFFSET7, _RANK7, _ROW_SHIFT, _SUIT_BITS, evaluate7
from holdem.solver.rng import next_u64, uniform

GAME_LEDUC, GAME_HUNL = 0, 1
VARIANT_FC, VARIANT_FCPA = 0, 1
_DECISION, _FOLD = 0, 1
_A_FOLD, _A_CALL, _A_RAISE = 0, 1, 2


@njit(cache=True, inline="always")
def _splitmix(x):
    z = x + uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> uint64(30))) * uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> uint64(27))) * uint64(0x94D049BB133111EB)
    return z ^ (z >> uint64(31))


@njit(cache=True)
def seed_stream(rng, seed, deal, stream):
    """rng (uint64[4]) := the xoshiro state of (seed, deal, stream); streams 0, 1 are the seats, 2 the deal."""
    x = _splitmix(_splitmix(uint64(seed)) ^ _splitmix(uint64(deal) * uint64(4) + uint64(stream)))
    for i in range(4):
        x = _splitmix(x)
        rng[i] = x
    if rng[0] == 0 and rng[1] == 0 and rng[2] == 0 and rng[3] == 0:
        rng[0] = uint64(1)


@njit(cache=True)
def deal_cards(rng, n_cards, n_board, deck, cards):
    """cards := seat 0's hole, seat 1's hole (2 slots each; Leduc repeats its one card), then the board."""
    for i in range(n_cards):
        deck[i] = i
    hole = 2 if n_cards == 52 else 1
    n = 2 * hole + n_board
    for i in range(n):
        j = i + np.int64(next_u64(rng) % uint64(n_cards - i))
        t = deck[i]
        deck[i] = deck[j]
        deck[j] = t
    if hole == 2:
        for i in range(4):
            cards[i] = deck[i]
    else:
        cards[0] = deck[0]
        cards[1] = deck[0]
        cards[2] = deck[1]
        cards[3] = deck[1]
    for i in range(n_board):
        cards[4 + i] = deck[2 * hole + i]


@njit(cache=True, inline="always")
def strength(game, c0, c1, board):
    """Showdown strength of a hole hand on the full board (higher wins): the 7-card rank, or Leduc's
    pair-with-the-board-then-rank (card >> 1 is a Leduc card's rank)."""
    if game == GAME_HUNL:
        return evaluate7(c0, c1, board[0], board[1], board[2], board[3], board[4])
    r = c0 >> 1
    return 100 + r if r == board[0] >> 1 else r


@njit(cache=True)
def street_buckets(game, street, board, n_known, hand_cards, dead, binom, card_perms, preflop, flop, turn, river,
                   b3_id, b3_perm, b4_id, b4_perm, b5_id, b5_perm, sorted_board, out):
    """out[h] = the bucket hand h falls in on this street (0 for hands the dead cards rule out)."""
    n = hand_cards.shape[0]
    if game == GAME_LEDUC:
        for h in range(n):
            r = hand_cards[h, 0] >> 1
            out[h] = r if street == 0 else r * 3 + (board[0] >> 1)
        return
    if street == 0:
        for h in range(n):
            out[h] = preflop[h]  # hand_cards lists the combos in colex order: row h is combo h
        return
    for i in range(n_known):
        sorted_board[i] = board[i]
    sort_small(sorted_board, n_known)
    r = colex_rank(sorted_board, n_known, binom)
    for h in range(n):
        a = hand_cards[h, 0]
        b = hand_cards[h, 1]
        if dead[a] or dead[b]:
            out[h] = 0
        elif n_known == 3:
            q = b3_perm[r]
            out[h] = flop[b3_id[r], combo_index(card_perms[q, a], card_perms[q, b])]
        elif n_known == 4:
            q = b4_perm[r]
            out[h] = turn[b4_id[r], combo_index(card_perms[q, a], card_perms[q, b])]
        else:
            q = b5_perm[r]
            out[h] = river[b5_id[r], combo_index(card_perms[q, a], card_perms[q, b])]


@njit(cache=True, inline="always")
def _rank7(key, a, b, board):
    """evaluate7(a, b, *board) from the 7 cards' key sum, which the caller builds incrementally; the
    rare flush (a suit counter past 4) takes the evaluator's own path."""
    if key & _FLUSH_BITS == 0:
        r = key >> _SUIT_BITS
        return np.int32(_RANK7[r + _OFFSET7[r >> _ROW_SHIFT]])
    return evaluate7(a, b, board[0], board[1], board[2], board[3], board[4])


@njit(cache=True)
def _accumulate(game, my0, my1, full, hand_cards, weight, dead, win, cnt):
    """One complete board: for every live hand with weight, add its result against the LBR hand.

    Hold'em sums the board's evaluator keys once, so each hand adds only its own two (the same ranks as
    ``evaluate7``, which a test checks)."""
    if game == GAME_HUNL:
        board_key = _FLUSH_BIAS
        for i in range(5):
            board_key += _CARD_KEY[full[i]]
        mine = _rank7(board_key + _CARD_KEY[my0] + _CARD_KEY[my1], my0, my1, full)
    else:
        mine = strength(game, my0, my1, full)
    for h in range(hand_cards.shape[0]):
        a = hand_cards[h, 0]
        b = hand_cards[h, 1]
        if weight[h] <= 0.0 or dead[a] or dead[b]:
            continue
        if game == GAME_HUNL:
            s = _rank7(board_key + _CARD_KEY[a] + _CARD_KEY[b], a, b, full)
        else:
            s = strength(game, a, b, full)
        cnt[h] += 1.0
        if mine > s:
            win[h] += 1.0
        elif mine == s:
            win[h] += 0.5


@njit(cache=True)
def equity_vector(game, my0, my1, board, n_known, n_total, n_cards, hand_cards, weight, dead, samples, rng,
                  full, alive, win, cnt, eq):
    """eq[h] = the LBR hand's showdown equity against hand h over the remaining board cards.

    Exact for up to two missing cards; otherwise ``samples`` random completions (the same boards for
    every h; a board that hits h is skipped for h, so each h's boards stay uniform given h). Only
    hands with weight > 0 are computed; dead cards (the LBR hand, the board) are never drawn.
    """
    n = hand_cards.shape[0]
    for h in range(n):
        win[h] = 0.0
        cnt[h] = 0.0
    for i in range(n_known):
        full[i] = board[i]
    m = n_total - n_known
    if m == 0:
        _accumulate(game, my0, my1, full, hand_cards, weight, dead, win, cnt)
    elif m == 1:
        for x in range(n_cards):
            if dead[x]:
                continue
            full[n_known] = x
            dead[x] = True
            _accumulate(game, my0, my1, full, hand_cards, weight, dead, win, cnt)
            dead[x] = False
    elif m == 2:
        for x in range(n_cards):
            if dead[x]:
                continue
            for y in range(x + 1, n_cards):
                if dead[y]:
                    continue
                full[n_known] = x
                full[n_known + 1] = y
                dead[x] = True
                dead[y] = True
                _accumulate(game, my0, my1, full, hand_cards, weight, dead, win, cnt)
                dead[x] = False
                dead[y] = False
    else:
        k = 0
        for x in range(n_cards):
            if not dead[x]:
                alive[k] = x
                k += 1
        for _ in range(samples):
            for i in range(m):  # a partial Fisher-Yates shuffle: any order of `alive` stays uniform
                j = i + np.int64(next_u64(rng) % uint64(k - i))
                t = alive[i]
                alive[i] = alive[j]
                alive[j] = t
                full[n_known + i] = alive[i]
                dead[alive[i]] = True
            _accumulate(game, my0, my1, full, hand_cards, weight, dead, win, cnt)
            for i in range(m):
                dead[alive[i]] = False
    for h in range(n):
        eq[h] = win[h] / cnt[h] if cnt[h] > 0.0 else 0.5


@njit(cache=True)
def runout_odds(game, my0, my1, o0, o1, board, n_known, n_total, n_cards, dead, samples, rng, full, alive):
    """(P(win), P(lose)) of the LBR hand against the opponent's over the board cards still to come:
    exact for up to two cards, else over ``samples`` random boards. `dead` marks every known card."""
    for i in range(n_known):
        full[i] = board[i]
    m = n_total - n_known
    k = 0
    for x in range(n_cards):
        if not dead[x]:
            alive[k] = x
            k += 1
    won = 0.0
    lost = 0.0
    n = 0.0
    if m <= 2:
        for i in range(k if m >= 1 else 1):
            for j in range(i + 1 if m == 2 else 0, k if m == 2 else 1):
                if m >= 1:
                    full[n_known] = alive[i]
                if m == 2:
                    full[n_known + 1] = alive[j]
                a = strength(game, my0, my1, full)
                b = strength(game, o0, o1, full)
                won += 1.0 if a > b else 0.0
                lost += 1.0 if a < b else 0.0
                n += 1.0
    else:
        for _ in range(samples):
            for i in range(m):
                j = i + np.int64(next_u64(rng) % uint64(k - i))
                t = alive[i]
                alive[i] = alive[j]
                alive[j] = t
                full[n_known + i] = alive[i]
            a = strength(game, my0, my1, full)
            b = strength(game, o0, o1, full)
            won += 1.0 if a > b else 0.0
            lost += 1.0 if a < b else 0.0
            n += 1.0
    return won / n, lost / n


@njit(cache=True)
def lbr_choice(variant, node, me, kind, child_start, num_children, children, action, contrib, slot, stride,
               policy, weight, buckets, eq):
    """The child index LBR plays at its decision `node`, given the range `weight` and `eq` (see the
    module docstring for the values); eq is read only where a value needs it."""
    opp = 1 - me
    cs = child_start[node]
    na = num_children[node]
    call = -1
    fold = -1
    for a in range(na):
        act = action[children[cs + a]]
        if act == _A_CALL:
            call = a
        elif act == _A_FOLD:
            fold = a
    raises = np.full(2, -1, dtype=np.int64)
    if variant == VARIANT_FCPA:
        c_opp = contrib[node, opp]
        best_gap = np.inf
        for a in range(na):
            c = children[cs + a]
            if action[c] != _A_RAISE:
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
        fc = slot[c]
        has_fold = kind[c] == _DECISION and action[children[child_start[c]]] == _A_FOLD
        for h in range(weight.shape[0]):
            w = weight[h]
            if w <= 0.0:
                continue
            pf = policy[fc + buckets[h] * stride[c]] if has_fold else 0.0  # a raise stays on the street
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
def lbr_hand(game, variant, me, cards, n_cards, n_total, board_count, hand_cards, kind, player, street,
             child_start, num_children, children, action, contrib, slot, stride, policy, binom, card_perms,
             preflop, flop, turn, river, b3_id, b3_perm, b4_id, b4_perm, b5_id, b5_perm, samples, rng,
             weight, buckets, dead, eq, win, cnt, full, alive, sorted_board):
    """LBR in seat `me` plays one hand of the deal `cards` against the blueprint; its chips won."""
    opp = 1 - me
    n = hand_cards.shape[0]
    my0, my1 = cards[2 * me], cards[2 * me + 1]
    o0, o1 = cards[2 * opp], cards[2 * opp + 1]
    opp_hand = o0 if game == GAME_LEDUC else combo_index(o0, o1)
    board = cards[4:]
    for x in range(n_cards):
        dead[x] = False
    dead[my0] = True
    dead[my1] = True
    for h in range(n):
        weight[h] = 0.0 if dead[hand_cards[h, 0]] or dead[hand_cards[h, 1]] else 1.0
    node = 0
    cur = -1
    while kind[node] == _DECISION:
        s = street[node]
        if s != cur:
            for i in range(board_count[max(cur, 0)], board_count[s]):
                dead[board[i]] = True
            for h in range(n):
                if dead[hand_cards[h, 0]] or dead[hand_cards[h, 1]]:
                    weight[h] = 0.0
            street_buckets(game, s, board, board_count[s], hand_cards, dead, binom, card_perms, preflop, flop,
                           turn, river, b3_id, b3_perm, b4_id, b4_perm, b5_id, b5_perm, sorted_board, buckets)
            cur = s
        na = num_children[node]
        cs = child_start[node]
        if player[node] == me:
            can_raise = variant == VARIANT_FCPA and action[children[cs + na - 1]] == _A_RAISE
            if can_raise or action[children[cs]] == _A_FOLD:  # a free check needs no equity
                equity_vector(game, my0, my1, board, board_count[s], n_total, n_cards, hand_cards, weight, dead,
                              samples, rng, full, alive, win, cnt, eq)
            a = lbr_choice(variant, node, me, kind, child_start, num_children, children, action, contrib, slot,
                           stride, policy, weight, buckets, eq)
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
    if kind[node] == _FOLD:
        return contrib[node, opp] if player[node] == opp else -contrib[node, me]
    n_known = board_count[street[node]]
    if n_known < n_total:  # all-in before the river: score the expectation over the runout (same mean, less noise)
        dead[o0] = True
        dead[o1] = True
        won, lost = runout_odds(game, my0, my1, o0, o1, board, n_known, n_total, n_cards, dead, samples, rng, full,
                                alive)
        return won * contrib[node, opp] - lost * contrib[node, me]
    mine = strength(game, my0, my1, board)
    theirs = strength(game, o0, o1, board)
    if mine > theirs:
        return contrib[node, opp]
    if mine < theirs:
        return -contrib[node, me]
    return 0.0


@njit(cache=True, nogil=True)
def lbr_deals(game, variant, seed, first_deal, n_cards, n_total, board_count, hand_cards, kind, player, street,
              child_start, num_children, children, action, contrib, slot, stride, policy, binom, card_perms,
              preflop, flop, turn, river, b3_id, b3_perm, b4_id, b4_perm, b5_id, b5_perm, samples, out):
    """out[i, seat] = LBR's chips won in seat `seat` on deal first_deal + i (each deal played in both seats,
    the cards staying with their seat: the duplicate scheme)."""
    n = hand_cards.shape[0]
    rng = np.empty(4, dtype=np.uint64)
    deck = np.empty(n_cards, dtype=np.int64)
    cards = np.empty(4 + n_total, dtype=np.int64)
    weight = np.empty(n)
    buckets = np.empty(n, dtype=np.int64)
    dead = np.zeros(n_cards, dtype=np.bool_)
    eq = np.empty(n)
    win = np.empty(n)
    cnt = np.empty(n)
    full = np.empty(n_total, dtype=np.int64)
    alive = np.empty(n_cards, dtype=np.int64)
    sorted_board = np.empty(5, dtype=np.int64)
    for i in range(out.shape[0]):
        d = first_deal + i
        seed_stream(rng, seed, d, 2)
        deal_cards(rng, n_cards, n_total, deck, cards)
        for me in range(2):
            seed_stream(rng, seed, d, me)
            out[i, me] = lbr_hand(game, variant, me, cards, n_cards, n_total, board_count, hand_cards, kind, player,
                                  street, child_start, num_children, children, action, contrib, slot, stride, policy,
                                  binom, card_perms, preflop, flop, turn, river, b3_id, b3_perm, b4_id, b4_perm,
                                  b5_id, b5_perm, samples, rng, weight, buckets, dead, eq, win, cnt, full, alive,
                                  sorted_board)

"""The subgame solver's terminal values: what a fold, a showdown or a depth-limit leaf is worth to every
hand of the traverser against the other player's reach there, with exact card removal.

Each is O(H) per terminal, never a pair matrix: per-card sums of the opponent's reach say how much of it
shares a card with a hand (two-card hands: the same combo is subtracted twice, so added back once).
A showdown is one sweep up the hands sorted by strength; a leaf reads its sparse table
(``subgame.LeafTables``) by per-bucket and per-card sums, O(52·B + H·P/B) over its P pairs.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from holdem.cards import NUM_CARDS
from holdem.games.tree import FOLD, SHOWDOWN


@njit(cache=True, inline="always")
def _clean(x, scale):
    """A sum of reaches computed by subtraction, with its rounding residue below 1e-12 of the total
    dropped: an opponent who cannot be there must weigh exactly 0, or regret matching reads noise."""
    return x if x > 1e-12 * scale else 0.0


@njit(cache=True)
def _compatible(h, total, card_sum, cards, two, ro):
    """Opponent reach over hands sharing no card with hand h (the same combo is subtracted twice)."""
    x = total - card_sum[cards[h, 0]]
    if two:
        x -= card_sum[cards[h, 1]]
        x += ro[h]
    return _clean(x, total)


@njit(cache=True)
def terminal_values(p, n, sub, leaves, reach_opp, values):
    """values[n, h] for traverser p at terminal n of ``sub`` (``subgame.SubgameArrays``): the sum over
    compatible opponent hands of reach x payoff (at leaves with ``exact_leaves`` off: over every
    opponent hand, by bucket)."""
    cards, two = sub.cards, sub.two_cards
    n_hands = cards.shape[0]
    o = 1 - p
    ro = reach_opp[n]
    card_sum = np.zeros(NUM_CARDS)
    total = 0.0
    for h in range(n_hands):
        r = ro[h]
        total += r
        card_sum[cards[h, 0]] += r
        if two:
            card_sum[cards[h, 1]] += r
    kind = sub.kind[n]
    if kind == FOLD:
        u = -sub.contrib[n, p] if sub.player[n] == p else sub.contrib[n, o]
        for h in range(n_hands):
            values[n, h] = u * _compatible(h, total, card_sum, cards, two, ro)
    elif kind == SHOWDOWN:
        _showdown(n, sub.contrib[n, o], sub.contrib[n, p], sub, ro, total, card_sum, values)
    else:
        _leaf(p, n, sub, leaves, ro, total, card_sum, values)


@njit(cache=True)
def _showdown(n, win_c, lose_c, sub, ro, total, card_sum, values):
    """One sweep up the strength order: the weaker hands' reach so far, then each group of equal strength."""
    cards, two, strength, order = sub.cards, sub.two_cards, sub.strength, sub.order
    n_hands = cards.shape[0]
    lo_sum = np.zeros(NUM_CARDS)
    grp_sum = np.zeros(NUM_CARDS)
    lo_total = 0.0
    i = 0
    while i < n_hands:
        j = i
        s = strength[order[i]]
        g_total = 0.0
        while j < n_hands and strength[order[j]] == s:
            h = order[j]
            r = ro[h]
            g_total += r
            grp_sum[cards[h, 0]] += r
            if two:
                grp_sum[cards[h, 1]] += r
            j += 1
        for k in range(i, j):
            h = order[k]
            win = lo_total - lo_sum[cards[h, 0]]
            tie = g_total - grp_sum[cards[h, 0]]
            if two:
                win -= lo_sum[cards[h, 1]]
                tie -= grp_sum[cards[h, 1]]
                tie += ro[h]
            win = _clean(win, total)
            tie = _clean(tie, total)
            lose = _clean(_compatible(h, total, card_sum, cards, two, ro) - win - tie, total)
            values[n, h] = win_c * win - lose_c * lose + 0.5 * (win_c - lose_c) * tie
        for k in range(i, j):  # fold the group into the weaker side and clear what it touched
            h = order[k]
            c0 = cards[h, 0]
            lo_sum[c0] += grp_sum[c0]
            grp_sum[c0] = 0.0
            if two:
                c1 = cards[h, 1]
                lo_sum[c1] += grp_sum[c1]
                grp_sum[c1] = 0.0
        lo_total += g_total
        i = j


@njit(cache=True)
def _leaf(p, n, sub, leaves, ro, total, card_sum, values):
    """Player 0's value V[b0, b1] = row[b0] + col[b1] + the sparse pairs' departures from that."""
    t = sub.leaf_table[n]
    own = leaves.row if p == 0 else leaves.col  # the part of V indexed by p's bucket, and by the other's
    other = leaves.col if p == 0 else leaves.row
    dev, b0s, b1s, leaf_bucket = leaves.dev, leaves.b0, leaves.b1, sub.leaf_bucket
    n_hands = sub.cards.shape[0]
    nb = own.shape[1]
    per_b = np.zeros(nb)
    for h in range(n_hands):
        per_b[leaf_bucket[h]] += ro[h]
    if sub.exact_leaves:
        _exact_leaf(p, n, t, own, other, sub, leaves, ro, total, card_sum, per_b, values)
        return
    # against the whole range by bucket: O(P + B + H), no card removal
    z = 0.0
    for b2 in range(nb):
        z += other[t, b2] * per_b[b2]
    w = np.zeros(nb)
    for b in range(nb):
        w[b] = own[t, b] * total + z
    if p == 0:
        for k in range(b0s.shape[0]):
            w[b0s[k]] += dev[t, k] * per_b[b1s[k]]
    else:
        for k in range(b0s.shape[0]):
            w[b1s[k]] += dev[t, k] * per_b[b0s[k]]
    sign = 1.0 if p == 0 else -1.0
    for h in range(n_hands):
        values[n, h] = sign * w[leaf_bucket[h]]


@njit(cache=True)
def _exact_leaf(p, n, t, own, other, sub, leaves, ro, total, card_sum, per_b, values):
    """Card removal by per-card sums: O(52 B + H P / B)."""
    cards, two, leaf_bucket = sub.cards, sub.two_cards, sub.leaf_bucket
    dev, b0s, b1s = leaves.dev, leaves.b0, leaves.b1
    n_hands = cards.shape[0]
    nb = own.shape[1]
    per_cb = np.zeros((NUM_CARDS, nb))
    other_c = np.zeros(NUM_CARDS)  # per card: the opponent's reach x its bucket's part of V, over hands holding it
    other_all = 0.0
    for h in range(n_hands):
        r = ro[h]
        b = leaf_bucket[h]
        per_cb[cards[h, 0], b] += r
        x = other[t, b] * r
        other_all += x
        other_c[cards[h, 0]] += x
        if two:
            per_cb[cards[h, 1], b] += r
            other_c[cards[h, 1]] += x
    for h in range(n_hands):
        b = leaf_bucket[h]
        c0 = cards[h, 0]
        c1 = cards[h, 1]
        v = own[t, b] * _compatible(h, total, card_sum, cards, two, ro) + other_all - other_c[c0]
        if two:
            v -= other_c[c1]
            v += other[t, b] * ro[h]
        lo = leaves.row_start[b] if p == 0 else leaves.col_start[b]
        hi = leaves.row_start[b + 1] if p == 0 else leaves.col_start[b + 1]
        for i in range(lo, hi):
            k = i if p == 0 else leaves.col_order[i]
            b2 = b1s[k] if p == 0 else b0s[k]
            x = per_b[b2] - per_cb[c0, b2]
            if two:
                x -= per_cb[c1, b2]
                if b2 == b:
                    x += ro[h]
            v += dev[t, k] * _clean(x, per_b[b2])
        values[n, h] = v if p == 0 else -v

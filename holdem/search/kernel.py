"""The subgame solver's numba kernels: Discounted CFR vectorised over hands, on W threads.

One iteration is two passes (alternating updates, as DCFR prescribes: Brown & Sandholm, "Solving
Imperfect-Information Games via Discounted Regret Minimization", AAAI 2019; alpha 1.5, beta 0,
gamma 2). A pass for traverser p:

1. regret matching at every decision node for every hand (independent per hand);
2. forwards in preorder, both players' reach per hand (independent per hand);
3. every terminal's counterfactual values for p's hands against the other's reach there: fold and
   leaf by per-bucket and per-card sums, showdown by one sweep over hands sorted by strength, each
   with exact card removal (O(H) per fold or showdown; a leaf O(52·B + H·P/B) over its table's P
   sparse pairs, ``subgame.LeafTables``; never a pair matrix);
4. backwards, values, regrets and the discounted strategy sum (independent per hand).

Steps 1, 2 and 4 split the hands into W chunks and step 3 deals the terminals out in turn, dearest
first (leaves, showdowns, folds), each over ``prange``:
the threads share the tables and never write the same entry, so W threads give the same numbers as one.

Safety (a subgame whose root has a history): the non-searcher's root reach comes from a gadget, built
from ``alt``, its counterfactual best-response values against the blueprint in the same subgame.
* RESOLVE (the default): the re-solve gadget (Burch, Johanson & Bowling, "Solving Imperfect
  Information Games Using Decomposition", AAAI 2014; Brown & Sandholm, "Safe and Nested Subgame
  Solving", NeurIPS 2017): chance deals the opponent a hand by its Bayes range, and the hand chooses
  to follow into the subgame or take ``alt``; here the hand enters with its range times
  1 + ``gadget_weight`` x P(follow). The searcher then minimises the opponent's range-weighted value
  (what unsafe solving optimises, and why it plays well) plus ``weight`` x the range-weighted amount
  by which hands would gain over their alternatives: a penalty for the safety constraints.
* MAXMARGIN (Moravčík, Burch, Lisý et al., "Refining Subgames in Large Imperfect Information Games",
  AAAI 2016): the opponent picks which hand to enter with, by regret matching on the margins, so the
  searcher maximises the smallest margin. Safe, but it improves little beyond that one hand: on Leduc
  it leaves a weak blueprint more exploitable than RESOLVE does (docs/decisions.md).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from holdem.solver.regret import regret_match

LEARN, BEST_RESPONSE, EVALUATE = 0, 1, 2  # a pass updates regrets, takes the best action, or neither


@njit(cache=True)
def _bounds(c, n_chunks, n_hands):
    return c * n_hands // n_chunks, (c + 1) * n_hands // n_chunks


@njit(cache=True)
def _match_chunk(lo, hi, kind, num_children, slot, regrets, sigma):
    for n in range(kind.shape[0]):
        if kind[n] != 0:
            continue
        na = num_children[n]
        for h in range(lo, hi):
            o = slot[n] + h * na
            regret_match(regrets, o, na, sigma, o)


@njit(cache=True)
def _forward_chunk(p, lo, hi, kind, player, child_start, num_children, children, slot, sigma, reach_self, reach_opp):
    for n in range(kind.shape[0]):
        if kind[n] != 0:
            continue
        na = num_children[n]
        mine = player[n] == p
        for a in range(na):
            c = children[child_start[n] + a]
            for h in range(lo, hi):
                s = sigma[slot[n] + h * na + a]
                if mine:
                    reach_self[c, h] = reach_self[n, h] * s
                    reach_opp[c, h] = reach_opp[n, h]
                else:
                    reach_self[c, h] = reach_self[n, h]
                    reach_opp[c, h] = reach_opp[n, h] * s


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
def terminal_values(
    p, n, kind, player, contrib, leaf_table, leaf, cards, two, strength, order, leaf_bucket, exact, reach_opp, values
):
    """values[n, h] for traverser p at terminal n: sum over compatible opponent hands of reach x payoff
    (at leaves with ``exact`` off: over every opponent hand, by bucket)."""
    n_hands = cards.shape[0]
    o = 1 - p
    ro = reach_opp[n]
    card_sum = np.zeros(52)
    total = 0.0
    for h in range(n_hands):
        r = ro[h]
        total += r
        card_sum[cards[h, 0]] += r
        if two:
            card_sum[cards[h, 1]] += r
    if kind[n] == 1:  # fold
        u = -contrib[n, p] if player[n] == p else contrib[n, o]
        for h in range(n_hands):
            values[n, h] = u * _compatible(h, total, card_sum, cards, two, ro)
    elif kind[n] == 2:  # showdown: one sweep up the strength order
        win_c = contrib[n, o]
        lose_c = contrib[n, p]
        lo_sum = np.zeros(52)
        grp_sum = np.zeros(52)
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
    else:  # leaf: player 0's value V[b0, b1] = row[b0] + col[b1] + the sparse pairs' departures from that
        t = leaf_table[n]
        row, col, dev, b0s, b1s = leaf[0], leaf[1], leaf[2], leaf[3], leaf[4]
        own = row if p == 0 else col  # the part of V indexed by p's bucket, and by the other's
        other = col if p == 0 else row
        nb = row.shape[1]
        per_b = np.zeros(nb)
        for h in range(n_hands):
            per_b[leaf_bucket[h]] += ro[h]
        if not exact:  # against the whole range by bucket: O(P + B + H), no card removal
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
        else:  # card removal by per-card sums: O(52 B + H P / B)
            _exact_leaf(
                p,
                n,
                t,
                own,
                other,
                dev,
                b0s,
                b1s,
                leaf[5],
                leaf[6],
                leaf[7],
                cards,
                two,
                leaf_bucket,
                ro,
                total,
                card_sum,
                per_b,
                values,
            )


@njit(cache=True)
def _exact_leaf(
    p,
    n,
    t,
    own,
    other,
    dev,
    b0s,
    b1s,
    row_start,
    col_order,
    col_start,
    cards,
    two,
    leaf_bucket,
    ro,
    total,
    card_sum,
    per_b,
    values,
):
    n_hands = cards.shape[0]
    nb = own.shape[1]
    per_cb = np.zeros((52, nb))
    other_c = np.zeros(52)  # per card: the opponent's reach x its bucket's part of V, over hands holding it
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
        lo = row_start[b] if p == 0 else col_start[b]
        hi = row_start[b + 1] if p == 0 else col_start[b + 1]
        for i in range(lo, hi):
            k = i if p == 0 else col_order[i]
            b2 = b1s[k] if p == 0 else b0s[k]
            x = per_b[b2] - per_cb[c0, b2]
            if two:
                x -= per_cb[c1, b2]
                if b2 == b:
                    x += ro[h]
            v += dev[t, k] * _clean(x, per_b[b2])
        values[n, h] = v if p == 0 else -v


@njit(cache=True)
def _backward_chunk(
    p,
    lo,
    hi,
    mode,
    kind,
    player,
    child_start,
    num_children,
    children,
    slot,
    sigma,
    reach_self,
    values,
    regrets,
    strat_sum,
    pos,
    neg,
    disc,
):
    for n in range(kind.shape[0] - 1, -1, -1):
        if kind[n] != 0:
            continue
        na = num_children[n]
        cs = child_start[n]
        mine = player[n] == p
        for h in range(lo, hi):
            o = slot[n] + h * na
            if not mine:  # the other's strategy is already in its reach: its actions' values add up
                v = 0.0
                for a in range(na):
                    v += values[children[cs + a], h]
            elif mode == BEST_RESPONSE:
                v = values[children[cs], h]
                for a in range(1, na):
                    v = max(v, values[children[cs + a], h])
            else:
                v = 0.0
                for a in range(na):
                    v += sigma[o + a] * values[children[cs + a], h]
            values[n, h] = v
            if mine and mode == LEARN:
                rs = reach_self[n, h]
                for a in range(na):
                    r = regrets[o + a] + values[children[cs + a], h] - v
                    regrets[o + a] = r * (pos if r > 0.0 else neg)
                    strat_sum[o + a] = (strat_sum[o + a] + rs * sigma[o + a]) * disc


@njit(cache=True)
def _pass_chunks(
    c_lo,
    c_hi,
    p,
    mode,
    kind,
    player,
    child_start,
    num_children,
    children,
    slot,
    sigma,
    reach_self,
    reach_opp,
    regrets,
    n_hands,
    n_chunks,
):
    for c in range(c_lo, c_hi):
        lo, hi = _bounds(c, n_chunks, n_hands)
        if mode == LEARN:
            _match_chunk(lo, hi, kind, num_children, slot, regrets, sigma)
        _forward_chunk(p, lo, hi, kind, player, child_start, num_children, children, slot, sigma, reach_self, reach_opp)


@njit(cache=True, parallel=True)
def _pass_parallel(
    p,
    mode,
    kind,
    player,
    child_start,
    num_children,
    children,
    contrib,
    slot,
    leaf_table,
    leaf,
    cards,
    two,
    strength,
    order,
    leaf_bucket,
    exact,
    terminals,
    sigma,
    reach_self,
    reach_opp,
    values,
    regrets,
    strat_sum,
    pos,
    neg,
    disc,
    n_chunks,
):
    n_hands = cards.shape[0]
    for c in prange(n_chunks):
        _pass_chunks(
            c,
            c + 1,
            p,
            mode,
            kind,
            player,
            child_start,
            num_children,
            children,
            slot,
            sigma,
            reach_self,
            reach_opp,
            regrets,
            n_hands,
            n_chunks,
        )
    n_terms = terminals.shape[0]
    for c in prange(n_chunks):  # terminals c, c + W, ...: they come dearest first, so each thread gets its share
        for i in range(c, n_terms, n_chunks):
            terminal_values(
                p,
                terminals[i],
                kind,
                player,
                contrib,
                leaf_table,
                leaf,
                cards,
                two,
                strength,
                order,
                leaf_bucket,
                exact,
                reach_opp,
                values,
            )
    for c in prange(n_chunks):
        lo, hi = _bounds(c, n_chunks, n_hands)
        _backward_chunk(
            p,
            lo,
            hi,
            mode,
            kind,
            player,
            child_start,
            num_children,
            children,
            slot,
            sigma,
            reach_self,
            values,
            regrets,
            strat_sum,
            pos,
            neg,
            disc,
        )


@njit(cache=True)
def _pass(
    p,
    mode,
    kind,
    player,
    child_start,
    num_children,
    children,
    contrib,
    slot,
    leaf_table,
    leaf,
    cards,
    two,
    strength,
    order,
    leaf_bucket,
    exact,
    terminals,
    sigma,
    reach_self,
    reach_opp,
    values,
    regrets,
    strat_sum,
    pos,
    neg,
    disc,
    n_chunks,
):
    """Steps 1-4 of a pass (step 1 only when learning); the root rows of reach_self and reach_opp are set by
    the caller. One chunk runs without the thread pool: a parallel region costs more than a small street."""
    if n_chunks > 1:
        _pass_parallel(
            p,
            mode,
            kind,
            player,
            child_start,
            num_children,
            children,
            contrib,
            slot,
            leaf_table,
            leaf,
            cards,
            two,
            strength,
            order,
            leaf_bucket,
            exact,
            terminals,
            sigma,
            reach_self,
            reach_opp,
            values,
            regrets,
            strat_sum,
            pos,
            neg,
            disc,
            n_chunks,
        )
        return
    n_hands = cards.shape[0]
    _pass_chunks(
        0,
        1,
        p,
        mode,
        kind,
        player,
        child_start,
        num_children,
        children,
        slot,
        sigma,
        reach_self,
        reach_opp,
        regrets,
        n_hands,
        1,
    )
    for i in range(terminals.shape[0]):
        terminal_values(
            p,
            terminals[i],
            kind,
            player,
            contrib,
            leaf_table,
            leaf,
            cards,
            two,
            strength,
            order,
            leaf_bucket,
            exact,
            reach_opp,
            values,
        )
    _backward_chunk(
        p,
        0,
        n_hands,
        mode,
        kind,
        player,
        child_start,
        num_children,
        children,
        slot,
        sigma,
        reach_self,
        values,
        regrets,
        strat_sum,
        pos,
        neg,
        disc,
    )


NO_GADGET, MAXMARGIN, RESOLVE = 0, 1, 2


@njit(cache=True, inline="always")
def _follow(margin, h):
    """The re-solve gadget's probability that hand h follows into the subgame (regret matching)."""
    a = max(margin[h, 0], 0.0)
    b = max(margin[h, 1], 0.0)
    return a / (a + b) if a + b > 0.0 else 0.5


@njit(cache=True)
def _gadget_reach(gadget, range_o, margin, weight, q):
    """The gadget player's root reach: its range (none), the Maxmargin hand choice, or its range times
    1 + ``weight`` x the re-solve gadget's probability of following in with each hand."""
    n_hands = range_o.shape[0]
    if gadget == MAXMARGIN:
        regret_match(margin[:, 0], 0, n_hands, q, 0)
        return
    for h in range(n_hands):
        q[h] = range_o[h] * (1.0 + weight * _follow(margin, h)) if gadget == RESOLVE else range_o[h]


@njit(cache=True)
def _gadget_update(gadget, values_root, alt, q, range_o, weight, margin):
    """CFR+ on the gadget's choices: which hand to enter with (Maxmargin) or, per hand, whether to
    follow in (value: counterfactual value minus the alternative) or take the alternative (re-solve)."""
    n_hands = q.shape[0]
    if gadget == MAXMARGIN:
        mean = 0.0
        for h in range(n_hands):
            mean += q[h] * (values_root[h] - alt[h])
        for h in range(n_hands):
            margin[h, 0] = max(0.0, margin[h, 0] + values_root[h] - alt[h] - mean)
        return
    for h in range(n_hands):
        follow = _follow(margin, h)
        gain = values_root[h] - alt[h]
        margin[h, 0] = max(0.0, margin[h, 0] + gain - follow * gain)
        margin[h, 1] = max(0.0, margin[h, 1] - follow * gain)


@njit(cache=True)
def dcfr_iterations(
    kind,
    player,
    child_start,
    num_children,
    children,
    contrib,
    slot,
    leaf_table,
    leaf,
    cards,
    two,
    strength,
    order,
    leaf_bucket,
    exact,
    terminals,
    range0,
    range1,
    gadget_player,
    gadget,
    alt,
    margin,
    gadget_weight,
    regrets,
    strat_sum,
    sigma,
    reach_self,
    reach_opp,
    values,
    t0,
    n_iters,
    alpha,
    beta,
    gamma,
    n_chunks,
):
    """Iterations t0+1 .. t0+n_iters in place. The gadget player's root reach comes from the gadget
    (``margin`` [H, 2] holds the gadget's cumulative regrets, ``alt`` the gadget player's best-response
    values against the blueprint); the searcher's own root reach counts as 1, so its average strategy is
    defined for every hand (a per-hand factor cancels within an infoset)."""
    n_hands = cards.shape[0]
    q = np.empty(n_hands)
    range_g = range0 if gadget_player == 0 else range1
    for it in range(n_iters):
        t = float(t0 + it + 1)
        ta = t**alpha
        tb = t**beta
        pos = ta / (ta + 1.0)
        neg = tb / (tb + 1.0)
        disc = (t / (t + 1.0)) ** gamma
        for p in range(2):
            _gadget_reach(gadget, range_g, margin, gadget_weight, q)
            for h in range(n_hands):
                reach_self[0, h] = q[h] if p == gadget_player else 1.0
                reach_opp[0, h] = q[h] if (1 - p) == gadget_player else (range1[h] if p == 0 else range0[h])
            _pass(
                p,
                LEARN,
                kind,
                player,
                child_start,
                num_children,
                children,
                contrib,
                slot,
                leaf_table,
                leaf,
                cards,
                two,
                strength,
                order,
                leaf_bucket,
                exact,
                terminals,
                sigma,
                reach_self,
                reach_opp,
                values,
                regrets,
                strat_sum,
                pos,
                neg,
                disc,
                n_chunks,
            )
            if p == gadget_player and gadget != NO_GADGET:
                _gadget_update(gadget, values[0], alt, q, range_g, gadget_weight, margin)


@njit(cache=True)
def root_values(
    p,
    mode,
    kind,
    player,
    child_start,
    num_children,
    children,
    contrib,
    slot,
    leaf_table,
    leaf,
    cards,
    two,
    strength,
    order,
    leaf_bucket,
    exact,
    terminals,
    fixed,
    range_other,
    reach_self,
    reach_opp,
    values,
    n_chunks,
):
    """Counterfactual values at the root for every hand of p when the other plays ``fixed`` from
    ``range_other``, p taking its best action (BEST_RESPONSE: the gadget's alternative values) or
    playing ``fixed`` too (EVALUATE: what a strategy is worth against a fixed opponent)."""
    n_hands = cards.shape[0]
    for h in range(n_hands):
        reach_self[0, h] = 1.0
        reach_opp[0, h] = range_other[h]
    dummy = np.zeros(1)
    _pass(
        p,
        mode,
        kind,
        player,
        child_start,
        num_children,
        children,
        contrib,
        slot,
        leaf_table,
        leaf,
        cards,
        two,
        strength,
        order,
        leaf_bucket,
        exact,
        terminals,
        fixed,
        reach_self,
        reach_opp,
        values,
        dummy,
        dummy,
        1.0,
        1.0,
        1.0,
        n_chunks,
    )
    return values[0].copy()


@njit(cache=True)
def normalise(strat_sum, kind, num_children, slot, n_hands, out):
    """Average strategy per (node, hand): the strategy sum normalised, uniform where it is zero."""
    for n in range(kind.shape[0]):
        if kind[n] != 0:
            continue
        na = num_children[n]
        for h in range(n_hands):
            o = slot[n] + h * na
            total = 0.0
            for a in range(na):
                total += strat_sum[o + a]
            for a in range(na):
                out[o + a] = strat_sum[o + a] / total if total > 0.0 else 1.0 / na

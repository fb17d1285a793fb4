"""Full-traversal CFR variants for games small enough to sweep: vanilla CFR, CFR+ and DCFR.

Each iteration sweeps the betting tree for all deals at once: forwards in preorder (reach
probabilities, parents first), then backwards (counterfactual values, children first). No recursion:
numba compiles flat loops far better, and recursive functions cannot be cached safely (numba #6061).

* CFR (Zinkevich et al. 2007): simultaneous updates, the strategy is fixed for the whole iteration.
  With linear averaging it is Linear CFR (Brown & Sandholm 2019): iteration t's regrets are weighted
  by t too, as the convergence proof of a t-weighted average needs.
* CFR+ (Tammelin 2014): alternating updates, regrets floored at zero, linearly weighted average.
* DCFR (Brown & Sandholm, "Solving Imperfect-Information Games via Discounted Regret Minimization",
  2019): alternating updates; after iteration t positive regrets are scaled by t^a/(t^a+1), negative
  ones by t^b/(t^b+1), and the strategy sum by (t/(t+1))^g.
"""

from __future__ import annotations

from numba import njit

from holdem.solver.regret import normalise_per_infoset

CFR, CFR_PLUS, DCFR = 0, 1, 2


@njit(cache=True)
def terminal_value(kind, folder, c_me, c_opp, winner_for_me, me):
    """Chips won by `me` at a terminal node."""
    if kind == 1:
        return -c_me if folder == me else c_opp
    if winner_for_me > 0:
        return c_opp
    if winner_for_me < 0:
        return -c_me
    return 0.5 * (c_opp - c_me)


@njit(cache=True)
def terminal_values(n, p, kind, player, contrib, deal_winner, values):
    """values[n, d] for p at terminal node n, for every deal d."""
    for d in range(deal_winner.shape[0]):
        w = deal_winner[d] if p == 0 else -deal_winner[d]
        values[n, d] = terminal_value(kind[n], player[n], contrib[n, p], contrib[n, 1 - p], w, p)


@njit(cache=True)
def _forward(
    p,
    kind,
    player,
    street,
    child_start,
    num_children,
    children,
    slot,
    stride,
    deal_buckets,
    deal_prob,
    sigma,
    reach_opp,
    reach_self,
):
    n_deals = deal_prob.shape[0]
    for d in range(n_deals):
        reach_opp[0, d] = deal_prob[d]
        reach_self[0, d] = 1.0
    for n in range(kind.shape[0]):
        if kind[n] != 0:
            continue
        pl = player[n]
        na = num_children[n]
        for a in range(na):
            c = children[child_start[n] + a]
            for d in range(n_deals):
                s = sigma[slot[n] + deal_buckets[d, pl, street[n]] * stride[n] + a]
                if pl == p:
                    reach_self[c, d] = reach_self[n, d] * s
                    reach_opp[c, d] = reach_opp[n, d]
                else:
                    reach_self[c, d] = reach_self[n, d]
                    reach_opp[c, d] = reach_opp[n, d] * s


@njit(cache=True)
def _backward(
    p,
    kind,
    player,
    street,
    child_start,
    num_children,
    children,
    contrib,
    slot,
    stride,
    deal_buckets,
    deal_winner,
    deal_prob,
    sigma,
    reach_opp,
    reach_self,
    values,
    regrets,
    strat_sum,
    avg_weight,
    regret_weight,
):
    n_deals = deal_prob.shape[0]
    for n in range(kind.shape[0] - 1, -1, -1):
        if kind[n] != 0:
            terminal_values(n, p, kind, player, contrib, deal_winner, values)
            continue
        na = num_children[n]
        pl = player[n]
        cs = child_start[n]
        for d in range(n_deals):
            o = slot[n] + deal_buckets[d, pl, street[n]] * stride[n]
            v = 0.0
            for a in range(na):
                v += sigma[o + a] * values[children[cs + a], d]
            values[n, d] = v
            if pl == p:
                ro = reach_opp[n, d] * regret_weight
                if ro != 0.0:
                    for a in range(na):
                        regrets[o + a] += ro * (values[children[cs + a], d] - v)
                rs = reach_self[n, d] * deal_prob[d] * avg_weight
                if rs != 0.0:
                    for a in range(na):
                        strat_sum[o + a] += rs * sigma[o + a]


@njit(cache=True)
def _after_pass(
    p, variant, t, alpha, beta, gamma, kind, player, street, slot, stride, num_children, num_buckets, regrets, strat_sum
):
    """CFR+ floors the traverser's regrets at zero; DCFR discounts them and its strategy sum."""
    if variant == CFR:
        return
    ta = t**alpha
    tb = t**beta
    pos = ta / (ta + 1.0)
    neg = tb / (tb + 1.0)
    disc = (t / (t + 1.0)) ** gamma
    for n in range(kind.shape[0]):
        if kind[n] != 0 or player[n] != p:
            continue
        for b in range(num_buckets[street[n]]):
            lo = slot[n] + b * stride[n]
            for i in range(lo, lo + num_children[n]):
                r = regrets[i]
                if variant == CFR_PLUS:
                    if r < 0.0:
                        regrets[i] = 0.0
                else:
                    regrets[i] = r * (pos if r > 0.0 else neg)
                    strat_sum[i] *= disc


@njit(cache=True, nogil=True)  # nogil: the heartbeat thread reports while it runs
def full_iterations(
    kind,
    player,
    street,
    child_start,
    num_children,
    children,
    contrib,
    slot,
    stride,
    num_buckets,
    deal_buckets,
    deal_winner,
    deal_prob,
    regrets,
    strat_sum,
    sigma,
    reach_opp,
    reach_self,
    values,
    t0,
    n_iters,
    variant,
    linear_avg,
    alpha,
    beta,
    gamma,
):
    """Run iterations t0+1 .. t0+n_iters in place; returns the node-deal pairs swept."""
    swept = 0
    for it in range(n_iters):
        t = float(t0 + it + 1)
        avg_weight = t if linear_avg else 1.0
        regret_weight = t if (linear_avg and variant == CFR) else 1.0  # Linear CFR
        if variant == DCFR:
            avg_weight = 1.0  # DCFR weights the average through its gamma discount
        for p in range(2):
            if p == 0 or variant != CFR:  # vanilla CFR keeps one strategy for both passes
                # the current strategy of every infoset, once per pass before any regret changes
                normalise_per_infoset(regrets, kind, street, slot, stride, num_children, num_buckets, sigma, True)
            _forward(
                p,
                kind,
                player,
                street,
                child_start,
                num_children,
                children,
                slot,
                stride,
                deal_buckets,
                deal_prob,
                sigma,
                reach_opp,
                reach_self,
            )
            _backward(
                p,
                kind,
                player,
                street,
                child_start,
                num_children,
                children,
                contrib,
                slot,
                stride,
                deal_buckets,
                deal_winner,
                deal_prob,
                sigma,
                reach_opp,
                reach_self,
                values,
                regrets,
                strat_sum,
                avg_weight,
                regret_weight,
            )
            _after_pass(
                p,
                variant,
                t,
                alpha,
                beta,
                gamma,
                kind,
                player,
                street,
                slot,
                stride,
                num_children,
                num_buckets,
                regrets,
                strat_sum,
            )
            swept += 2 * kind.shape[0] * deal_prob.shape[0]
    return swept

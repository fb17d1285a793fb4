"""The card side of local best response's kernels (``lbr_kernels``): seeded deals, showdown strength,
the bucket of every hole hand on a street, and equities over the board cards still to come. Pure
numba functions of arrays and scalars, for hold'em (52 cards, 1,326 hole combos, buckets by table
lookup) and Leduc (6 cards, card >> 1 its rank, buckets by rank).

Equity of one hand against every opponent hand is exact for up to two missing board cards (flop:
1,081 runouts, turn: 46, river: 1; Leduc: the one public card) and over ``samples`` random boards
before the flop of hold'em (1.7 M runouts would be too many per decision). Every draw comes from
xoshiro256** streams seeded from (seed, deal, stream).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, uint64

from holdem.abstraction.isomorphism import colex_rank, sort_small
from holdem.cards import FULL_BOARD, NUM_CARDS, Street, combo_index
from holdem.evaluator import evaluate7

# The evaluator's key tables: the hot loop here adds two card keys to a board's sum.
from holdem.evaluator.tables import CARD_KEY, FLUSH_BIAS, FLUSH_BITS, OFFSET7, RANK7, ROW_SHIFT, SUIT_BITS
from holdem.rng import next_u64

GAME_LEDUC, GAME_HUNL = 0, 1


class Deck(NamedTuple):
    """One game's cards as the hand kernels take them."""

    game: int  # GAME_HUNL or GAME_LEDUC
    n_cards: int  # in the deck
    n_board: int  # board cards at the showdown
    board_count: np.ndarray  # int64 [streets]: board cards known on each street
    hands: np.ndarray  # int64 [H, 2]: every hole hand (hold'em: combo h in row h; Leduc: the card twice)


class HandScratch(NamedTuple):
    """Work arrays of the kernels that value a hole hand against a range (``hand_scratch``)."""

    weight: np.ndarray  # [H]: the opponent's range, read by equity_vector
    buckets: np.ndarray  # int64 [H]: every hand's bucket on the current street
    eq: np.ndarray  # [H]: equity_vector's result
    win: np.ndarray  # [H]
    cnt: np.ndarray  # [H]
    dead: np.ndarray  # bool [cards]: cards no hand may hold (the known ones)
    alive: np.ndarray  # int64 [cards]
    full: np.ndarray  # int64 [board cards]: the board being scored
    sorted_board: np.ndarray  # int64 [FULL_BOARD]


@njit(cache=True)
def hand_scratch(deck):
    n = deck.hands.shape[0]
    return HandScratch(
        np.empty(n),
        np.empty(n, dtype=np.int64),
        np.empty(n),
        np.empty(n),
        np.empty(n),
        np.zeros(deck.n_cards, dtype=np.bool_),
        np.empty(deck.n_cards, dtype=np.int64),
        np.empty(deck.n_board, dtype=np.int64),
        np.empty(FULL_BOARD, dtype=np.int64),
    )


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
    hole = 2 if n_cards == NUM_CARDS else 1
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
def street_buckets(game, street, board, n_known, hand_cards, dead, tables, sorted_board, out):
    """out[h] = the bucket hand h falls in on this street (0 for hands the dead cards rule out); ``tables``
    are hold'em's ``BucketArrays``."""
    n = hand_cards.shape[0]
    if game == GAME_LEDUC:
        for h in range(n):
            r = hand_cards[h, 0] >> 1
            out[h] = r if street == Street.PREFLOP else r * 3 + (board[0] >> 1)
        return
    if street == Street.PREFLOP:
        for h in range(n):
            out[h] = tables.preflop[h]  # hand_cards lists the combos in colex order: row h is combo h
        return
    for i in range(n_known):
        sorted_board[i] = board[i]
    sort_small(sorted_board, n_known)
    r = colex_rank(sorted_board, n_known, tables.binom)
    card_perms = tables.card_perms
    for h in range(n):
        a = hand_cards[h, 0]
        b = hand_cards[h, 1]
        if dead[a] or dead[b]:
            out[h] = 0
        elif street == Street.FLOP:
            q = tables.board3_perm[r]
            out[h] = tables.flop[tables.board3_id[r], combo_index(card_perms[q, a], card_perms[q, b])]
        elif street == Street.TURN:
            q = tables.board4_perm[r]
            out[h] = tables.turn[tables.board4_id[r], combo_index(card_perms[q, a], card_perms[q, b])]
        else:
            q = tables.board5_perm[r]
            out[h] = tables.river[tables.board5_id[r], combo_index(card_perms[q, a], card_perms[q, b])]


@njit(cache=True, inline="always")
def _rank7(key, a, b, board):
    """evaluate7(a, b, *board) from the 7 cards' key sum, which the caller builds incrementally; the
    rare flush (a suit counter past 4) takes the evaluator's own path."""
    if key & FLUSH_BITS == 0:
        r = key >> SUIT_BITS
        return np.int32(RANK7[r + OFFSET7[r >> ROW_SHIFT]])
    return evaluate7(a, b, board[0], board[1], board[2], board[3], board[4])


@njit(cache=True)
def _accumulate(game, my0, my1, full, hand_cards, weight, dead, win, cnt):
    """One complete board: for every live hand with weight, add its result against the LBR hand.

    Hold'em sums the board's evaluator keys once, so each hand adds only its own two (the same ranks as
    ``evaluate7``, which a test checks)."""
    if game == GAME_HUNL:
        board_key = FLUSH_BIAS
        for i in range(5):
            board_key += CARD_KEY[full[i]]
        mine = _rank7(board_key + CARD_KEY[my0] + CARD_KEY[my1], my0, my1, full)
    else:
        mine = strength(game, my0, my1, full)
    for h in range(hand_cards.shape[0]):
        a = hand_cards[h, 0]
        b = hand_cards[h, 1]
        if weight[h] <= 0.0 or dead[a] or dead[b]:
            continue
        if game == GAME_HUNL:
            s = _rank7(board_key + CARD_KEY[a] + CARD_KEY[b], a, b, full)
        else:
            s = strength(game, a, b, full)
        cnt[h] += 1.0
        if mine > s:
            win[h] += 1.0
        elif mine == s:
            win[h] += 0.5


@njit(cache=True)
def equity_vector(deck, my0, my1, board, n_known, samples, rng, work):
    """work.eq[h] = the showdown equity of hole (my0, my1) against hand h over the remaining board cards.

    Exact for up to two missing cards; otherwise ``samples`` random completions (the same boards for
    every h; a board that hits h is skipped for h, so each h's boards stay uniform given h). Only
    hands with ``work.weight`` > 0 are computed; dead cards (the LBR hand, the board) are never drawn.
    """
    game, n_cards, hand_cards = deck.game, deck.n_cards, deck.hands
    weight, dead, full, alive, win, cnt = work.weight, work.dead, work.full, work.alive, work.win, work.cnt
    n = hand_cards.shape[0]
    for h in range(n):
        win[h] = 0.0
        cnt[h] = 0.0
    for i in range(n_known):
        full[i] = board[i]
    m = deck.n_board - n_known
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
    eq = work.eq
    for h in range(n):
        eq[h] = win[h] / cnt[h] if cnt[h] > 0.0 else 0.5


@njit(cache=True)
def runout_odds(deck, my0, my1, o0, o1, board, n_known, samples, rng, work):
    """(P(win), P(lose)) of the LBR hand against the opponent's over the board cards still to come:
    exact for up to two cards, else over ``samples`` random boards. ``work.dead`` marks every known card."""
    game, dead, full, alive = deck.game, work.dead, work.full, work.alive
    for i in range(n_known):
        full[i] = board[i]
    m = deck.n_board - n_known
    k = 0
    for x in range(deck.n_cards):
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
                pick = i + np.int64(next_u64(rng) % uint64(k - i))
                t = alive[i]
                alive[i] = alive[pick]
                alive[pick] = t
                full[n_known + i] = alive[i]
            a = strength(game, my0, my1, full)
            b = strength(game, o0, o1, full)
            won += 1.0 if a > b else 0.0
            lost += 1.0 if a < b else 0.0
            n += 1.0
    return won / n, lost / n

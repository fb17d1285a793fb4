"""Leduc hold'em (OpenSpiel's ``leduc_poker``): six cards (J, Q, K in two suits), ante 1, two rounds
with raises of 2 and 4, at most two raises a round, one public card before the second round.

A pair with the board wins, else the higher card; equal ranks split. Suits never matter, so buckets are
ranks: the private rank before the flop, (private rank, board rank) after it. That is lossless, and the
game has 288 such infosets (OpenSpiel counts 936 because it keeps suits).
Infoset keys read ``<card>[|<board>]:<history>`` with ``f`` fold, ``c`` check/call, ``r`` bet/raise,
rounds separated by ``/``, e.g. ``K|Q:rc/cr``. The game value for player 0 is about -0.0856.
"""

from __future__ import annotations

import itertools

import numpy as np

from holdem.games.limit import LimitRules, build_limit_tree
from holdem.games.tree import Game, merge_identical_deals

RANKS = ("J", "Q", "K")


def _letter(action: int, facing_bet: bool) -> str:
    return "fcr"[action]


def _winner(r0: int, r1: int, board: int) -> int:
    if r0 == board:
        return 1
    if r1 == board:
        return -1
    return int(np.sign(r0 - r1))


def leduc() -> Game:
    rules = LimitRules(ante=1.0, raise_sizes=(2.0, 4.0), max_raises=2, letter=_letter)
    tree = build_limit_tree(rules, num_buckets=(3, 9))
    deals = list(itertools.permutations(range(6), 3))  # card // 2 is the rank
    ranks = [(a // 2, b // 2, c // 2) for a, b, c in deals]
    buckets = np.array([[[r0, r0 * 3 + rb], [r1, r1 * 3 + rb]] for r0, r1, rb in ranks], dtype=np.int32)
    winner = np.array([_winner(*r) for r in ranks], dtype=np.int8)
    prob = np.full(len(deals), 1.0 / len(deals))
    labels = (RANKS, tuple(f"{p}|{b}" for p in RANKS for b in RANKS))
    return Game("leduc", tree, merge_identical_deals(buckets, winner, prob, labels))

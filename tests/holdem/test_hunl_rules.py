"""Our heads-up no-limit rules agree with pokerkit's state machine, and read right on known hands."""

from __future__ import annotations

import random
import warnings

import pytest

from holdem.games.hunl.rules import Action, HunlRules, Kind, State

RANKS = "23456789TJQKA"
SUITS = "cdhs"


def card_text(c: int) -> str:
    return RANKS[c // 4] + SUITS[c % 4]


def pk_state(rules: HunlRules, cards: list[int]):
    from pokerkit import Automation, Mode, NoLimitTexasHoldem

    auto = (
        Automation.ANTE_POSTING,
        Automation.BET_COLLECTION,
        Automation.BLIND_OR_STRADDLE_POSTING,
        Automation.HOLE_CARDS_SHOWING_OR_MUCKING,
        Automation.HAND_KILLING,
        Automation.CHIPS_PUSHING,
        Automation.CHIPS_PULLING,
        Automation.CARD_BURNING,
        Automation.RUNOUT_COUNT_SELECTION,
    )
    s = NoLimitTexasHoldem.create_state(
        auto,
        False,
        0,
        (rules.small_blind, rules.big_blind),
        rules.big_blind,
        (rules.stack, rules.stack),
        2,
        mode=Mode.CASH_GAME,
    )
    # pokerkit seats the button (small blind) as player 1; ours is player 0
    s.deal_hole(card_text(cards[2]) + card_text(cards[3]))
    s.deal_hole(card_text(cards[0]) + card_text(cards[1]))
    return s


PK = {0: 1, 1: 0}  # our seat -> pokerkit's


def deal_board_if_due(pk, cards: list[int], dealt: list[int]) -> None:
    while pk.can_deal_board():
        n = 3 if dealt[0] == 0 else 1
        with warnings.catch_warnings():  # pokerkit burns a random card, which may be one we deal later
            warnings.simplefilter("ignore")
            pk.deal_board("".join(card_text(c) for c in cards[4 + dealt[0] : 4 + dealt[0] + n]))
        dealt[0] += n


def random_action(state: State, rng: random.Random) -> Action:
    legal = state.legal()
    choices = [Action(Kind.CHECK_CALL)]
    if legal.can_fold and rng.random() < 0.15:
        return Action(Kind.FOLD)
    lo, hi = legal.min_raise_to, legal.max_raise_to
    if lo is not None and hi is not None:
        choices += [Action(Kind.RAISE, lo), Action(Kind.RAISE, hi), Action(Kind.RAISE, rng.randint(lo, hi))]
    return rng.choice(choices)


@pytest.mark.parametrize("seed", range(300))
def test_random_hands_match_pokerkit(seed):
    rng = random.Random(seed)
    rules = rng.choice([HunlRules(), HunlRules(50, 100, 2_000), HunlRules(1, 2, 37), HunlRules(5, 10, 1_000)])
    cards = rng.sample(range(52), 9)
    ours = State.initial(rules)
    pk = pk_state(rules, cards)
    dealt = [0]
    while not ours.finished:
        deal_board_if_due(pk, cards, dealt)
        assert pk.actor_index == PK[ours.to_act]
        legal = ours.legal()
        assert legal.call_amount == pk.checking_or_calling_amount
        assert (legal.min_raise_to is not None) == pk.can_complete_bet_or_raise_to()
        if legal.min_raise_to is not None:
            assert legal.min_raise_to == pk.min_completion_betting_or_raising_to_amount
            assert legal.max_raise_to == pk.max_completion_betting_or_raising_to_amount
        action = random_action(ours, rng)
        ours = ours.apply(action)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if action.kind == Kind.FOLD:
                pk.fold()
            elif action.kind == Kind.CHECK_CALL:
                pk.check_or_call()
            else:
                pk.complete_bet_or_raise_to(action.to)
        if not ours.finished:
            assert [ours.stack(p) for p in (0, 1)] == [pk.stacks[PK[p]] for p in (0, 1)]
    deal_board_if_due(pk, cards, dealt)
    assert pk.status is False  # pokerkit agrees the hand is over
    winner = showdown_winner(cards)
    payoff = ours.payoff(winner)
    assert [payoff[p] for p in (0, 1)] == [pk.payoffs[PK[p]] for p in (0, 1)]


def showdown_winner(cards: list[int]) -> int:
    from pokerkit import StandardHighHand

    board = "".join(card_text(c) for c in cards[4:9])
    h0 = StandardHighHand.from_game(card_text(cards[0]) + card_text(cards[1]), board)
    h1 = StandardHighHand.from_game(card_text(cards[2]) + card_text(cards[3]), board)
    return 1 if h0 > h1 else -1 if h1 > h0 else 0


def test_the_button_acts_first_preflop_and_last_after():
    s = State.initial(HunlRules())
    assert s.to_act == 0 and s.legal().call_amount == 50 and s.legal().min_raise_to == 200
    s = s.apply(Action(Kind.CHECK_CALL))  # limp
    assert s.to_act == 1 and s.street == 0  # the big blind has the option
    s = s.apply(Action(Kind.CHECK_CALL))
    assert s.street == 1 and s.to_act == 1 and s.pot == 200


def test_minimum_raise_is_the_last_raise_size():
    s = State.initial(HunlRules())
    s = s.apply(Action(Kind.RAISE, 350))  # a raise of 250 over the big blind
    assert s.legal().min_raise_to == 600
    with pytest.raises(ValueError):
        s.apply(Action(Kind.RAISE, 599))


def test_all_in_for_less_does_not_reopen_and_excess_returns():
    s = State.initial(HunlRules(50, 100, 1_000))
    s = s.apply(Action(Kind.RAISE, 600))
    legal = s.legal()
    assert legal.min_raise_to == 1_000 == legal.max_raise_to  # all-in for less than a full raise
    s = s.apply(Action(Kind.RAISE, 1_000))
    assert s.legal().min_raise_to is None  # only fold or call against an all-in
    s = s.apply(Action(Kind.CHECK_CALL))
    assert s.finished and s.payoff(1) == (1_000, -1_000) and s.payoff(0) == (0.0, 0.0)


def test_fold_gives_the_pot_to_the_other_player():
    s = State.initial(HunlRules()).apply(Action(Kind.RAISE, 300)).apply(Action(Kind.FOLD))
    assert s.finished and s.payoff(0) == (100, -100)

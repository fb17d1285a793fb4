"""Playing the real game: duplicate matches, blueprint agents, action translation, `holdem match`/`play`."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest
from holdem_proc import REPO, SMALL_HUNL, write_config

from holdem.blueprint.hunl import Blueprint, load_blueprint
from holdem.blueprint.translation import pot_fraction, pseudo_harmonic, translate_raise
from holdem.cli import commands as cli
from holdem.games.hunl.game import load_hunl
from holdem.games.hunl.rules import Action, HunlRules, Kind, State
from holdem.play.agents import BlueprintAgent, CallBot, RaisePotBot, RandomBot
from holdem.play.match import deal_cards, hand_rng, play_hand, run_match, showdown_winners
from holdem.play.terminal import parse_command
from holdem.solver.regret import average_strategy
from holdem.solver.solver import Solver, SolverSettings

RULES = HunlRules()
# Other bet sizes over the same bucket counts: another tree, the same (already built) bucket set.
OTHER_HUNL = {
    **SMALL_HUNL,
    "bet_sizes": {"preflop": [0.5, 2.5], "flop": [0.33, 1.5], "turn": [0.66], "river": [0.5, 2.0]},
    "max_raises": {"preflop": 3, "flop": 2, "turn": 2, "river": 2},
}


def holdem(*args: object, stdin: str = "", timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "holdem", *map(str, args)],
        cwd=REPO,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def trained(hunl_buckets, tmp_path_factory):
    """(bucket root, instance folder) of a blueprint trained by the real `holdem train` on SMALL_HUNL."""
    root, _ = hunl_buckets
    folder = tmp_path_factory.mktemp("blueprint")
    cfg = write_config(
        folder / "small.yaml",
        "game: hunl\nalgorithm: es-mccfr\nseed: 1\n"
        "cfr: {averaging: linear, linear_regrets: true}\n"
        "hunl: " + json.dumps(SMALL_HUNL) + "\n",
    )
    done = holdem("train", "--config", cfg, "--instance-dir", folder / "i", "--iters", 150_000, "--buckets-root", root)
    assert done.returncode == 0, done.stderr
    return root, folder / "i"


def quick_blueprint(root, section, iters: int, seed: int) -> Blueprint:
    game = load_hunl(section, root, build_if_missing=False)
    solver = Solver(game, SolverSettings("es-mccfr"), seed=seed)
    solver.run(iters)
    return Blueprint(game, average_strategy(game.tree, solver.strategy_sum), iters, root)


# ---------------------------------------------------------------- duplicate matches between bots


def test_call_against_call_is_exactly_zero():
    result = run_match(CallBot(), CallBot(), RULES, 2_000, seed=3)
    assert result.mbb_per_hand == 0.0 and result.ci95 == (0.0, 0.0) and result.hands == 2_000


def test_card_blind_bots_that_never_fold_tie_exactly_in_duplicate():
    # Neither looks at its cards, so both seatings build the same pots: the cards cancel exactly.
    assert run_match(RaisePotBot(), CallBot(), RULES, 2_000, seed=3).mbb_per_hand == 0.0


def test_a_random_bot_against_itself_ties_exactly_because_both_seatings_draw_the_same_numbers():
    # Common random numbers: the two hands of a deal share their draws, so identical play cancels.
    result = run_match(RandomBot(RULES), RandomBot(RULES), RULES, 4_000, seed=5)
    assert result.mbb_per_hand == 0.0 and result.ci95 == (0.0, 0.0)


def test_the_two_hands_of_a_deal_share_their_random_numbers_and_deals_differ():
    assert hand_rng(5, 3).random() == hand_rng(5, 3).random()
    assert len({hand_rng(s, d).random() for s in (0, 1) for d in (0, 1, 2)}) == 6


def test_raise_pot_beats_random_which_folds_to_raises():
    result = run_match(RaisePotBot(), RandomBot(RULES), RULES, 4_000, seed=2)
    assert result.ci95[0] > 0.0
    flipped = run_match(RandomBot(RULES), RaisePotBot(), RULES, 4_000, seed=2)
    assert flipped.ci95[1] < 0.0


def test_a_match_is_a_function_of_its_seed():
    first = run_match(RandomBot(RULES), RaisePotBot(), RULES, 1_000, seed=11)
    again = run_match(RandomBot(RULES), RaisePotBot(), RULES, 1_000, seed=11)
    other = run_match(RandomBot(RULES), RaisePotBot(), RULES, 1_000, seed=12)
    assert first.mbb_per_hand == again.mbb_per_hand != other.mbb_per_hand


def test_deals_hold_nine_distinct_cards_and_winners_follow_the_evaluator():
    import numpy as np

    cards = deal_cards(500, seed=0)
    assert cards.shape == (500, 9) and all(len(set(row)) == 9 for row in cards.tolist())
    winners = np.empty(500, dtype=np.int8)
    showdown_winners(cards, winners)
    swapped = cards[:, [2, 3, 0, 1, 4, 5, 6, 7, 8]].copy()
    mirrored = np.empty(500, dtype=np.int8)
    showdown_winners(swapped, mirrored)
    assert np.array_equal(winners, -mirrored) and set(winners.tolist()) <= {-1, 0, 1}


# ---------------------------------------------------------------- action translation


def test_pseudo_harmonic_mapping_matches_the_formula():
    assert pseudo_harmonic(0.5, 1.0, 0.5) == 1.0 and pseudo_harmonic(0.5, 1.0, 1.0) == 0.0
    # f(x) = (B - x)(1 + A) / ((B - A)(1 + x)) = 0.25 * 1.5 / (0.5 * 1.75)
    assert pseudo_harmonic(0.5, 1.0, 0.75) == pytest.approx(3 / 7)
    values = [pseudo_harmonic(0.5, 2.0, 0.5 + k / 10) for k in range(16)]
    assert values == sorted(values, reverse=True)
    # Scale invariance: the fraction of the way in harmonic terms, not arithmetic (0.75 is not 1/2).
    assert pseudo_harmonic(1.0, 3.0, 2.0) == pytest.approx(1 * 2 / (2 * 3))


def test_translate_raise_randomises_between_the_neighbours_only():
    sizes = (0.5, 1.0, 2.0, 99.0)
    rng = random.Random(0)
    picks = [translate_raise(sizes, 0.75, rng.random()) for _ in range(20_000)]
    assert set(picks) == {0, 1}
    assert picks.count(0) / len(picks) == pytest.approx(3 / 7, abs=0.015)
    assert translate_raise(sizes, 0.1, 0.99) == 0 and translate_raise(sizes, 500.0, 0.0) == 3
    assert translate_raise(sizes, 2.0, 0.0) == 2


def test_an_off_tree_raise_moves_the_blueprint_to_a_neighbouring_raise(hunl_buckets):
    root, game = hunl_buckets  # preflop sizes: pot (to 300 over a limp... ) and all-in
    agent = BlueprintAgent(Blueprint(game, average_strategy(game.tree, game.tree.slot * 0.0), 0, root))
    agent.prepare(deal_cards(1, seed=0))
    state = State.initial(RULES)
    pot_raise = next(a for a in game.abstraction.actions(state) if a.kind == Kind.RAISE)
    assert pot_fraction(state, pot_raise.to) == pytest.approx(1.0)
    seen = set()
    for draw in range(40):
        agent.begin_hand(1, 0)  # the blueprint is the big blind; the button raises off the tree
        agent.observe(state, Action(Kind.RAISE, 900), random.Random(draw))  # 3.5 pots: between pot and all-in
        seen.add(game.tree.history[agent.node])
    assert seen == {f"r{pot_raise.to}", f"r{RULES.stack}"}
    agent.begin_hand(1, 0)
    agent.observe(state, Action(Kind.RAISE, 220), random.Random(0))  # below the smallest size: the pot raise
    assert game.tree.history[agent.node] == f"r{pot_raise.to}"


def test_on_the_tree_the_pointer_follows_the_real_history(hunl_buckets):
    root, _ = hunl_buckets
    blueprint = quick_blueprint(root, SMALL_HUNL, 3_000, seed=2)
    seats = (BlueprintAgent(blueprint), BlueprintAgent(blueprint))
    cards = deal_cards(200, seed=4)
    for agent in seats:
        agent.prepare(cards)
    rng = random.Random(0)

    def check(before: State, action: Action, after: State) -> None:
        for agent in seats:
            assert blueprint.game.tree.history[agent.node] == after.history_text()

    for d in range(200):
        play_hand(RULES, seats, d, 0, rng, listener=check)


def always_smallest_raise(game) -> Blueprint:
    """A blueprint that makes its smallest raise wherever it can and otherwise checks or calls."""
    import numpy as np

    t = game.tree
    policy = np.zeros(t.n_slots)
    for n in t.decision_nodes():
        kids = t.children[t.child_start[n] : t.child_start[n] + t.num_children[n]]
        acts = t.action[kids].tolist()
        pick = acts.index(2) if 2 in acts else acts.index(1)
        for b in range(int(t.num_buckets[t.street[n]])):
            policy[t.offset(int(n), b) + pick] = 1.0
    return Blueprint(game, policy, 0, game.buckets.path)


def test_out_of_step_the_blueprint_calls_until_the_real_hand_catches_up(hunl_buckets):
    _, game = hunl_buckets  # preflop: at most 2 raises, each a pot raise or all-in
    agent = BlueprintAgent(always_smallest_raise(game))
    agent.prepare(deal_cards(1, seed=0))
    agent.begin_hand(1, 0)
    rng = random.Random(0)
    state = State.initial(RULES)
    for action in [Action(Kind.RAISE, 300), None, Action(Kind.RAISE, 2_700)]:  # None: the blueprint acts
        if action is None:
            action = agent.act(state, rng)
            assert action == Action(Kind.RAISE, 900)  # a pot raise: call 200, then add the pot of 600
        agent.observe(state, action, rng)
        state = state.apply(action)
    # The tree has no third raise, so the re-raise went on as a call: the pointer is on the flop already.
    assert game.tree.street[agent.node] == 1 and state.street == 0
    assert agent.act(state, rng) == Action(Kind.CHECK_CALL)
    agent.observe(state, Action(Kind.CHECK_CALL), rng)
    state = state.apply(Action(Kind.CHECK_CALL))
    # Back in step on the flop: a pot-sized bet in the real pot.
    assert state.street == 1 and agent.act(state, rng) == Action(Kind.RAISE, state.pot)


# ---------------------------------------------------------------- blueprints in the real game


def test_a_trained_blueprint_beats_random_and_call(trained):
    root, instance = trained
    blueprint = load_blueprint(instance, root)
    for bot in (RandomBot(RULES), CallBot()):
        result = run_match(BlueprintAgent(blueprint), bot, RULES, 6_000, seed=1)
        assert result.ci95[0] > 300.0, result


def test_blueprints_of_different_abstractions_play_each_other_and_wild_raises(trained):
    root, instance = trained
    other = BlueprintAgent(quick_blueprint(root, OTHER_HUNL, 20_000, seed=3))
    result = run_match(BlueprintAgent(load_blueprint(instance, root)), other, RULES, 2_000, seed=6)
    assert result.hands == 2_000 and result.ci95[0] < result.mbb_per_hand < result.ci95[1]

    class WildBot(RandomBot):
        """Raises to any legal amount, on or off every tree."""

        def act(self, state: State, rng: random.Random) -> Action:
            legal = state.legal()
            lo, hi = legal.min_raise_to, legal.max_raise_to
            if lo is not None and hi is not None and rng.random() < 0.5:
                return Action(Kind.RAISE, rng.randint(lo, hi))
            return super().act(state, rng)

    run_match(other, WildBot(RULES), RULES, 2_000, seed=7)  # every real action is checked legal by State


# ---------------------------------------------------------------- the commands


def test_holdem_match_reports_json_from_a_point_of_view(trained):
    root, instance = trained
    out = holdem("match", instance, "random", "--hands", 2_000, "--seed", 4, "--json", "--buckets-root", root)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert set(report) == {"a", "b", "hands", "mbb_per_hand", "ci95", "seconds"}
    assert report["b"] == "random" and report["hands"] == 2_000
    assert report["ci95"][0] < report["mbb_per_hand"] < report["ci95"][1] and report["mbb_per_hand"] > 0


def test_holdem_play_through_a_pipe_plays_hands_to_the_end(trained):
    root, instance = trained
    out = holdem(
        "play", instance, "--hands", 2, "--seat", 0, "--buckets-root", root, stdin="r 99999\nhello\n" + "c\n" * 40
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "you are the button" in text and "your turn:" in text and "r 200..10000 raise to" in text
    assert "raise to between 200 and 10000" in text and "unknown command 'hello'" in text
    assert "done. 2 hands" in text and text.count("total ") >= 3


def test_holdem_play_quits_on_q_with_the_running_total(trained):
    root, instance = trained
    out = holdem("play", instance, "--seat", 1, "--buckets-root", root, stdin="q\n")
    assert out.returncode == 0 and "bye. 0 hands, total +0 chips" in out.stdout


def test_parse_command_accepts_only_legal_actions():
    state = State.initial(RULES)
    assert parse_command("c", state) == Action(Kind.CHECK_CALL)
    assert parse_command("f", state) == Action(Kind.FOLD)
    assert parse_command("r 600", state) == Action(Kind.RAISE, 600)
    assert "between 200 and 10000" in refusal("r 150", state)
    checked = state.apply(Action(Kind.CHECK_CALL))
    assert "no bet to fold" in refusal("f", checked)


def refusal(line: str, state: State) -> str:
    """What parse_command says to a command it refuses."""
    answer = parse_command(line, state)
    assert isinstance(answer, str), answer
    return answer


@pytest.mark.parametrize("command", ["match", "play"])
def test_a_bad_policy_path_exits_2_naming_it(tmp_path, capsys, command):
    missing = tmp_path / "nowhere"
    args = ["match", str(missing), "call"] if command == "match" else ["play", str(missing)]
    assert cli.main(args + ["--buckets-root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "does not exist" in err
    assert ("a bot name" in err) == (command == "match")  # play takes no bot (issue 26 item 14)


def test_a_policy_of_another_game_exits_2_naming_the_game(tmp_path, capsys):
    import numpy as np

    from holdem.storage.checkpoint import write_checkpoint

    write_checkpoint(tmp_path / "leduc", 10, {"strategy_sum": np.zeros(4)}, {"game": "leduc"}, keep=1)
    assert cli.main(["match", "call", str(tmp_path / "leduc"), "--buckets-root", str(tmp_path)]) == 2
    assert "is a 'leduc' policy, not a hold'em one" in capsys.readouterr().err

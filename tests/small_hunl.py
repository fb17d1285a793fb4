"""The hold'em abstraction of the tests (holdem, e2e, tui): the features are exact whatever the bucket
counts, so one bucket build (about half a minute) serves every hold'em test of the session."""

from __future__ import annotations

SMALL_HUNL = {
    "bet_sizes": {"preflop": [1.0], "flop": [1.0], "turn": [1.0], "river": [1.0]},
    "max_raises": {"preflop": 2, "flop": 1, "turn": 1, "river": 1},
    "buckets": {"preflop": 169, "flop": 8, "turn": 8, "river": 8},
}

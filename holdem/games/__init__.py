"""Games as flat arrays (see tree.py). ``load_game(name)`` is the one way in."""

from __future__ import annotations

from holdem.games.tree import Game

GAMES = ("kuhn", "leduc")


def load_game(name: str) -> Game:
    if name == "kuhn":
        from holdem.games.kuhn import kuhn

        return kuhn()
    if name == "leduc":
        from holdem.games.leduc import leduc

        return leduc()
    raise ValueError(f"unknown game {name!r} (available: {', '.join(GAMES)})")

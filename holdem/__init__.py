"""The poker AI: games, abstraction, MCCFR solver, checkpoints, evaluation. Knows nothing of the daemon or the TUI."""

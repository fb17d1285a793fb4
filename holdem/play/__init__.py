"""Playing poker: agents and bots, the search agent, duplicate matches, the terminal game."""

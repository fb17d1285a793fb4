"""Real-time search: ranges, subgame construction, leaf values, the vectorised subgame solver, the agent."""

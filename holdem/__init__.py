"""The poker AI: games, abstraction, MCCFR solver, checkpoints, evaluation. Knows nothing of the daemon or the TUI."""


def version() -> str:
    """The installed distribution's version (the package can run from a checkout without being installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("holdem")
    except PackageNotFoundError:
        return "unknown (not installed)"

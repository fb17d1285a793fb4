"""holdemd and holdemctl: the asyncio supervisor of `holdem train` instances. Knows no poker."""


def version() -> str:
    """The installed distribution's version, for `--version` of holdemd, holdemctl and holdem-tui.

    The same as `holdem.version()`, kept apart because the supervisor and the TUI import no poker."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("holdem")
    except PackageNotFoundError:
        return "unknown (not installed)"

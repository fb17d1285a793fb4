"""What every ``holdem`` subcommand does the same way: refuse bad input on stderr and in the event stream."""

from __future__ import annotations

import sys

from holdem.instance.events import EventStream
from holdem.instance.exit_codes import EXIT_BAD_INPUT


def bad(events: EventStream, message: str) -> int:
    """Bad input is never worth retrying: say so (stderr and a permanent error event) and exit 2."""
    print(f"holdem: {message}", file=sys.stderr)
    events.emit("error", 0, message=message, permanent=True)
    return EXIT_BAD_INPUT

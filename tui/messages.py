"""Messages between the connection and the views: small dataclasses.

`ModelChanged` is high-rate (one per daemon event at most); a queued one is replaced by the next,
so the UI handles at most one per turn of its loop however fast progress arrives.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from textual.message import Message


class Link(str, enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"  # no daemon (socket missing or nobody listening) or it went away
    DENIED = "denied"  # the daemon refused us (permission)


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """What the connection bar shows."""

    link: Link
    path: str
    detail: str = ""
    pid: int | None = None
    retry_in: float | None = None
    warnings: tuple[str, ...] = ()  # the daemon's (status `daemon.warnings`): low disk space, …


@dataclass
class ModelChanged(Message):
    """The model moved on; views redraw from it (coalesced: only the newest queued one counts)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ModelChanged)


@dataclass
class LinkChanged(Message):
    status: LinkStatus

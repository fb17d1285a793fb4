"""sd_notify over $NOTIFY_SOCKET with the standard library: READY=1, STATUS=, WATCHDOG=1, STOPPING=1.

The protocol is one datagram of newline-separated KEY=VALUE to an AF_UNIX socket whose address
starts with '/' (a path) or '@' (Linux abstract namespace). Without NOTIFY_SOCKET every call is a
no-op, so the daemon behaves the same in a terminal.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    address: str | None = None
    watchdog_usec: int | None = None  # systemd's WatchdogSec, when it applies to this process

    @classmethod
    def from_environ(cls, env: Mapping[str, str], pid: int) -> NotifyConfig:
        """Read once at the entry point. WATCHDOG_PID, if set, must name us (not a parent's)."""
        usec = env.get("WATCHDOG_USEC")
        wpid = env.get("WATCHDOG_PID")
        watchdog = int(usec) if usec and usec.isdigit() and (not wpid or wpid == str(pid)) else None
        return cls(env.get("NOTIFY_SOCKET") or None, watchdog)

    @property
    def watchdog_interval_s(self) -> float | None:
        """Ping at half the timeout, as sd_watchdog_enabled(3) recommends."""
        return self.watchdog_usec / 2e6 if self.watchdog_usec else None


class Notifier:
    def __init__(self, cfg: NotifyConfig) -> None:
        self.cfg = cfg
        self._sock: socket.socket | None = None
        if cfg.address:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.setblocking(False)

    def send(self, *assignments: str) -> bool:
        """Send KEY=VALUE lines in one datagram; False (never an exception) if it did not go out."""
        if self._sock is None or not self.cfg.address:
            return False
        addr = self.cfg.address
        if addr.startswith("@"):
            addr = "\0" + addr[1:]
        try:
            self._sock.sendto("\n".join(assignments).encode(), addr)
        except OSError:
            return False
        return True

    def ready(self, status: str) -> bool:
        return self.send("READY=1", f"STATUS={status}")

    def status(self, status: str) -> bool:
        return self.send(f"STATUS={status}")

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def stopping(self, status: str) -> bool:
        return self.send("STOPPING=1", f"STATUS={status}")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

"""holdemd's log: one logger, "holdemd", written to stderr, to holdemd.log and to the socket's subscribers;
and the tail of any log file, for `logs.tail`."""

from __future__ import annotations

import logging
import os
import sys
from collections import deque
from pathlib import Path

from supervisor.config import DaemonConfig
from supervisor.daemon.api import Hub
from supervisor.protocol import EventKind

log = logging.getLogger("holdemd")


class _HubHandler(logging.Handler):
    """Daemon log lines also go to subscribers (run/instance null)."""

    def __init__(self, hub: Hub) -> None:
        super().__init__()
        self.hub = hub

    def emit(self, record: logging.LogRecord) -> None:
        self.hub.publish(
            {
                "event": EventKind.LOG.value,
                "run": None,
                "instance": None,
                "line": self.format(record),
                "t": record.created,
            }
        )


class _TolerantFileHandler(logging.FileHandler):
    """holdemd.log on a full disk: the line is lost (stderr and subscribers still get it), no traceback."""

    def handleError(self, record: logging.LogRecord) -> None:
        self.dropped = getattr(self, "dropped", 0) + 1


def setup_logging(cfg: DaemonConfig, hub: Hub) -> None:
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S")
    log.handlers.clear()
    log.setLevel(logging.INFO)
    log.propagate = False
    for handler in (logging.StreamHandler(sys.stderr), _TolerantFileHandler(cfg.log_path), _HubHandler(hub)):
        handler.setFormatter(fmt)
        log.addHandler(handler)


def tail(path: Path, n: int) -> list[str]:
    """The last n lines of a text file, reading from the end (logs grow for days)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            block, data = 1 << 16, b""
            pos = size
            while pos > 0 and data.count(b"\n") <= n:
                step = min(block, pos)
                pos -= step
                f.seek(pos)
                data = f.read(step) + data
    except FileNotFoundError:
        return []
    return [line.decode(errors="replace") for line in deque(data.splitlines(), maxlen=n)]

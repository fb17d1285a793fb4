"""holdemd's log: one logger, "holdemd", written to stderr, to holdemd.log and to the socket's subscribers."""

from __future__ import annotations

import logging
import sys

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

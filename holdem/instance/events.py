"""The instance event stream: JSON Lines on stdout, one flushed object per line (docs/architecture.md,
"The instance"; every event's fields in docs/formats.md).

Every object carries ``v`` (protocol version), ``event``, ``t`` (unix time) and ``iter``. When the
stream is off (a person at a terminal) events go nowhere and the caller shows a progress bar instead.
When its reader is gone (a killed daemon) events are dropped and counted, never raised (pipes.py):
the instance trains on and still checkpoints when it is stopped.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import threading
import time
from typing import Any, TextIO

from holdem.instance.pipes import silence

EVENTS_VERSION = 1

log = logging.getLogger("holdem.events")


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity; a metric that is not a number yet is sent as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


class EventStream:
    def __init__(self, enabled: bool, out: TextIO | None = None) -> None:
        self.enabled = enabled
        self.dropped = 0  # events not sent because the reader was gone
        self._out = out if out is not None else sys.stdout
        self._gone = False
        self._lock = threading.Lock()  # the heartbeat thread and the loop both emit

    def emit(self, event: str, iteration: int, **fields: Any) -> None:
        if not self.enabled:
            return
        obj = {"v": EVENTS_VERSION, "event": event, "t": time.time(), "iter": int(iteration)}
        obj.update(_finite(fields))
        line = json.dumps(obj, separators=(",", ":"), allow_nan=False) + "\n"
        with self._lock:
            if self._gone:
                self.dropped += 1
                return
            try:
                self._out.write(line)
                self._out.flush()
                return
            except BrokenPipeError:
                self._gone = True
                self.dropped += 1
                silence(self._out)
        log.warning("the event stream's reader is gone; events are dropped from now on (%s)", event)

"""The instance event stream: JSON Lines on stdout, one flushed object per line (docs/architecture.md,
"The instance"; every event's fields in docs/formats.md).

Every object carries ``v`` (protocol version), ``event``, ``t`` (unix time) and ``iter``. When the
stream is off (a person at a terminal) events go nowhere and the caller shows a progress bar instead.
"""

from __future__ import annotations

import json
import math
import sys
import time
from typing import Any, TextIO

EVENTS_VERSION = 1


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
        self._out = out if out is not None else sys.stdout

    def emit(self, event: str, iteration: int, **fields: Any) -> None:
        if not self.enabled:
            return
        obj = {"v": EVENTS_VERSION, "event": event, "t": time.time(), "iter": int(iteration)}
        obj.update(_finite(fields))
        self._out.write(json.dumps(obj, separators=(",", ":"), allow_nan=False) + "\n")
        self._out.flush()

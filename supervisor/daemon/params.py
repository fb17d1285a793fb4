"""Checking a request's parameters: unknown keys refused, each value of the type it must have (a
bool is never taken for an int). A bad request is an INVALID_PARAMS error, never a crash."""

from __future__ import annotations

from typing import Any

from supervisor.daemon.api import ApiError
from supervisor.protocol import ErrorCode


def check_keys(params: dict[str, Any], allowed: set[str]) -> None:
    extra = set(params) - allowed
    if extra:
        raise ApiError(ErrorCode.INVALID_PARAMS, f"unexpected parameter(s): {', '.join(sorted(extra))}")


def opt(params: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = params.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise ApiError(ErrorCode.INVALID_PARAMS, f"{key!r} must be {names}")
    return value

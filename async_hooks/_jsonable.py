"""Describe payloads as JSON values: one conversion for ``JobResult.to_dict`` and the Airflow
event (which Airflow stores and hands to another process)."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["json_safe"]


def json_safe(value: Any, mask: Callable[[str], str] | None = None) -> Any:
    """``value`` as JSON: datetimes as ISO 8601, bytes as base64, decimals and non-finite
    floats as strings, tuples and sets as lists, anything else as its ``str``; every string
    value through ``mask`` when given. Keys are not masked: they are the provider's field names
    (and a job's tag or parameter names), which hold no secret a request sent, and masking them
    doubled the strings to mask."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, str):
        return value if mask is None else mask(value)
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, Mapping):
        return {str(key): json_safe(item, mask) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(item, mask) for item in value]
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return _text(str(value), mask)


def _text(text: str, mask: Callable[[str], str] | None) -> str:
    return text if mask is None else mask(text)

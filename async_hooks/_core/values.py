"""The value tests every setting's check shares: a finite real number, encodable text."""

from __future__ import annotations

import math
from typing import TypeGuard

__all__ = ["is_encodable", "is_finite_number"]


def is_finite_number(value: object) -> TypeGuard[int | float]:
    """An int or float (not a bool) that a float can hold and that is finite.

    ``math.isfinite`` raises ``OverflowError`` for an int beyond a float's range (``2**1100``):
    such a value is not a usable number of seconds or calls, and must be refused, not crash.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def is_encodable(text: str) -> bool:
    """No lone surrogate: ``text`` can go out as UTF-8 (in a header, a URL, an environment
    variable's name), which yarl and ``os.environ`` would otherwise drop or refuse later."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True

"""Shims for the oldest supported Python (3.10)."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    from asyncio import timeout_at
else:  # pragma: no cover - exercised by the 3.10 test run
    from async_timeout import timeout_at

__all__ = ["timeout_at"]

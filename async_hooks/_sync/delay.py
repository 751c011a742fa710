"""The AIP's ``delay`` helper: one call that sleeps without blocking when async is on."""

from __future__ import annotations

import asyncio
import os
import time

__all__ = ["delay"]

_FALSE = {"0", "false", "no", "off"}


def _use_async_default() -> bool:
    return os.environ.get("ASYNC_HOOKS_USE_ASYNC", "1").strip().lower() not in _FALSE


async def delay(seconds: float, use_async: bool | None = None) -> None:
    """Sleep ``seconds``: ``asyncio.sleep`` normally; ``time.sleep`` (blocking the loop) when
    ``use_async`` is false, or ``ASYNC_HOOKS_USE_ASYNC`` says ``0``/``false``.

    The blocking branch exists to compare and debug: it shows what a blocking poller costs.
    """
    if use_async is None:
        use_async = _use_async_default()
    if use_async:
        await asyncio.sleep(seconds)
    else:
        time.sleep(seconds)  # noqa: ASYNC251 - the point of the blocking branch

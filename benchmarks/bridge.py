"""The sync bridge: a blocking call into a coroutine, four ways."""

from __future__ import annotations

import asyncio
import time
from typing import Any


async def _noop() -> int:
    return 1


def _per_call_us(calls: int, call: Any) -> float:
    for _ in range(10):
        call()
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) / calls * 1e6


def run(quick: bool) -> dict[str, Any]:
    from anyio.from_thread import start_blocking_portal
    from asgiref.sync import async_to_sync

    from async_hooks import run_sync

    n = 500 if quick else 3000
    results: dict[str, Any] = {
        "run_sync_us": _per_call_us(n, lambda: run_sync(_noop)),
        "asyncio_run_us": _per_call_us(n // 5, lambda: asyncio.run(_noop())),
        "asgiref_async_to_sync_us": _per_call_us(n, async_to_sync(_noop)),
    }
    with start_blocking_portal() as portal:
        results["anyio_portal_us"] = _per_call_us(n, lambda: portal.call(_noop))
    results["asyncio_run_vs_run_sync"] = results["asyncio_run_us"] / results["run_sync_us"]
    return results

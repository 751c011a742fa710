"""Pins on the upstream code async_hooks relies on beyond public API (aiobotocore's practice).

``_AdjustableRateLimiter`` changes aiolimiter's rate by updating ``max_rate``, ``time_period``
and the private ``_rate_per_sec``/``_level`` and calling ``_leak``/``_wake_next``. If aiolimiter
changes these, this test fails: re-read its ``AsyncLimiter`` and update the subclass and hashes.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect

from aiolimiter import AsyncLimiter

from async_hooks._core.throttle import _AdjustableRateLimiter

PINNED = {
    "__init__": "09700705dc2ab1dd",
    "_leak": "503fd58b2477911f",
    "_wake_next": "2b03abbd4320c0aa",
}


def _digest(name: str) -> str:
    source = inspect.getsource(getattr(AsyncLimiter, name))
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def test_aiolimiter_internals_are_the_ones_we_adjust():
    for name in ("_rate_per_sec", "_level", "max_rate", "time_period"):
        assert name in AsyncLimiter.__slots__
    assert {name: _digest(name) for name in PINNED} == PINNED


async def test_the_adjusted_rate_takes_effect_for_waiters():
    limiter = _AdjustableRateLimiter(0.2)
    loop = asyncio.get_running_loop()
    await limiter.acquire()  # the burst (one call) is spent
    limiter.set_rate(200.0)
    started = loop.time()
    for _ in range(5):
        await limiter.acquire()
    # 25 ms at 200/s; at the old 0.2/s it would take 25 s: the margin absorbs a busy machine.
    assert loop.time() - started < 10
    limiter.set_rate(0.5, drain=True)
    assert limiter.rate == 0.5 and limiter.max_rate == 1.0
    assert not limiter.has_capacity()

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


# The status path (async_hooks/aws/_status.py, _capture.py) relies on botocore beyond its public
# API: aiobotocore's endpoint emits ``before-parse`` with the answer's ``response_dict`` and then
# parses ``response_dict["body"]`` (the capture swaps in an empty object after taking the bytes),
# and a JSON protocol's parser reads each member with ``_parse_shape`` on ``json.loads`` of the
# body, leaving out null members (``_handle_structure``) -- which ``StatusReader.build`` calls on
# one item's bytes and the brief mirrors. If one of these changes, re-read it, check the status
# path still builds botocore's own dicts (tests/test_status_path.py) and update the hashes.
BOTOCORE_PINNED = {
    "ResponseParser._parse_shape": "448f05949c380e13",
    "BaseJSONParser._handle_structure": "c0149450e9824bc3",
    "ResponseParser._handle_list": "7e734103cb6423b8",
    "BaseJSONParser._parse_body_as_json": "bb9ea66df3a474f5",
    "AioEndpoint._do_get_response": "082b773ba52d7a7e",
}


def test_botocore_internals_the_status_path_relies_on():
    from aiobotocore.endpoint import AioEndpoint
    from botocore import parsers

    where = {
        "ResponseParser": parsers.ResponseParser,
        "BaseJSONParser": parsers.BaseJSONParser,
        "AioEndpoint": AioEndpoint,
    }
    found = {}
    for name in BOTOCORE_PINNED:
        owner, method = name.split(".")
        source = inspect.getsource(getattr(where[owner], method))
        found[name] = hashlib.sha256(source.encode()).hexdigest()[:16]
    assert found == BOTOCORE_PINNED
    emitted = inspect.getsource(AioEndpoint._do_get_response)
    assert emitted.index('f"before-parse.') < emitted.index("parser.parse(")

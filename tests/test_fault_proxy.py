"""The fault-injecting proxy itself: seeded, and each fault reaches the hook as it should."""

from __future__ import annotations

import asyncio

import pytest

from async_hooks import AsyncHttpHook, RetryPolicy, ThrottledError, TransientError
from async_hooks.testing import FaultPlan, FaultProxy

NO_RETRY = RetryPolicy.none()


def test_the_same_seed_injects_the_same_faults():
    plan = FaultPlan(seed=42, throttle=0.2, server_error=0.2, reset=0.1)
    a, b = FaultProxy("http://u", plan), FaultProxy("http://u", plan)
    first = [a.choose() for _ in range(2000)]
    assert first == [b.choose() for _ in range(2000)]
    other = FaultProxy("http://u", FaultPlan(seed=43, throttle=0.2, server_error=0.2, reset=0.1))
    assert first != [other.choose() for _ in range(2000)]
    shares = {kind: first.count(kind) / len(first) for kind in ("429", "503", "reset", "ok")}
    assert shares == pytest.approx({"429": 0.2, "503": 0.2, "reset": 0.1, "ok": 0.5}, abs=0.03)


async def test_retry_after_is_sent_with_injected_429s(job_server, fault_proxy):
    server = job_server()
    url, proxy = fault_proxy(server.url, FaultPlan(script=("429",), retry_after="7"))
    async with AsyncHttpHook(url, retry=NO_RETRY) as hook:
        with pytest.raises(ThrottledError) as caught:
            await hook.get_json("/ping")
    assert caught.value.retry_after == 7.0
    assert proxy.counts["429"] == 1


async def test_latency_is_added(job_server, fault_proxy):
    server = job_server()
    url, _ = fault_proxy(server.url, FaultPlan(latency=(0.1, 0.1)))
    async with AsyncHttpHook(url) as hook:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await hook.get_json("/ping")
        assert loop.time() - started >= 0.09


async def test_a_reset_is_retried_for_get_and_not_for_post(job_server, fault_proxy):
    # aiohttp itself retries an idempotent request once when a reused keep-alive connection
    # turns out dead; the first GET runs on a fresh connection, so the retry here is ours.
    server = job_server()
    url, proxy = fault_proxy(server.url, FaultPlan(script=("reset", "ok", "reset")))
    policy = RetryPolicy(initial_backoff=0.001, max_backoff=0.002)
    async with AsyncHttpHook(url, retry=policy) as hook:
        assert await hook.get_json("/ping") == {"ok": True}
        assert proxy.counts["reset"] == 1
        with pytest.raises(TransientError) as caught:
            await hook.request("POST", "/jobs", json={})
        assert caught.value.may_have_acted
    assert proxy.counts["reset"] == 2

"""Retry classification, Retry-After, idempotency, budget and cancellation against real servers."""

from __future__ import annotations

import asyncio
import email.utils
import time

import pytest

from async_hooks import (
    AsyncHttpHook,
    HttpError,
    NotFoundError,
    RetryPolicy,
    ThrottledError,
    TransientError,
)
from async_hooks.testing.jobserver import until

FAST = RetryPolicy(max_attempts=5, initial_backoff=0.01, max_backoff=0.05)


async def test_429_with_retry_after_seconds_waits_at_least_that_long(scripted):
    url, script = scripted([(429, {"Retry-After": "0.5"})])
    async with AsyncHttpHook(url, retry=FAST) as hook:
        response = await hook.request("GET", "/x")
    assert response.status == 200
    assert len(script.requests) == 2
    gap = script.requests[1][1] - script.requests[0][1]
    assert gap >= 0.45
    assert hook.stats()["throttled"] == 1
    assert hook.stats()["retries"] == 1


async def test_429_with_retry_after_http_date(scripted):
    when = email.utils.formatdate(time.time() + 1.2, usegmt=True)
    url, script = scripted([(429, {"Retry-After": when})])
    async with AsyncHttpHook(url, retry=FAST) as hook:
        await hook.request("GET", "/x")
    gap = script.requests[1][1] - script.requests[0][1]
    assert gap >= 0.1  # a date has one-second resolution: at least "later", never immediate
    assert len(script.requests) == 2


async def test_retry_after_is_capped_by_max_retry_after(scripted):
    url, script = scripted([(429, {"Retry-After": "3600"})])
    policy = RetryPolicy(initial_backoff=0.01, max_backoff=0.05, max_retry_after=0.1)
    async with AsyncHttpHook(url, retry=policy) as hook:
        started = time.monotonic()
        await hook.request("GET", "/x")
    assert time.monotonic() - started < 60
    assert len(script.requests) == 2


async def test_503_is_retried_until_success(scripted):
    url, script = scripted([(503, {}), (502, {}), (500, {})])
    async with AsyncHttpHook(url, retry=FAST) as hook:
        response = await hook.request("GET", "/x")
    assert response.json()["n"] == 4
    assert len(script.requests) == 4


async def test_persistent_503_ends_after_max_attempts(scripted):
    url, script = scripted(then=(503, {}))
    async with AsyncHttpHook(url, retry=RetryPolicy(max_attempts=3, initial_backoff=0.01)) as hook:
        with pytest.raises(TransientError) as caught:
            await hook.request("GET", "/x")
    assert len(script.requests) == 3
    assert isinstance(caught.value, HttpError)
    assert caught.value.status == 503
    assert caught.value.code == "503"


async def test_404_is_not_retried(scripted):
    url, script = scripted(then=(404, {}))
    async with AsyncHttpHook(url, retry=FAST) as hook:
        with pytest.raises(NotFoundError):
            await hook.request("GET", "/x")
    assert len(script.requests) == 1


async def test_post_500_is_not_retried_the_server_may_have_acted(scripted):
    url, script = scripted([(500, {})])
    async with AsyncHttpHook(url, retry=FAST) as hook:
        with pytest.raises(HttpError) as caught:
            await hook.request("POST", "/jobs", json={})
    assert caught.value.status == 500
    assert len(script.requests) == 1


async def test_post_500_is_retried_when_marked_idempotent(scripted):
    url, script = scripted([(500, {})])
    async with AsyncHttpHook(url, retry=FAST) as hook:
        await hook.request("POST", "/jobs", json={}, idempotent=True)
    assert len(script.requests) == 2


@pytest.mark.parametrize("status", [503, 429])
async def test_post_is_retried_when_the_server_cannot_have_acted(scripted, status):
    url, script = scripted([(status, {})])
    async with AsyncHttpHook(url, retry=FAST) as hook:
        await hook.request("POST", "/jobs", json={})
    assert len(script.requests) == 2


async def test_persistent_throttling_ends_in_throttled_error(scripted):
    url, script = scripted(then=(429, {}))
    async with AsyncHttpHook(url, retry=RetryPolicy(max_attempts=4, initial_backoff=0.01)) as hook:
        with pytest.raises(ThrottledError):
            await hook.request("GET", "/x")
    assert len(script.requests) == 4


async def test_connection_refused_is_retried_then_raised(unused_tcp_port):
    url = f"http://127.0.0.1:{unused_tcp_port}"
    async with AsyncHttpHook(url, retry=RetryPolicy(max_attempts=3, initial_backoff=0.01)) as hook:
        with pytest.raises(TransientError) as caught:
            await hook.request("POST", "/x")
    assert caught.value.may_have_acted is False
    assert hook.stats()["retries"] == 2


async def test_budget_exhaustion_fails_fast(scripted):
    url, script = scripted(then=(500, {}))
    policy = RetryPolicy(max_attempts=10, initial_backoff=0.001, max_backoff=0.002, budget=10)
    async with AsyncHttpHook(url, retry=policy) as hook:
        with pytest.raises(TransientError):
            await hook.request("GET", "/a")
        assert len(script.requests) == 3  # 10 tokens pay for two retries of 5
        with pytest.raises(TransientError):
            await hook.request("GET", "/b")
        assert len(script.requests) == 4  # empty budget: no retry at all


async def test_throttling_retries_do_not_draw_on_the_budget(scripted):
    url, script = scripted([(429, {})] * 3)
    policy = RetryPolicy(max_attempts=5, initial_backoff=0.001, max_backoff=0.002, budget=0)
    async with AsyncHttpHook(url, retry=policy) as hook:
        await hook.request("GET", "/x")
    assert len(script.requests) == 4


async def test_cancellation_during_an_attempt_ends_the_call_at_once(scripted):
    url, script = scripted(delay=30)
    async with AsyncHttpHook(url, retry=FAST) as hook:
        task = asyncio.create_task(hook.request("GET", "/slow"))
        while not script.requests:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
    assert len(script.requests) == 1
    assert hook.stats()["errors"] == 0


async def test_cancellation_during_backoff_ends_the_call_at_once(scripted, caplog):
    caplog.set_level("INFO", logger="async_hooks")
    url, script = scripted([(503, {"Retry-After": "30"})])
    async with AsyncHttpHook(url, retry=FAST) as hook:
        task = asyncio.create_task(hook.request("GET", "/x"))
        # The retry is logged just before its 30 s back-off sleep starts.
        await until(lambda: any("retrying in" in r.getMessage() for r in caplog.records))
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - started < 5
    assert len(script.requests) == 1


async def test_retry_policy_none_makes_one_attempt(scripted):
    url, script = scripted(then=(503, {}))
    async with AsyncHttpHook(url, retry=RetryPolicy.none()) as hook:
        with pytest.raises(TransientError):
            await hook.request("GET", "/x")
    assert len(script.requests) == 1


async def test_retries_are_logged_with_attempt_and_delay(scripted, caplog):
    url, _ = scripted([(503, {})])
    caplog.set_level("INFO", logger="async_hooks")
    async with AsyncHttpHook(url, retry=FAST) as hook:
        await hook.request("GET", "/x")
    lines = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(lines) == 1
    assert "attempt 1" in lines[0]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"max_attempts": 1.5},
        {"initial_backoff": -1},
        {"max_backoff": float("inf")},
        {"budget": -1},
    ],
)
def test_bad_policy_is_a_config_error(kwargs):
    from async_hooks import HookConfigError

    with pytest.raises(HookConfigError):
        RetryPolicy(**kwargs)


def test_policy_is_frozen():
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        RetryPolicy().max_attempts = 3  # type: ignore[misc]

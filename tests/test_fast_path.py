"""The pipeline's fast path: a first attempt that succeeds (or fails for good) never enters
tenacity, the throttle admits a call with a free slot without a trip round the loop (and still
in order when calls queue), and the HTTP hook checks a path once per base URL."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from async_hooks import (
    AsyncHttpHook,
    HookConfigError,
    HttpError,
    NotFoundError,
    RetryPolicy,
    TransientError,
)
from async_hooks._core.throttle import AdaptiveThrottle
from async_hooks._core.urls import absolute_http_url

FAST = RetryPolicy(max_attempts=3, initial_backoff=0.001, max_backoff=0.002)


@pytest.fixture
def no_tenacity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a call asks its throttle for the retry machinery."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("tenacity was entered")

    monkeypatch.setattr(AdaptiveThrottle, "retrying", refuse)


@pytest.mark.usefixtures("no_tenacity")
async def test_a_first_attempt_that_succeeds_never_enters_tenacity(scripted):
    url, script = scripted()
    async with AsyncHttpHook(url, retry=FAST) as hook:
        for _ in range(3):
            assert (await hook.request("GET", "/x")).status == 200
        stats = hook.stats()
    assert len(script.requests) == 3
    assert (stats["calls"], stats["attempts"], stats["retries"], stats["errors"]) == (3, 3, 0, 0)
    (operation,) = stats["operations"].values()
    assert operation["latency_max"] > 0


@pytest.mark.usefixtures("no_tenacity")
@pytest.mark.parametrize(
    ("method", "status", "error"),
    [("GET", 404, NotFoundError), ("POST", 500, TransientError), ("GET", 400, HttpError)],
)
async def test_a_failure_no_retry_can_help_never_enters_tenacity(scripted, method, status, error):
    """404: a client error; POST 500: the server may have acted; 400: any other non-2xx."""
    url, script = scripted(then=(status, {}))
    async with AsyncHttpHook(url, retry=FAST) as hook:
        with pytest.raises(error) as caught:
            await hook.request(method, "/x")
        stats = hook.stats()
    assert getattr(caught.value, "status", None) == status
    assert len(script.requests) == 1
    assert (stats["calls"], stats["attempts"], stats["errors"]) == (1, 1, 1)


async def test_a_retryable_failure_hands_the_rest_to_tenacity_counting_the_first(scripted):
    url, script = scripted(then=(503, {}))
    async with AsyncHttpHook(url, retry=FAST) as hook:
        with pytest.raises(TransientError):
            await hook.request("GET", "/x")
        stats = hook.stats()
    assert len(script.requests) == 3  # max_attempts counts the first request
    assert (stats["attempts"], stats["retries"], stats["errors"]) == (3, 2, 1)


async def test_the_error_after_a_retry_does_not_chain_the_first_failure(scripted):
    url, _ = scripted([(503, {})], then=(404, {}))
    async with AsyncHttpHook(url, retry=FAST) as hook:
        with pytest.raises(NotFoundError) as caught:
            await hook.request("GET", "/x")
    assert caught.value.__context__ is None


async def test_a_retry_that_succeeds_returns_the_answer(scripted, caplog):
    caplog.set_level("INFO", logger="async_hooks")
    url, _ = scripted([(429, {}), (503, {})])
    async with AsyncHttpHook(url, retry=FAST) as hook:
        response = await hook.request("GET", "/x")
        stats = hook.stats()
    assert response.json()["n"] == 3
    assert (stats["attempts"], stats["retries"], stats["throttled"]) == (3, 2, 1)
    lines = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert ["attempt 1" in lines[0], "attempt 2" in lines[1]] == [True, True]


# ---------------------------------------------------------------------- the throttle


async def test_a_free_slot_is_taken_without_a_trip_round_the_loop():
    throttle = AdaptiveThrottle("t", max_concurrency=2, rate_limit=None, budget=None)
    ran: list[int] = []
    asyncio.get_running_loop().call_soon(ran.append, 1)
    ticket = await throttle.acquire()
    assert ran == []  # the loop did not run a callback: acquire did not yield
    assert throttle.in_flight == 1
    throttle.release(ticket)
    assert throttle.in_flight == 0


async def test_queued_calls_are_admitted_in_order_and_a_newcomer_does_not_jump_the_queue():
    throttle = AdaptiveThrottle("t", max_concurrency=1, rate_limit=None, budget=None)
    first = await throttle.acquire()
    admitted: list[str] = []

    async def call(name: str) -> None:
        ticket = await throttle.acquire()
        admitted.append(name)
        await asyncio.sleep(0)
        throttle.release(ticket)

    waiting = [asyncio.create_task(call(name)) for name in ("a", "b")]
    while len(throttle._slots._wait_queue) < 2:  # both queued behind ``first``
        await asyncio.sleep(0)
    throttle.release(first)  # the slot goes to "a", which has not run yet
    late = asyncio.create_task(call("late"))  # a free-slot check now must not pass "a" or "b"
    await asyncio.gather(*waiting, late)
    assert admitted == ["a", "b", "late"]


async def test_a_cancelled_waiter_gives_its_place_up():
    throttle = AdaptiveThrottle("t", max_concurrency=1, rate_limit=None, budget=None)
    first = await throttle.acquire()
    waiter = asyncio.create_task(throttle.acquire())
    while not throttle._slots._wait_queue:
        await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    throttle.release(first)
    ticket = await throttle.acquire()
    assert throttle.in_flight == 1
    throttle.release(ticket)


# ---------------------------------------------------------------------- the HTTP hook's URLs


def test_a_path_is_checked_once_per_base_url():
    hook = AsyncHttpHook("http://127.0.0.1:9/api")
    url = hook._url("/jobs/1")
    assert hook._url("/jobs/1") is url
    assert str(url) == "http://127.0.0.1:9/api/jobs/1"
    hook.base_url = absolute_http_url("base_url", "http://127.0.0.1:10/v2")
    assert str(hook._url("/jobs/1")) == "http://127.0.0.1:10/v2/jobs/1"


def test_the_remembered_urls_are_bounded():
    from async_hooks.http import hook as module

    hook = AsyncHttpHook("http://127.0.0.1:9")
    for number in range(module._URL_CACHE_SIZE + 10):
        hook._url(f"/jobs/{number}")
    assert len(hook._urls) == module._URL_CACHE_SIZE
    assert "/jobs/0" not in hook._urls and f"/jobs/{number}" in hook._urls


def test_a_str_subclass_is_checked_every_time():
    class Path(str):
        __slots__ = ()

    hook = AsyncHttpHook("http://127.0.0.1:9")
    assert str(hook._url(Path("/x"))) == "http://127.0.0.1:9/x"
    assert hook._urls == {}


def test_bad_paths_are_refused_every_time_not_remembered():
    hook = AsyncHttpHook("http://127.0.0.1:9")
    for _ in range(2):
        with pytest.raises(HookConfigError, match="control character"):
            hook._url("/jobs\n")
        with pytest.raises(HookConfigError, match="URL"):
            hook._url("http://[::1")
    assert hook._urls == {}


PATHS = st.text(
    alphabet=st.characters(codec="utf-8") | st.sampled_from("[]:@%/?#.-x\\"), max_size=24
)


@settings(max_examples=300, deadline=None)
@given(
    path=PATHS,
    base=st.sampled_from(["http://127.0.0.1:9", "https://h.example/api/", "http://[::1]:8/a?q=1"]),
)
def test_a_relative_path_gets_the_same_answer_as_the_full_check(path, base):
    """The relative-path shortcut skips the host, port and credential checks: the joined URL
    keeps the base's authority, so the full check must accept it, with the base's origin."""
    hook = AsyncHttpHook(base)
    try:
        url = hook._url(path)
    except HookConfigError:
        return
    if path.startswith(("http://", "https://")):
        return
    assert absolute_http_url("URL", url) is url
    assert url.origin() == hook.base_url.origin()  # type: ignore[union-attr]
    assert not (url.raw_user or url.raw_password)

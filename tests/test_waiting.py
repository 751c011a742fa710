"""wait_for_job on the HTTP hook: the core poller's rules against a real job service."""

from __future__ import annotations

import asyncio
import time

import pytest

from async_hooks import (
    AsyncHttpHook,
    HookConfigError,
    JobFailedError,
    JobResult,
    JobTimeoutError,
    NotFoundError,
    RetryPolicy,
)
from async_hooks._core.waiting import PollTiming
from async_hooks.testing import FaultPlan
from async_hooks.testing.jobserver import until
from async_hooks.testing.memory import RssSampler

QUICK = {"poll_interval": 0.02, "jitter": 0.0}
#: A timeout that ends a wait on a job that never finishes: long enough for its first polls to be
#: answered on a busy machine (a wait polls every 0.02 s, a poll takes milliseconds).
NEVER_DONE_TIMEOUT = 2.0


async def test_success_returns_a_job_result(job_server):
    server = job_server()
    job = server.create(polls=2)
    async with AsyncHttpHook(server.url) as hook:
        result = await hook.wait_for_job(f"/jobs/{job}", **QUICK)
    assert isinstance(result, JobResult)
    assert result.succeeded and result.status == "SUCCEEDED"
    assert result.kind == "http" and result.job_id == f"/jobs/{job}"
    assert result.polls == 4  # PENDING, RUNNING, RUNNING, SUCCEEDED
    assert result.response["id"] == job
    assert result.elapsed > 0


async def test_failure_raises_with_the_providers_reason(job_server):
    server = job_server()
    job = server.create(polls=1, outcome="FAILED", reason="out of memory")
    async with AsyncHttpHook(server.url) as hook:
        with pytest.raises(JobFailedError) as caught:
            await hook.wait_for_job(f"/jobs/{job}", **QUICK)
    assert caught.value.reason == "out of memory"
    assert caught.value.result is not None and caught.value.result.status == "FAILED"
    assert not caught.value.result.succeeded
    assert "out of memory" in str(caught.value)


async def test_custom_states_and_dotted_paths(threaded_server):
    from aiohttp import web

    polls = []

    async def handle(request):
        polls.append(1)
        state = "DONE" if len(polls) >= 2 else "WORKING"
        return web.json_response({"job": {"state": {"name": state}}, "errors": [{"why": "x"}]})

    app = web.Application()
    app.router.add_get("/ops/1", handle)
    server = threaded_server(app)
    async with AsyncHttpHook(server.url) as hook:
        result = await hook.wait_for_job(
            "/ops/1",
            status_key="job.state.name",
            success="DONE",
            failure=("BROKEN",),
            reason_key="errors.0.why",
            **QUICK,
        )
    assert result.status == "DONE" and result.polls == 2


async def test_timeout_raises_job_timeout_error_with_last_status(job_server):
    server = job_server()
    job = server.create(polls=10_000)
    async with AsyncHttpHook(server.url) as hook:
        with pytest.raises(JobTimeoutError) as caught:
            await hook.wait_for_job(f"/jobs/{job}", timeout=NEVER_DONE_TIMEOUT, **QUICK)
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.last_status == "RUNNING"
    assert caught.value.result is not None and caught.value.result.polls >= 2
    assert caught.value.result.elapsed >= NEVER_DONE_TIMEOUT


async def test_cancelling_the_waiting_task_ends_the_wait_at_once(job_server, caplog):
    caplog.set_level("INFO", logger="async_hooks")
    server = job_server()
    job = server.create(polls=10_000)
    async with AsyncHttpHook(server.url) as hook:
        task = asyncio.create_task(hook.wait_for_job(f"/jobs/{job}", poll_interval=3600))
        # The first poll is answered and read (its status logged): the wait sleeps for an hour.
        await until(lambda: any(" -> PENDING" in r.getMessage() for r in caplog.records))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 30)  # at once, not at the next poll an hour away
    assert server.board.requests == 1


async def test_a_transient_poll_error_never_ends_the_wait(job_server, fault_proxy):
    server = job_server()
    job = server.create(polls=1)
    # Two attempts per poll: the second and third polls fail even after the pipeline's retries.
    url, proxy = fault_proxy(server.url, FaultPlan(script=("ok", "503", "503", "reset", "503")))
    policy = RetryPolicy(max_attempts=2, initial_backoff=0.001, max_backoff=0.002)
    async with AsyncHttpHook(url, retry=policy) as hook:
        result = await hook.wait_for_job(f"/jobs/{job}", **QUICK)
    assert result.succeeded
    assert proxy.counts["503"] == 3 and proxy.counts["reset"] == 1


async def test_a_client_error_ends_the_wait(job_server):
    server = job_server()
    async with AsyncHttpHook(server.url) as hook:
        with pytest.raises(NotFoundError):
            await hook.wait_for_job("/jobs/nope", **QUICK)
    assert server.board.requests == 1


async def test_each_status_change_is_logged_once(job_server, caplog):
    caplog.set_level("INFO", logger="async_hooks")
    server = job_server()
    job = server.create(polls=4)
    async with AsyncHttpHook(server.url) as hook:
        await hook.wait_for_job(f"/jobs/{job}", **QUICK)
    changes = [r.getMessage() for r in caplog.records if " -> " in r.getMessage()]
    assert changes == [
        f"http job /jobs/{job}: (new) -> PENDING",
        f"http job /jobs/{job}: PENDING -> RUNNING",
        f"http job /jobs/{job}: RUNNING -> SUCCEEDED",
    ]


def test_the_schedule_multiplies_by_backoff_up_to_max_poll_interval():
    def schedule(timing: PollTiming, n: int) -> list[float]:
        intervals = [timing.poll_interval]
        while len(intervals) < n:
            intervals.append(timing.next_interval(intervals[-1]))
        return intervals

    stretched = PollTiming(poll_interval=0.02, backoff=2.0, max_poll_interval=0.1)
    assert schedule(stretched, 6) == pytest.approx([0.02, 0.04, 0.08, 0.1, 0.1, 0.1])
    assert schedule(PollTiming(poll_interval=3.0), 3) == [3.0, 3.0, 3.0]  # backoff 1: steady
    slow = PollTiming(poll_interval=10.0, backoff=1.5, max_poll_interval=60.0)
    assert schedule(slow, 7) == pytest.approx([10, 15, 22.5, 33.75, 50.625, 60, 60])


async def test_backoff_stretches_the_interval(job_server):
    server = job_server()
    job = server.create(polls=5)  # seven polls: PENDING, RUNNING x 5, SUCCEEDED
    timing = {"poll_interval": 0.02, "backoff": 2.0, "max_poll_interval": 0.1, "jitter": 0.0}
    async with AsyncHttpHook(server.url) as hook:
        result = await hook.wait_for_job(f"/jobs/{job}", **timing)
    assert result.polls == 7
    intervals = [0.02, 0.04, 0.08, 0.1, 0.1, 0.1]  # the schedule after each poll
    board = server.board
    # Sleeps are never shorter than asked: poll n + 1 starts at least intervals[n] after poll
    # n started, which was after the answer to poll n - 1 (one clock: both loops read
    # time.monotonic). Lower bounds only; how much later a busy machine makes them is unbounded.
    for n in range(1, 6):
        assert board.arrivals[n + 1] - board.answered[n - 1] >= intervals[n], n
    assert board.arrivals[-1] - board.answered[0] >= sum(intervals[1:])


async def test_a_missing_status_key_is_a_config_error(job_server):
    server = job_server()
    job = server.create()
    async with AsyncHttpHook(server.url) as hook:
        with pytest.raises(HookConfigError, match="state"):
            await hook.wait_for_job(f"/jobs/{job}", status_key="state", **QUICK)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"poll_interval": 0},
        {"poll_interval": float("nan")},
        {"timeout": -1},
        {"backoff": 0.5},
        {"jitter": 1.5},
        {"success": ()},
        {"success": ("X",), "failure": ("X",)},
        {"status_key": ""},
    ],
)
async def test_bad_wait_arguments_are_config_errors(job_server, kwargs):
    server = job_server()
    async with AsyncHttpHook(server.url) as hook:
        with pytest.raises(HookConfigError):
            await hook.wait_for_job("/jobs/x", **kwargs)
    assert server.board.requests == 0


@pytest.mark.slow
async def test_2000_concurrent_waits_share_one_client(job_server):
    server = job_server()
    jobs = [server.create(polls=2) for _ in range(2000)]
    async with AsyncHttpHook(server.url) as hook:
        with RssSampler() as rss:
            started = time.monotonic()
            results = await asyncio.gather(
                *(hook.wait_for_job(f"/jobs/{job}", poll_interval=0.05) for job in jobs)
            )
            elapsed = time.monotonic() - started
        stats = hook.stats()
    assert all(r.succeeded for r in results)
    assert stats["clients_created"] == 1
    assert stats["calls"] == 4 * 2000
    print(f"2000 waits: {elapsed:.1f}s, peak RSS growth {rss.growth_mib:.1f} MiB (server included)")

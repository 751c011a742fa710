"""The shared schedule under the conditions users meet (issue 19): an API that throttles or
answers 5xx, hooks closing beside open ones, thousands of keys in a long-lived process, slow
callbacks, kinds without a batch call at scale. Each test failed on the schedule it replaced.
Nothing here is timed: every step waits on what a server or a fetcher saw."""

from __future__ import annotations

import asyncio
import gc
import traceback
import tracemalloc
from typing import Any

import pytest
from aiohttp import web
from test_coalesce import AthenaBoard, _athena, _hook
from test_shared_schedule import Board, schedules, wait

from async_hooks import (
    AsyncGcpHook,
    HookClosedError,
    JobResult,
    RetryPolicy,
    TransientError,
)
from async_hooks._core.loopstate import current_state
from async_hooks._core.schedule.payloads import PayloadStore
from async_hooks._core.schedule.wait import KEEP_SECONDS
from async_hooks.testing.gcp import make_service_account
from async_hooks.testing.jobserver import until

QUICK = {"poll_interval": 0.01, "jitter": 0.0, "timeout": 120}
FAST_RETRY = RetryPolicy(max_attempts=3, initial_backoff=0.001, max_backoff=0.01)


# ---------------------------------------------------------------------- 1. throttling


@pytest.mark.parametrize(
    "answer",
    [
        (400, {"__type": "ThrottlingException", "message": "Rate exceeded"}),
        (500, {"__type": "InternalServerException", "message": "try again"}),
    ],
    ids=["throttled", "5xx"],
)
async def test_a_failing_batch_call_slows_the_schedule_and_never_fans_out(
    aws_json_endpoint, answer
):
    ids = [f"q{n}" for n in range(20)]
    board = AthenaBoard(ids, polls=3)
    # 15 failing answers: five polls in a row fail (three attempts each), for every wait.
    endpoint = _athena(aws_json_endpoint, board, {"BatchGetQueryExecution": [answer] * 15})
    async with _hook(endpoint.url, retry=FAST_RETRY) as hook:
        results = await asyncio.gather(*(hook.wait_for_job("athena", q, **QUICK) for q in ids))
        throttles = [t for t in current_state().throttles.values() if "athena" in t.scope]
    assert all(result.succeeded for result in results)
    assert endpoint.count("GetQueryExecution") == 0  # not one single describe
    assert endpoint.count("BatchGetQueryExecution") == 15 + 4  # then four answered ticks
    assert all(result.polls == 5 + 4 for result in results)  # the failed polls count
    if answer[0] == 400:
        assert throttles and throttles[0].rate is not None  # the shared throttle slowed down


# ---------------------------------------------------------------------- 2. closing one hook


async def test_closing_one_hook_ends_its_own_waits_only(aws_json_endpoint):
    board = AthenaBoard([], polls=10**9)  # RUNNING until the test says otherwise
    endpoint = _athena(aws_json_endpoint, board)
    staying, closing = _hook(endpoint.url), _hook(endpoint.url)  # one connection
    kept = [f"stay{n}" for n in range(5)]
    gone = ["gone0", "gone1"]
    async with staying:
        tasks = [asyncio.ensure_future(staying.wait_for_job("athena", q, **QUICK)) for q in kept]
        await until(lambda: board.batches and set(kept) <= set(board.batches[-1]))
        # The closing hook's waits join last: the newest, through whose hook every call once went.
        tasks += [asyncio.ensure_future(closing.wait_for_job("athena", q, **QUICK)) for q in gone]
        await until(lambda: set(kept + gone) <= set(board.batches[-1]))
        await closing.close()
        closed = await asyncio.gather(*tasks[5:], return_exceptions=True)
        calls = len(board.batches)
        await until(lambda: len(board.batches) >= calls + 2)  # the schedule goes on
        board.polls = 0  # every job ends at its next describe
        results = await asyncio.gather(*tasks[:5])
    assert all(result.succeeded for result in results)
    assert all(isinstance(error, HookClosedError) for error in closed)
    assert closed[0] is not closed[1]  # each wait its own error
    for error in closed:
        assert len(traceback.extract_tb(error.__traceback__)) < 10
    assert set(board.batches[-1]) <= set(kept)  # nothing polled for the closed hook


# ---------------------------------------------------------------------- 3. a long-lived process


def _keyed_waits(count: int, start: int) -> list[asyncio.Task[Any]]:
    """``count`` waits, each on a key of its own (an EMR cluster, a Glue job name...), each
    ending at its second describe."""
    tasks = []
    for n in range(start, start + count):
        board = Board(key=f"cluster-{n}")
        board.add("j", "RUNNING", "DONE")
        tasks.append(wait(board, "j", timeout=600))
    return tasks


async def test_thousands_of_keys_leave_memory_at_its_baseline():
    # Warm up every code path, and asyncio's own tables (its set of all tasks keeps the size
    # its peak needed): what is measured below is what the schedules keep.
    await asyncio.gather(*_keyed_waits(5000, 0))
    left = []
    for count, start in ((1000, 10**6), (5000, 2 * 10**6)):
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            results = await asyncio.gather(*_keyed_waits(count, start))
            assert all(result.succeeded for result in results)
            del results
            # The loop's handle that woke this task (it holds the finished gather) goes at the
            # next iteration.
            await asyncio.sleep(0)
            gc.collect()
            left.append(tracemalloc.get_traced_memory()[0] - before)
        finally:
            tracemalloc.stop()
        assert len(schedules()) == 0  # every schedule forgotten with its last wait
    # Nothing per key stays: a few KB at most (allocator noise), whatever the number of keys
    # (the schedule it replaced kept 2.4 KB per key, 12 MB for 5,000).
    assert left[0] < 64 * 1024 and left[1] < 64 * 1024, left


async def test_a_new_wait_on_a_forgotten_key_starts_a_fresh_schedule():
    board = Board()
    board.add("a", "RUNNING", "DONE")
    assert (await wait(board, "a")).succeeded
    assert schedules().get(board.batch.key) is None
    board.add("b", "RUNNING", "DONE")
    assert (await wait(board, "b")).succeeded
    assert board.batches[-2:] == [["b"], ["b"]]


# ---------------------------------------------------------------------- 5. kinds without a batch


async def test_google_waits_are_described_as_many_at_once_as_the_throttle_admits(
    threaded_server,
):
    """120 BigQuery waits on a hook admitting 40 requests at once: the server holds every
    describe until 40 are in flight together (the schedule it replaced sent 8 at a time)."""
    limit = 40
    seen = {"in_flight": 0, "most": 0}
    crowded = asyncio.Event()

    async def token(request: web.Request) -> web.Response:
        return web.json_response({"access_token": "token-1", "expires_in": 3600})

    async def job(request: web.Request) -> web.Response:
        seen["in_flight"] += 1
        seen["most"] = max(seen["most"], seen["in_flight"])
        if seen["in_flight"] >= limit:
            crowded.set()
        try:
            await asyncio.wait_for(crowded.wait(), 60)  # fails the test, never hangs it
        except asyncio.TimeoutError:
            pass
        finally:
            seen["in_flight"] -= 1
        return web.json_response({"status": {"state": "DONE"}})

    app = web.Application()
    app.router.add_post("/token", token)
    app.router.add_get("/bigquery/v2/projects/{project}/jobs/{job}", job)
    server = threaded_server(app)
    hook = AsyncGcpHook(
        service_file=make_service_account(server.url + "/token"),
        api_root=server.url,
        max_concurrency=limit,
    )
    async with hook:
        results = await asyncio.gather(
            *(hook.wait_for_job("bigquery", f"j{n}", poll_interval=5) for n in range(120))
        )
    assert all(result.succeeded for result in results)
    assert seen["most"] == limit  # bounded by the throttle, and reached


async def test_a_failing_describe_of_a_kind_without_a_batch_call_is_sent_once_per_tick(
    aws_json_endpoint,
):
    unavailable = (503, {"__type": "ServiceUnavailable", "message": "down"})
    running = (200, {"executionArn": "arn", "status": "RUNNING"})
    done = (200, {"executionArn": "arn", "status": "SUCCEEDED"})
    endpoint = aws_json_endpoint(
        {"DescribeExecution": [unavailable, unavailable, running, unavailable, unavailable]},
        default={"DescribeExecution": done},
    )
    retry = RetryPolicy(max_attempts=2, initial_backoff=0.001, max_backoff=0.01)
    async with _hook(endpoint.url, retry=retry) as hook:
        result = await hook.wait_for_job("stepfunctions", "arn", **QUICK)
    assert result.succeeded
    # Tick 1: two attempts, failed; tick 2: RUNNING; tick 3: two attempts, failed; tick 4: done.
    assert endpoint.count("DescribeExecution") == 6
    assert result.polls == 4


# ---------------------------------------------------------------------- 7. on_status


async def test_on_status_is_told_every_status_in_order_behind_a_slow_callback(caplog):
    caplog.set_level("INFO", logger="async_hooks")
    board = Board()
    board.add("j", "STARTING", "RUNNING", "DONE")
    release = asyncio.Event()
    told: list[str] = []

    async def slow(result: JobResult) -> None:
        told.append(result.status)
        if len(told) == 1:
            await release.wait()  # busy while the job moves on

    plan = board.plan("j")
    from async_hooks._core.plan import PollTiming
    from async_hooks._core.waiting import wait_until_done

    timing = PollTiming(poll_interval=0.01, jitter=0.0)
    task = asyncio.ensure_future(
        wait_until_done(plan, timing, schedules=schedules(), owner=1, on_status=slow)
    )
    await until(lambda: told == ["STARTING"])
    board.failures = [TransientError("blip", provider="test", operation="describe")]
    await until(lambda: len(board.batches) >= 4)  # STARTING, (failed), RUNNING, DONE
    release.set()
    result = await task
    assert result.succeeded
    assert told == ["STARTING", "RUNNING", "DONE"]
    changes = [r.getMessage() for r in caplog.records if " -> " in r.getMessage()]
    assert changes == [
        "fake job j: (new) -> STARTING",
        "fake job j: STARTING -> RUNNING",
        "fake job j: RUNNING -> DONE",
    ]


# ---------------------------------------------------------------------- 8. a poll's bookkeeping


async def test_a_running_job_costs_no_payload_keeping_until_its_deadline_is_near(monkeypatch):
    """A payload is kept only for a time-out's result: far from its deadline a wait keeps none
    (not even at a status change); near it, each poll's payload, without waking the wait."""
    packed = []
    real_pack = PayloadStore.pack

    def counting(self: PayloadStore, payload: Any) -> object:
        packed.append(payload["status"])
        return real_pack(self, payload)

    monkeypatch.setattr(PayloadStore, "pack", counting)
    board = Board()
    board.add("j", *["RUNNING"] * 12, "DONE")
    result = await wait(board, "j", timeout=3600.0)
    assert result.succeeded and result.polls == 13
    assert packed == []  # its deadline an hour away: nothing kept

    board.add("n", *["RUNNING"] * 12, "DONE")
    result = await wait(board, "n", timeout=KEEP_SECONDS)  # near from its start
    assert result.succeeded and result.polls == 13
    assert packed == ["RUNNING"] * 12  # each poll's: the freshest for a time-out's result
    # ``finish`` runs at each wake-up: at its first status and its end, none in between.
    assert board.finished["n"] == 2


# ---------------------------------------------------------------------- the schedule's repr


async def test_the_schedule_shows_its_live_state():
    board = Board()
    board.add("j", "RUNNING")
    board.hold.add("j")
    task = wait(board, "j")
    await until(lambda: len(board.batches) >= 1)
    schedule = schedules().get(board.batch.key)
    text = repr(schedule)
    assert "waits=1" in text and "hooks=1" in text and "batch" in text
    assert "0.01s: 1 ids" in text
    assert "waits=1" in repr(schedules())
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

"""A status change a wait would only log and keep, with its log line off, is taken in by the
tick: the wait sleeps on (no trip through its task), and what it would have kept and logged is
the same: a time-out still has that status and payload, and a line turned on later names the
change from it."""

from __future__ import annotations

import asyncio
import logging
import types
from collections.abc import Awaitable, Generator
from typing import Any

import pytest
from test_shared_schedule import Board, schedule_of, schedules

from async_hooks import JobTimeoutError
from async_hooks._core.plan import PollPlan, PollTiming
from async_hooks._core.waiting import wait_until_done
from async_hooks.testing.jobserver import until

OWNER = object()


def _plan(board: Board, job_id: str) -> PollPlan:
    """The board's plan without its ``finish`` step (a ``finish`` runs in the wait's task)."""
    plan = board.plan(job_id)
    return PollPlan(
        plan.kind,
        plan.job_id,
        plan.describe,
        plan.status_of,
        plan.success,
        plan.failure,
        plan.reason_of,
        batch=plan.batch,
    )


def _start(board: Board, job_id: str, **timing: float) -> asyncio.Task[object]:
    return asyncio.ensure_future(_waiting(board, job_id, [], **timing))


async def _waiting(board: Board, job_id: str, sleeps: list[object], **timing: float) -> object:
    """The wait, each time its task goes to sleep counted in ``sleeps``."""
    timing = {"poll_interval": 3600.0, **timing}
    plan = _plan(board, job_id)
    wait = wait_until_done(plan, PollTiming(**timing), schedules=schedules(), owner=OWNER)
    return await _counting(wait, sleeps)


@types.coroutine
def _counting(awaitable: Awaitable[object], sleeps: list[object]) -> Generator[Any, Any, object]:
    inner = awaitable.__await__()
    step: Any = inner.send
    value: Any = None
    while True:
        try:
            yielded = step(value)
        except StopIteration as stop:
            return stop.value
        sleeps.append(yielded)
        try:
            value, step = (yield yielded), inner.send
        except BaseException as error:  # a cancellation: into the wait
            value, step = error, inner.throw


async def test_a_running_status_with_its_line_off_does_not_wake_the_wait(caplog):
    caplog.set_level(logging.WARNING, logger="async_hooks")
    board = Board()
    board.add("a", "RUNNING")
    sleeps: list[object] = []
    task = asyncio.ensure_future(_waiting(board, "a", sleeps))
    await until(lambda: board.seen["a"] >= 1)
    await asyncio.sleep(0)  # a woken wait would run (and sleep again) now
    await asyncio.sleep(0)
    assert len(sleeps) == 1  # went to sleep once, as it joined: never woken by RUNNING
    [state] = schedule_of(board)._states()
    assert state.polls == 1 and state.status == state.logged == "RUNNING"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not [r for r in caplog.records if r.name == "async_hooks"]


async def test_the_status_taken_in_is_the_one_a_time_out_reports_and_a_later_line_starts_from(
    caplog,
):
    caplog.set_level(logging.WARNING, logger="async_hooks")
    board = Board()
    board.add("a", "RUNNING", "STOPPING")
    board.hold.add("a")  # RUNNING until released
    task = _start(board, "a", poll_interval=0.01)
    await until(lambda: len(board.batches) >= 3)  # told RUNNING, then polled on, line off
    caplog.set_level(logging.INFO, logger="async_hooks")
    board.hold.discard("a")  # STOPPING from the next poll on
    await until(lambda: any("STOPPING" in r.getMessage() for r in caplog.records))
    lines = [r.getMessage() for r in caplog.records if r.name == "async_hooks"]
    assert lines == ["fake job a: RUNNING -> STOPPING"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    # A time-out of a wait whose only status was taken in: that status and its payload.
    caplog.set_level(logging.WARNING, logger="async_hooks")
    board.add("b", "RUNNING")
    board.hold.add("b")
    with pytest.raises(JobTimeoutError) as raised:
        await _start(board, "b", poll_interval=0.01, timeout=0.2)
    assert raised.value.last_status == "RUNNING"
    assert raised.value.result is not None
    assert raised.value.result.response == {"id": "b", "status": "RUNNING", "reason": "b broke"}

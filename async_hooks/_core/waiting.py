"""The waiting engine: one poller under every hook's ``wait_for_job``.

A plan without a ``batch`` polls alone: poll (through the hook's pipeline) -> status ->
terminal? -> sleep until the next poll is due (polls start every interval x backoff, jittered,
capped) -> poll ... A plan with a ``batch`` joins the loop's shared schedule for its key
(``coalesce.py``): its ticks poll, and the wait wakes only when its job's status changed, the
job ended or a poll failed. Either way the wait ends in success (a ``JobResult``), a failure
state (``JobFailedError``) or its own deadline (``JobTimeoutError``, with the last status and
poll count). A poll that fails with a retryable error after the pipeline's own retries is logged
and the wait goes on; a client error (404, 403, bad request) ends it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import random
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from async_hooks._core._compat import timeout_at
from async_hooks._core.coalesce import Coalescer
from async_hooks._core.member import failure_text
from async_hooks._core.plan import DEFAULT_TIMEOUT, BatchDescribe, PollPlan, PollTiming
from async_hooks._core.progress import STATUS_LOG_LEVEL, report
from async_hooks._result import JobResult, OnStatus
from async_hooks.errors import JobFailedError, JobTimeoutError, NotFoundError, ServiceError

__all__ = [
    "DEFAULT_TIMEOUT",
    "BatchDescribe",
    "JobResult",
    "OnStatus",
    "PollPlan",
    "PollTiming",
    "presence_plan",
    "wait_shared",
    "wait_until_done",
]

logger = logging.getLogger("async_hooks")

Redact = Callable[[str], str]
#: A loop's memo (``LoopState.memo``): the value for a key, built at once, once.
Memo = Callable[[Hashable, Callable[[], Coalescer]], Coalescer]


def presence_plan(
    kind: str, target: str, head: Callable[[], Awaitable[dict[str, Any]]]
) -> PollPlan:
    """A wait for something to exist (an S3 key, a GCS object): ``head`` returns its metadata
    or raises ``NotFoundError``, which means "not yet"."""

    async def describe() -> dict[str, Any]:
        try:
            found = await head()
        except NotFoundError:
            return {"status": "ABSENT"}
        return {"status": "PRESENT", **found}

    return PollPlan(
        kind,
        target,
        describe,
        lambda answer: str(answer["status"]),
        frozenset({"PRESENT"}),
        frozenset(),
        lambda answer: None,
    )


def wait_until_done(
    plan: PollPlan,
    timing: PollTiming,
    *,
    redact: Redact | None = None,
    memo: Memo | None = None,
    on_status: OnStatus | None = None,
) -> Awaitable[JobResult]:
    """Wait until ``plan`` is terminal; see the module docstring for the rules. With a
    ``batch`` and a loop memo (``memo``: ``LoopState.memo``) the wait joins the loop's
    coalescer for ``batch.key``; otherwise it polls alone. ``redact`` masks secrets in a
    failure reason (a server may echo credentials). ``on_status`` is told each status change
    the wait sees (``progress.py``). (A plain function returning the wait's coroutine: one frame
    less per wait, thousands of which may be waiting.)"""
    if plan.batch is not None and memo is not None:
        return wait_shared(plan, timing, memo, redact=redact, on_status=on_status)
    return _wait_alone(plan, timing, redact, on_status)


async def _wait_alone(
    plan: PollPlan, timing: PollTiming, redact: Redact | None, on_status: OnStatus | None = None
) -> JobResult:
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = math.inf if timing.timeout is None else started + timing.timeout
    state = _Seen()
    try:
        async with timeout_at(None if timing.timeout is None else deadline):
            return await _poll_until_terminal(plan, timing, state, started, redact, on_status)
    except (TimeoutError, asyncio.TimeoutError):
        if loop.time() < deadline:
            raise
        raise _timed_out(plan, timing, state, loop.time() - started) from None


async def wait_shared(
    plan: PollPlan,
    timing: PollTiming,
    memo: Memo,
    *,
    redact: Redact | None = None,
    on_status: OnStatus | None = None,
) -> JobResult:
    """Wait on ``plan`` in the shared schedule of ``plan.batch.key`` (the loop's coalescer for
    it, from ``memo``): asleep until a tick wakes it, or its own deadline passes."""
    batch = plan.batch
    assert batch is not None, "a shared wait needs a plan with a batch"
    coalescer = memo(("coalescer", batch.key), functools.partial(Coalescer, batch.batch_max))
    del memo, batch  # not held by this frame while the wait sleeps
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = None if timing.timeout is None else started + timing.timeout
    member = coalescer.join(plan, timing, deadline)
    logged: str | None = None  # the last status this wait logged (in its own task's context)
    reported: str | None = None  # ... and told ``on_status`` (which a failed finish delays)
    try:
        while True:
            if not member.woken:  # inline, not a coroutine: one frame less per sleeping wait
                future = member.future = loop.create_future()
                try:
                    await future
                finally:
                    member.future = None
            member.woken = False
            if member.expired:
                raise _timed_out(plan, timing, member, loop.time() - started)
            error, member.error = member.error, None
            if error is not None:
                _poll_failed(plan, error, member.polls, member.interval)
                continue
            status = member.status
            assert status is not None
            if status != logged:
                logger.log(
                    STATUS_LOG_LEVEL.get(),
                    "%s job %s: %s -> %s",
                    plan.kind,
                    plan.job_id,
                    logged or "(new)",
                    status,
                )
                logged = status
            # The payload is decoded afresh (the member keeps it encoded): only when needed.
            tell = on_status is not None and status != reported
            read = plan.verdict is not None or plan.finish is not None or tell
            payload = member.payload if read else None
            if plan.finish is not None:
                try:
                    async with timeout_at(deadline):
                        payload = await plan.finish(payload, status)
                except ServiceError as failure:
                    _poll_failed(plan, failure, member.polls, member.interval)
                    continue
                except (TimeoutError, asyncio.TimeoutError):
                    if deadline is None or loop.time() < deadline:
                        raise
                    raise _timed_out(plan, timing, member, loop.time() - started) from None
            verdict = plan.judge(payload, status)  # (without a verdict: by status alone)
            if tell:
                assert on_status is not None
                reported = status
                try:
                    async with timeout_at(deadline):
                        polls, elapsed = member.polls, loop.time() - started
                        await report(on_status, plan, status, verdict, payload, polls, elapsed)
                except (TimeoutError, asyncio.TimeoutError):
                    if deadline is None or loop.time() < deadline:
                        raise
                    raise _timed_out(plan, timing, member, loop.time() - started) from None
            if verdict is not None:
                elapsed = loop.time() - started
                if not read:
                    payload = member.payload
                return _ended(plan, status, verdict, payload, member.polls, elapsed, redact)
            payload = None  # asleep again: the member keeps it, not this frame
    finally:
        coalescer.leave(member)


class _Seen:
    """What a lone wait has seen (a shared wait's ``Member`` has the same three fields)."""

    __slots__ = ("failure", "payload", "polls", "status")

    def __init__(self) -> None:
        self.status: str | None = None
        self.payload: Any = None
        self.polls = 0
        self.failure: str | None = None  # the last poll's error, until a poll succeeds


def _timed_out(plan: PollPlan, timing: PollTiming, seen: Any, elapsed: float) -> JobTimeoutError:
    status: str | None = seen.status
    failure: str | None = seen.failure
    result = None
    if status is not None:
        result = JobResult(plan.kind, plan.job_id, status, False, seen.payload, seen.polls, elapsed)
    # A wait whose last polls failed says why it has no fresher status than this.
    why = "" if failure is None else f"; the last poll failed: {failure}"
    return JobTimeoutError(
        f"{plan.kind} job {plan.job_id} still {status or 'unknown'} after "
        f"{timing.timeout:g}s ({seen.polls} polls){why}",
        result=result,
        last_status=status,
        last_error=failure,
    )


def _ended(
    plan: PollPlan,
    status: str,
    succeeded: bool,
    payload: Any,
    polls: int,
    elapsed: float,
    redact: Redact | None,
) -> JobResult:
    """The result of a job that ended; raises ``JobFailedError`` if it failed."""
    result = JobResult(plan.kind, plan.job_id, status, succeeded, payload, polls, elapsed)
    if succeeded:
        return result
    reason = plan.reason_of(payload)
    if reason is not None and redact is not None:
        reason = redact(reason)
    raise JobFailedError(
        f"{plan.kind} job {plan.job_id} ended {status}: {reason or 'no reason given'}",
        result=result,
        reason=reason,
    )


def _poll_failed(plan: PollPlan, error: BaseException, polls: int, interval: float) -> None:
    """A failed poll: raised unless it is a retryable service error, which is logged."""
    if not isinstance(error, ServiceError) or not error.retryable:
        raise error
    logger.warning(
        "%s job %s: poll %d failed (%s), polling again in %.2gs",
        plan.kind,
        plan.job_id,
        polls,
        type(error).__name__,
        interval,
    )


async def _poll_until_terminal(
    plan: PollPlan,
    timing: PollTiming,
    state: _Seen,
    started: float,
    redact: Redact | None,
    on_status: OnStatus | None = None,
) -> JobResult:
    loop = asyncio.get_running_loop()
    interval = timing.poll_interval
    reported: str | None = None  # the last status told ``on_status``
    while True:
        state.polls += 1
        due = loop.time()
        try:
            payload = await plan.describe()
            status = plan.status_of(payload)
            if status != state.status:
                logger.log(
                    STATUS_LOG_LEVEL.get(),
                    "%s job %s: %s -> %s",
                    plan.kind,
                    plan.job_id,
                    state.status or "(new)",
                    status,
                )
            state.status, state.payload = status, payload
            if plan.finish is not None:
                payload = await plan.finish(payload, status)
        except ServiceError as error:
            _poll_failed(plan, error, state.polls, interval)
            state.failure = failure_text(error)
        else:
            state.failure = None
            verdict = plan.judge(payload, status)
            if on_status is not None and status != reported:
                reported = status
                elapsed = loop.time() - started
                await report(on_status, plan, status, verdict, payload, state.polls, elapsed)
            if verdict is not None:
                elapsed = loop.time() - started
                return _ended(plan, status, verdict, payload, state.polls, elapsed, redact)
        sleep = interval
        if timing.jitter:
            sleep *= 1.0 + random.uniform(-timing.jitter, timing.jitter)
        # Polls start every interval: the time the poll took (its latency, the pipeline's
        # retries) comes out of the sleep instead of adding to it.
        await asyncio.sleep(max(0.0, sleep - (loop.time() - due)))
        interval = timing.next_interval(interval)

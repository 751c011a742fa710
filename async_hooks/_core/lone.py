"""A wait that polls alone, on its own schedule: poll (through the hook's pipeline) -> status
-> terminal? -> sleep until the next poll is due. Polls *start* every interval x backoff,
jittered, capped: a slow answer or a retried poll shortens the sleep instead of stretching the
cadence. Used by plans without a ``batch`` and by ``coalesce=False``."""

from __future__ import annotations

import asyncio
import logging
import math
import random

from async_hooks._core._compat import timeout_at
from async_hooks._core.outcome import Redact, ended, failure_text, poll_failed, timed_out
from async_hooks._core.plan import PollPlan, PollTiming
from async_hooks._core.progress import STATUS_LOG_LEVEL, report
from async_hooks._result import JobResult, OnStatus
from async_hooks.errors import ServiceError

__all__ = ["wait_alone"]

logger = logging.getLogger("async_hooks")


async def wait_alone(
    plan: PollPlan,
    job_id: str,
    timing: PollTiming,
    redact: Redact | None,
    on_status: OnStatus | None,
) -> JobResult:
    """Poll job ``job_id`` of ``plan`` until it is terminal or ``timing.timeout`` has passed."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = math.inf if timing.timeout is None else started + timing.timeout
    seen = _Seen()
    try:
        async with timeout_at(None if timing.timeout is None else deadline):
            return await _poll_until_terminal(
                plan, job_id, timing, seen, started, redact, on_status
            )
    except (TimeoutError, asyncio.TimeoutError):
        if loop.time() < deadline:
            raise
        elapsed = loop.time() - started
        error = timed_out(
            plan, job_id, timing, seen.status, seen.payload, seen.polls, seen.failure, elapsed
        )
        raise error from None


class _Seen:
    """What a lone wait has seen: for its time-out's message and result."""

    __slots__ = ("failure", "payload", "polls", "status")

    def __init__(self) -> None:
        self.status: str | None = None
        self.payload: object = None
        self.polls = 0
        self.failure: str | None = None  # the last poll's error, until a poll succeeds


async def _poll_until_terminal(
    plan: PollPlan,
    job_id: str,
    timing: PollTiming,
    seen: _Seen,
    started: float,
    redact: Redact | None,
    on_status: OnStatus | None,
) -> JobResult:
    loop = asyncio.get_running_loop()
    interval = timing.poll_interval
    told: str | None = None  # the last status told ``on_status``
    while True:
        seen.polls += 1
        due = loop.time()
        try:
            payload = await plan.describe_alone(job_id)
            status = plan.status_of(payload)
            if status != seen.status:
                logger.log(
                    STATUS_LOG_LEVEL.get(),
                    "%s job %s: %s -> %s",
                    plan.kind,
                    job_id,
                    seen.status or "(new)",
                    status,
                )
            seen.status, seen.payload = status, payload
            if plan.finish is not None:
                payload = await plan.finish(payload, status)
        except ServiceError as error:
            poll_failed(plan, job_id, error, seen.polls, interval)
            seen.failure = failure_text(error)
        else:
            seen.failure = None
            verdict = plan.judge(payload, status)
            if on_status is not None and status != told:
                told = status
                elapsed = loop.time() - started
                await report(on_status, plan, job_id, status, verdict, payload, seen.polls, elapsed)
            if verdict is not None:
                elapsed = loop.time() - started
                return ended(plan, job_id, status, verdict, payload, seen.polls, elapsed, redact)
        sleep = interval
        if timing.jitter:
            sleep *= 1.0 + random.uniform(-timing.jitter, timing.jitter)
        await asyncio.sleep(max(0.0, sleep - (loop.time() - due)))
        interval = timing.next_interval(interval)

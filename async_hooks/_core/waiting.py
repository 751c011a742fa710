"""The waiting engine: one poller under every hook's ``wait_for_job``.

poll (through the hook's pipeline) -> status -> terminal? -> sleep until the next poll is due
(polls start every interval x backoff, jittered, capped) -> poll ... until success (a
``JobResult``), a failure state (``JobFailedError``) or the deadline (``JobTimeoutError``). A
poll that fails with a retryable error after the pipeline's own retries is logged and the wait
goes on; a client error (404, 403, bad request) ends it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from async_hooks._core._compat import timeout_at
from async_hooks._core.values import is_finite_number
from async_hooks._result import JobResult
from async_hooks.errors import (
    HookConfigError,
    JobFailedError,
    JobTimeoutError,
    NotFoundError,
    ServiceError,
)

__all__ = ["JobResult", "PollPlan", "PollTiming", "presence_plan", "wait_until_done"]

logger = logging.getLogger("async_hooks")

DEFAULT_TIMEOUT = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class PollPlan:
    """What to poll and how to read it. Providers build one per wait from their job kinds.

    ``verdict`` overrides the status sets when a kind needs more than the status to decide
    (ECS: STOPPED is a success only if every essential container exited 0): it returns True
    (success), False (failure) or None (not terminal).
    """

    kind: str
    job_id: str
    describe: Callable[[], Awaitable[Any]]
    status_of: Callable[[Any], str]
    success: frozenset[str]
    failure: frozenset[str]
    reason_of: Callable[[Any], str | None]
    verdict: Callable[[Any, str], bool | None] | None = None

    def judge(self, payload: Any, status: str) -> bool | None:
        if self.verdict is not None:
            return self.verdict(payload, status)
        if status in self.success:
            return True
        if status in self.failure:
            return False
        return None


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


@dataclass(frozen=True, slots=True)
class PollTiming:
    """When to poll: every ``poll_interval`` seconds, multiplied by ``backoff`` after each poll up
    to ``max_poll_interval``, each sleep jittered by +/- ``jitter`` (a fraction) so that waits
    started together drift apart; give up after ``timeout`` seconds (``None``: never)."""

    poll_interval: float = 5.0
    timeout: float | None = DEFAULT_TIMEOUT
    backoff: float = 1.0
    max_poll_interval: float = 60.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        _positive("poll_interval", self.poll_interval)
        if self.timeout is not None:
            _positive("timeout", self.timeout)
        _positive("max_poll_interval", self.max_poll_interval)
        if not is_finite_number(self.backoff) or self.backoff < 1.0:
            raise HookConfigError("backoff must be a finite number >= 1.0")
        if not is_finite_number(self.jitter) or not 0.0 <= self.jitter < 1.0:
            raise HookConfigError("jitter must be a fraction in [0, 1)")

    def next_interval(self, interval: float) -> float:
        """The interval that follows ``interval`` in the schedule: ``interval`` x ``backoff``,
        at most ``max_poll_interval``. The schedule starts at ``poll_interval``."""
        return min(interval * self.backoff, self.max_poll_interval)


def _positive(name: str, value: object) -> None:
    if not is_finite_number(value) or value <= 0:
        raise HookConfigError(f"{name} must be a finite number > 0, got {value!r}")


async def wait_until_done(plan: PollPlan, timing: PollTiming) -> JobResult:
    """Poll ``plan`` until it is terminal; see the module docstring for the rules."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = math.inf if timing.timeout is None else started + timing.timeout
    state = _WaitState()
    try:
        async with timeout_at(None if timing.timeout is None else deadline):
            return await _poll_until_terminal(plan, timing, state, started)
    except (TimeoutError, asyncio.TimeoutError):
        if loop.time() < deadline:
            raise
        result = state.result(plan, loop.time() - started)
        raise JobTimeoutError(
            f"{plan.kind} job {plan.job_id} still {state.status or 'unknown'} after "
            f"{timing.timeout:g}s ({state.polls} polls)",
            result=result,
            last_status=state.status,
        ) from None


class _WaitState:
    __slots__ = ("payload", "polls", "status")

    def __init__(self) -> None:
        self.status: str | None = None
        self.payload: Any = None
        self.polls = 0

    def result(self, plan: PollPlan, elapsed: float, succeeded: bool = False) -> JobResult | None:
        if self.status is None:
            return None
        return JobResult(
            plan.kind, plan.job_id, self.status, succeeded, self.payload, self.polls, elapsed
        )


async def _poll_until_terminal(
    plan: PollPlan, timing: PollTiming, state: _WaitState, started: float
) -> JobResult:
    loop = asyncio.get_running_loop()
    interval = timing.poll_interval
    while True:
        state.polls += 1
        due = loop.time()
        try:
            payload = await plan.describe()
        except ServiceError as error:
            if not error.retryable:
                raise
            logger.warning(
                "%s job %s: poll %d failed (%s), polling again in %.2gs",
                plan.kind,
                plan.job_id,
                state.polls,
                type(error).__name__,
                interval,
            )
        else:
            status = plan.status_of(payload)
            if status != state.status:
                logger.info(
                    "%s job %s: %s -> %s", plan.kind, plan.job_id, state.status or "(new)", status
                )
            state.status, state.payload = status, payload
            verdict = plan.judge(payload, status)
            if verdict is not None:
                elapsed = loop.time() - started
                result = JobResult(
                    plan.kind, plan.job_id, status, verdict, payload, state.polls, elapsed
                )
                if verdict:
                    return result
                reason = plan.reason_of(payload)
                raise JobFailedError(
                    f"{plan.kind} job {plan.job_id} ended {status}: {reason or 'no reason given'}",
                    result=result,
                    reason=reason,
                )
        sleep = interval
        if timing.jitter:
            sleep *= 1.0 + random.uniform(-timing.jitter, timing.jitter)
        # Polls start every interval: the time the poll took (its latency, a coalescing tick's
        # window, the pipeline's retries) comes out of the sleep instead of adding to it.
        await asyncio.sleep(max(0.0, sleep - (loop.time() - due)))
        interval = timing.next_interval(interval)

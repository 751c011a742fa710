"""A wait in a shared schedule, top to bottom: join the schedule of its key, sleep until a tick
tells it something (or its deadline passes), read what it was told in order, end.

What a tick tells a wait (``WaitState.news``) is a status change or an end with its payload, or a
failed poll. The wait reads each in order: a status change is logged once and told to
``on_status``; ``plan.finish`` (what a kind fetches once its job is terminal) runs and the
verdict decides; a failed poll is logged (retryable) or ends the wait with its own copy of the
error. A job that is merely still running never wakes its wait.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from async_hooks._core._compat import timeout_at
from async_hooks._core.outcome import Redact, ended, own_copy, poll_failed, timed_out
from async_hooks._core.plan import Deferred
from async_hooks._core.progress import STATUS_LOG_LEVEL, report
from async_hooks.errors import ServiceError

if TYPE_CHECKING:
    from async_hooks._core.plan import PollPlan, PollTiming
    from async_hooks._core.schedule.registry import Schedules
    from async_hooks._core.schedule.state import News
    from async_hooks._result import JobResult, OnStatus

__all__ = ["wait_shared"]

logger = logging.getLogger("async_hooks")


async def wait_shared(
    plan: PollPlan,
    timing: PollTiming,
    schedules: Schedules,
    owner: object,
    redact: Redact | None,
    on_status: OnStatus | None,
) -> JobResult:
    """Wait on ``plan`` (of hook ``owner``) in the loop's schedule for ``plan.batch.key``."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = None if timing.timeout is None else started + timing.timeout
    logged: str | None = None  # the last status this wait logged ...
    told: str | None = None  # ... and told ``on_status`` (which a failed ``finish`` delays)
    item: News | None = None
    payload: Any = None
    with schedules.join(plan, timing, owner, deadline) as state:
        del schedules  # not held by this frame while the wait sleeps
        while True:
            if state.news is None and not state.expired:
                # inline, not a coroutine: one frame less per sleeping wait
                future = state.future = loop.create_future()
                try:
                    await future
                finally:
                    state.future = None
            if state.expired:
                raise timed_out(
                    plan,
                    timing,
                    state.status,
                    state.last_payload(),
                    state.polls,
                    state.failure,
                    loop.time() - started,
                )
            for item in state.take_news():
                if isinstance(item, BaseException):
                    poll_failed(plan, own_copy(item), state.polls, state.interval)
                    continue
                status, payload = item
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
                if type(payload) is Deferred:
                    reported = on_status is not None and status != told
                    payload = _built(plan, status, payload, reported)
                    if type(payload) is Deferred:  # running on: kept as its bytes, never built
                        state.keep(payload)
                        continue
                try:
                    if plan.finish is None and (on_status is None or status == told):
                        verdict = plan.judge(payload, status)  # nothing to await: no timer
                    else:
                        async with timeout_at(deadline):
                            if plan.finish is not None:
                                payload = await plan.finish(payload, status)
                            verdict = plan.judge(payload, status)
                            if on_status is not None and status != told:
                                told = status
                                elapsed = loop.time() - started
                                await report(
                                    on_status, plan, status, verdict, payload, state.polls, elapsed
                                )
                except ServiceError as failure:  # ``finish`` failed: the next tick wakes it again
                    poll_failed(plan, failure, state.polls, state.interval)
                    continue
                except (TimeoutError, asyncio.TimeoutError):
                    if deadline is None or loop.time() < deadline:
                        raise
                    elapsed = loop.time() - started
                    error = timed_out(
                        plan, timing, status, payload, state.polls, state.failure, elapsed
                    )
                    raise error from None
                if verdict is not None:
                    elapsed = loop.time() - started
                    return ended(plan, status, verdict, payload, state.polls, elapsed, redact)
                state.keep(payload)  # for a time-out's result
            item = payload = None  # asleep again: the state keeps the payload, not this frame


def _built(plan: PollPlan, status: str, payload: Deferred, reported: bool) -> Any:
    """``payload`` built (botocore's parse of its bytes) when the wait needs the whole of it:
    a ``finish`` step, an ``on_status`` report, or an end (judged by the brief, which holds
    what the verdict reads). A job still running on is logged, not built: ``payload`` itself."""
    if plan.finish is None and not reported and plan.judge(payload.brief, status) is None:
        return payload
    return payload.full()

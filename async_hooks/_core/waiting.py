"""The waiting engine under every hook's ``wait_for_job``: a plan with a ``batch`` joins the
loop's shared schedule for its key (``schedule/``), any other polls alone (``lone.py``). Either
way the wait ends in success (a ``JobResult``), a failure state (``JobFailedError``) or its own
deadline (``JobTimeoutError``, with the last status and poll count) (``outcome.py``). A poll that
fails with a retryable error after the pipeline's own retries is logged and the wait goes on; a
client error (404, 403, bad request) ends it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from async_hooks._core.lone import wait_alone
from async_hooks._core.outcome import Redact
from async_hooks._core.plan import DEFAULT_TIMEOUT, BatchDescribe, PollPlan, PollTiming
from async_hooks._core.schedule import ScheduleSource, wait_shared
from async_hooks._result import JobResult, OnStatus
from async_hooks.errors import NotFoundError

__all__ = [
    "DEFAULT_TIMEOUT",
    "BatchDescribe",
    "JobResult",
    "OnStatus",
    "PollPlan",
    "PollTiming",
    "presence_plan",
    "wait_until_done",
]


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
    schedules: ScheduleSource | None = None,
    owner: object = None,
    on_status: OnStatus | None = None,
    job_id: str | None = None,
) -> Coroutine[Any, None, JobResult]:
    """Wait until job ``job_id`` (by default the plan's own) of ``plan`` is terminal. With a
    ``batch`` and ``schedules`` (asked for the loop's when the wait is first awaited) the wait
    (of hook ``owner``) joins the schedule of ``batch.key``; otherwise it polls alone.
    ``redact`` masks secrets in a failure reason (a server may echo credentials); ``on_status``
    is told each status the wait sees, in order (``progress.py``). (A plain function returning
    the wait's coroutine: one frame less per wait, thousands of which may be waiting.)"""
    job = plan.job_id if job_id is None else job_id
    if plan.batch is not None and schedules is not None:
        return wait_shared(plan, job, timing, schedules, owner, redact, on_status)
    return wait_alone(plan, job, timing, redact, on_status)

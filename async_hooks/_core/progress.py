"""``on_status``: a wait's progress hook, called once per status change the wait sees.

The callback is an observer: it must not change how the wait ends. One that raises is logged
(``async_hooks`` logger, at ERROR, with its traceback) and the wait goes on; a cancellation
(Ctrl-C, the task cancelled) still ends the wait. An awaitable it returns is awaited in the
wait's own task, within the wait's deadline.
"""

from __future__ import annotations

import contextvars
import inspect
import logging
from typing import TYPE_CHECKING, Any

from async_hooks._result import JobResult, OnStatus
from async_hooks.errors import HookConfigError

if TYPE_CHECKING:
    from async_hooks._core.plan import PollPlan

__all__ = ["STATUS_LOG_LEVEL", "OnStatus", "checked", "report"]

logger = logging.getLogger("async_hooks")

#: The level of a wait's "status changed" log line, in the wait's own context. A caller that
#: reports status changes itself (the Airflow trigger, off the loop) sets DEBUG: a logging
#: handler that blocks (a full pipe to a busy supervisor) must not hold the loop of every wait.
STATUS_LOG_LEVEL: contextvars.ContextVar[int] = contextvars.ContextVar(
    "async_hooks_status_log_level", default=logging.INFO
)


def checked(on_status: OnStatus | None) -> OnStatus | None:
    """``on_status`` as given, refused now (not at the first status) if it is not callable."""
    if on_status is not None and not callable(on_status):
        raise HookConfigError(
            f"on_status must be a callable taking a JobResult, not {type(on_status).__name__}"
        )
    return on_status


async def report(
    on_status: OnStatus,
    plan: PollPlan,
    job_id: str,
    status: str,
    verdict: bool | None,
    payload: Any,
    polls: int,
    elapsed: float,
) -> None:
    """Tell ``on_status`` the job so far (``succeeded`` is True only once it has succeeded)."""
    job = JobResult(plan.kind, job_id, status, verdict is True, payload, polls, elapsed)
    try:
        answer = on_status(job)
        if inspect.isawaitable(answer):
            await answer
    except Exception:
        logger.exception(
            "%s job %s: the on_status callback failed on status %s; the wait goes on",
            plan.kind,
            job_id,
            status,
        )

"""How a wait ends, whether it polls alone or in a shared schedule: a ``JobResult``, a
``JobFailedError`` with the provider's reason, a ``JobTimeoutError`` with the last status seen,
or the error of a poll that cannot be retried. A retryable poll error is only logged: the wait
goes on."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from async_hooks._result import JobResult
from async_hooks.errors import JobFailedError, JobTimeoutError, ServiceError

if TYPE_CHECKING:
    from async_hooks._core.plan import PollPlan, PollTiming

__all__ = ["Redact", "ended", "failure_text", "own_copy", "poll_failed", "timed_out"]

logger = logging.getLogger("async_hooks")

Redact = Callable[[str], str]


def failure_text(error: BaseException) -> str:
    """How a failed poll is named in a time-out's message: the error's type and its text (the
    library's errors never carry a secret), cut to a line's length."""
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= 300 else text[:297] + "..."


def own_copy(error: BaseException) -> BaseException:
    """A fresh instance of ``error`` (same type, message, attributes and cause) for one wait to
    raise. Raising one shared instance from many waits would grow its traceback with every raise
    and keep each raiser's frames alive through it."""
    try:
        fresh = copy.copy(error)
    except Exception:  # an SDK error that cannot be rebuilt from its arguments: its text will do
        fresh = type(error).__new__(type(error))
        fresh.args = error.args
    fresh.__cause__ = error.__cause__
    fresh.__context__ = error.__context__
    fresh.__suppress_context__ = error.__suppress_context__
    fresh.__traceback__ = None
    return fresh


def poll_failed(
    plan: PollPlan, job_id: str, error: BaseException, polls: int, interval: float
) -> None:
    """A failed poll: logged when it is a retryable service error (the wait goes on), raised
    otherwise (``error`` must be the wait's own instance)."""
    if not isinstance(error, ServiceError) or not error.retryable:
        raise error
    logger.warning(
        "%s job %s: poll %d failed (%s), polling again in %.2gs",
        plan.kind,
        job_id,
        polls,
        type(error).__name__,
        interval,
    )


def timed_out(
    plan: PollPlan,
    job_id: str,
    timing: PollTiming,
    status: str | None,
    payload: Any,
    polls: int,
    failure: str | None,
    elapsed: float,
) -> JobTimeoutError:
    """The error of a wait whose deadline passed, with the last status and payload it saw; one
    whose last polls failed says why it has no fresher status."""
    result = None
    if status is not None:
        result = JobResult(plan.kind, job_id, status, False, payload, polls, elapsed)
    why = "" if failure is None else f"; the last poll failed: {failure}"
    return JobTimeoutError(
        f"{plan.kind} job {job_id} still {status or 'unknown'} after "
        f"{timing.timeout:g}s ({polls} polls){why}",
        result=result,
        last_status=status,
        last_error=failure,
    )


def ended(
    plan: PollPlan,
    job_id: str,
    status: str,
    succeeded: bool,
    payload: Any,
    polls: int,
    elapsed: float,
    redact: Redact | None,
) -> JobResult:
    """The result of a job that ended; raises ``JobFailedError`` (the reason masked) if it
    failed."""
    result = JobResult(plan.kind, job_id, status, succeeded, payload, polls, elapsed)
    if succeeded:
        return result
    reason = plan.reason_of(payload)
    if reason is not None and redact is not None:
        reason = redact(reason)
    raise JobFailedError(
        f"{plan.kind} job {job_id} ended {status}: {reason or 'no reason given'}",
        result=result,
        reason=reason,
    )

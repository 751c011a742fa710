"""An accelerated ``RedshiftDataTrigger.run``: a Redshift Data statement polled on the shared
schedule, with the provider's events.

The provider's ``run`` asks ``DescribeStatement`` until the status is not running (its hook's
``is_still_running``), once more (``check_query_is_finished_async``), and reads that answer
with its hook's ``parse_statement_response`` (its log lines, its exceptions); any exception is an
error event with its text. Here the polls are the shared schedule's (``poll_interval`` its
interval, equal calls of one tick one call) on async_hooks' cached client; the last call and
the parse are the provider's own, and an error answer or missing credentials become botocore's
own exception, so the event's text is the provider's.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from async_hooks._core.plan import PollPlan, PollTiming
from async_hooks._core.progress import STATUS_LOG_LEVEL
from async_hooks.airflow._accelerate._fetch import answer, batch_describe, job_id_of
from async_hooks.airflow._accelerate._run import MIN_INTERVAL, hook_for
from async_hooks.airflow._accelerate._waiter import NO_CREDENTIALS
from async_hooks.errors import JobFailedError

__all__ = ["CLASS", "MODULE", "accelerated_statement_run"]

logger = logging.getLogger("async_hooks")

MODULE = "airflow.providers.amazon.aws.triggers.redshift_data"
CLASS = "RedshiftDataTrigger"
SERVICE, OPERATION = "redshift-data", "DescribeStatement"
_SUCCESS, _ENDED = "success", "ended"


async def accelerated_statement_run(
    trigger: Any, original: Callable[[Any], Any]
) -> AsyncIterator[Any]:
    """The trigger's events, as ``original`` (the provider's ``run``) would yield them."""
    from airflow.providers.amazon.aws.hooks.redshift_data import (
        ABORTED_STATE,
        FAILED_STATE,
        RedshiftDataQueryAbortedError,
        RedshiftDataQueryFailedError,
    )
    from airflow.triggers.base import TriggerEvent

    statement_id = trigger.statement_id
    try:
        hook = await hook_for(trigger.hook)
    except Exception as why:  # Unsupported, or a look-up whose failure is not the provider's
        logger.debug("%s runs as the provider's: %s", type(trigger).__name__, why)
        async for theirs in original(trigger):
            yield theirs
        return
    event: dict[str, Any]
    try:
        async with hook:
            await _wait(hook, statement_id, float(trigger.poll_interval))
            found = await answer(hook, SERVICE, "describe_statement", {"Id": statement_id})
        last = _raised(found)
        if trigger.hook.parse_statement_response(last):
            event = {"status": "success", "statement_id": statement_id}
        else:
            event = {
                "status": "error",
                "statement_id": statement_id,
                "message": f"{trigger.task_id} failed",
            }
    except (RedshiftDataQueryFailedError, RedshiftDataQueryAbortedError) as error:
        failed = isinstance(error, RedshiftDataQueryFailedError)
        event = {
            "status": "error",
            "statement_id": statement_id,
            "message": str(error),
            "type": FAILED_STATE if failed else ABORTED_STATE,
        }
    except Exception as error:
        event = {"status": "error", "statement_id": statement_id, "message": str(error)}
    yield TriggerEvent(event)


class _Polls:
    """A statement's polls: ``status_of`` each answer, ``error`` what the provider's
    ``is_still_running`` would have raised on it."""

    __slots__ = ("error",)

    def __init__(self) -> None:
        self.error: Exception | None = None

    def status_of(self, found: Any) -> str:
        from airflow.providers.amazon.aws.hooks.redshift_data import RUNNING_STATES

        if self.error is not None:
            return f"{_ENDED} (already)"
        try:
            status = _raised(found)["Status"]
            running = status in RUNNING_STATES
        except Exception as error:
            self.error = error
            return f"{_ENDED}: {type(error).__name__}"
        return f"running: {status}" if running else _SUCCESS


def _verdict(payload: Any, status: str) -> bool | None:
    if status == _SUCCESS:
        return True
    return False if status.startswith(_ENDED) else None


async def _wait(hook: Any, statement_id: str, interval: float) -> None:
    """Poll until the statement is not running (``hook`` open); raises what the provider's
    poll would."""
    args = {"Id": statement_id}
    polls = _Polls()

    async def describe() -> Any:
        return await answer(hook, SERVICE, "describe_statement", args)

    plan = PollPlan(
        f"{SERVICE} statement",
        job_id_of(SERVICE, OPERATION, args),
        describe,
        polls.status_of,
        frozenset(),
        frozenset(),
        lambda payload: None,
        _verdict,
        batch_describe(hook, SERVICE, OPERATION, args),
    )
    timing = PollTiming(max(interval, MIN_INTERVAL), None, jitter=0.1)
    STATUS_LOG_LEVEL.set(logging.DEBUG)  # the provider logs nothing while it polls
    try:
        await hook._wait(plan, timing, _quiet)
    except JobFailedError:
        if polls.error is None:
            raise
        raise polls.error from None


async def _quiet(job: Any) -> None:
    """No status lines: the provider's poll logs none."""


def _raised(found: Any) -> Any:
    """``found``, or the exception botocore would have raised for the call instead."""
    if isinstance(found, dict) and NO_CREDENTIALS in found:
        from botocore.exceptions import NoCredentialsError

        raise NoCredentialsError()
    if isinstance(found, dict) and isinstance(found.get("Error"), dict):
        from botocore.exceptions import ClientError

        raise ClientError(found, OPERATION)
    return found

"""Operator helpers: one ``JobWait`` drives both paths of an operator.

Deferrable: ``wait_or_defer`` defers to a ``WaitForJobTrigger`` and Airflow resumes the task in
``execute_complete``. Not deferrable: the same ``JobWait`` waits in the worker through
``hook.sync.wait_for_job`` and its outcome goes through the same ``execute_complete``. Both paths
build the event with one function, so the task ends the same way whichever ran.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow.sdk.exceptions import AirflowException

from async_hooks.airflow._events import STATUSES, WaitOutcome
from async_hooks.airflow._settings import decode_hook_kwargs
from async_hooks.airflow._trigger import WaitForJobTrigger
from async_hooks.errors import HookError

__all__ = ["JobWait", "JobWaitError", "WaitForJobMixin", "result_of"]

#: How long after a wait's own deadline Airflow may time the deferral out itself: the trigger's
#: "timeout" event, with its reason, should always come first.
DEFERRAL_GRACE = 300.0


@dataclass(frozen=True)
class JobWait:
    """One wait: which provider's hook, its settings, and ``wait_for_job``'s arguments."""

    provider: str
    hook_kwargs: Mapping[str, Any] = field(default_factory=dict)
    wait_args: Sequence[Any] = ()
    wait_kwargs: Mapping[str, Any] = field(default_factory=dict)

    def trigger(self, *, started_at: float | None = None, polls: int = 0) -> WaitForJobTrigger:
        """The trigger for this wait (it checks every setting here, in the worker)."""
        return WaitForJobTrigger(
            self.provider,
            hook_kwargs=self.hook_kwargs,
            wait_args=self.wait_args,
            wait_kwargs=self.wait_kwargs,
            started_at=started_at,
            polls=polls,
        )

    def wait_blocking(self) -> dict[str, Any]:
        """Wait in this thread with ``hook.sync.wait_for_job``; the event a trigger would give."""
        trigger = self.trigger()  # the same checks and names as the deferrable path
        kind, job_id = trigger._names()
        outcome = WaitOutcome(kind, job_id, started_at=trigger.started_at, polls_before=0)
        hook = trigger.hook_class(**decode_hook_kwargs(trigger.hook_kwargs))
        outcome.mask = hook._redact
        try:
            result = hook.sync.wait_for_job(*trigger.wait_args, **trigger.wait_kwargs)
        except HookError as error:
            return outcome.error(error, time.time(), trigger.timeout)
        finally:
            hook.sync.close()
        return outcome.success(result, time.time())


class JobWaitError(AirflowException):  # type: ignore[misc]
    """The job failed, the wait timed out or could not go on: the task fails with the reason.
    ``status`` is ``"failed"`` or ``"timeout"``; ``result`` is the event's summary."""

    def __init__(
        self, message: str, *, status: str = "failed", reason: str | None = None, result: Any = None
    ) -> None:  # defaults so that pickle (args, then __dict__) can rebuild it
        super().__init__(message)
        self.status, self.reason, self.result = status, reason, result


def result_of(event: Any) -> dict[str, Any]:
    """The ``result`` of a ``"success"`` event; ``JobWaitError`` with the provider's reason for
    ``"failed"`` and ``"timeout"``."""
    if (
        not isinstance(event, Mapping)
        or event.get("status") not in STATUSES
        or not isinstance(event.get("result"), Mapping)
    ):
        raise AirflowException(
            "resumed without a WaitForJobTrigger event (expected a dict with status, reason and"
            f" result), got {type(event).__name__}"
        )
    result = dict(event["result"])
    if event["status"] == "success":
        return result
    what = f"{result.get('kind')} job {result.get('job_id')}"
    verb = "timed out" if event["status"] == "timeout" else "failed"
    reason = event.get("reason")
    raise JobWaitError(
        f"{what} {verb}: {reason or 'no reason given'}",
        status=event["status"],
        reason=reason,
        result=result,
    )


class WaitForJobMixin:
    """Mix into a ``BaseOperator`` (before it) to wait for a job either way::

        class RunGlueJob(WaitForJobMixin, BaseOperator):
            def execute(self, context):
                run_id = ...start the run...
                return self.wait_or_defer(context, JobWait(
                    "aws", {"conn_id": "aws"}, ["glue", run_id], {"job_name": self.job_name}
                ))

    ``self.deferrable`` picks the path. Either way the task returns the result summary (an
    XCom) or fails with ``JobWaitError`` carrying the provider's reason.
    """

    deferrable: bool = False

    def wait_or_defer(
        self, context: Any, wait: JobWait, *, method_name: str = "execute_complete"
    ) -> Any:
        """Defer to ``wait.trigger()`` (Airflow resumes in ``method_name``), or, not deferrable,
        wait here and hand the same event to ``method_name`` with this ``context``."""
        if self.deferrable:
            trigger = wait.trigger()
            timeout = None
            if trigger.deadline is not None:
                timeout = dt.timedelta(seconds=trigger.deadline - time.time() + DEFERRAL_GRACE)
            self.defer(trigger=trigger, method_name=method_name, timeout=timeout)  # type: ignore[attr-defined]
        return getattr(self, method_name)(context, event=wait.wait_blocking())

    def execute_complete(self, context: Any, event: Any = None) -> Any:
        """Where Airflow resumes a deferred task (and the blocking path ends)."""
        return result_of(event)

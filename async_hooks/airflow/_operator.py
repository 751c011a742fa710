"""Operator helpers: one ``JobWait`` drives both paths of an operator.

Deferrable: ``wait_or_defer`` defers to a ``WaitForJobTrigger`` and Airflow resumes the task in
``execute_complete``. Not deferrable: the same ``JobWait`` waits in the worker through
``hook.sync.wait_for_job`` and its outcome goes through the same ``execute_complete``. Both paths
build the event with one function, so the task ends the same way whichever ran.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow.sdk.exceptions import AirflowException

from async_hooks.airflow._events import STATUSES, WaitOutcome
from async_hooks.airflow._loading import check_names
from async_hooks.airflow._resume import RESUME_KEY, job_record, submit_or_resume_id
from async_hooks.airflow._settings import decode_hook_kwargs
from async_hooks.airflow._trigger import WaitForJobTrigger
from async_hooks.errors import HookError

__all__ = ["JobWait", "JobWaitError", "WaitForJobMixin", "result_of"]

logger = logging.getLogger("async_hooks")

#: How long after a wait's own deadline Airflow may time the deferral out itself: the trigger's
#: "timeout" event, with its reason, should always come first.
DEFERRAL_GRACE = 300.0


@dataclass(frozen=True)
class JobWait:
    """One wait: which provider's hook, its settings, and the wait's arguments.

    ``method`` is the hook's wait (``wait_for_job``, ``wait_for_s3_key``, ...).
    ``cancel_on_kill=True`` stops the remote job when the deferred task ends by a user's action
    or the wait's deadline passes (see ``WaitForJobTrigger``). ``include_response=True`` puts
    the provider's whole describe answer in the result (its ``response``); without it the
    result is a small summary, as Airflow persists it for every task that ends.
    ``resume_key`` is set by ``WaitForJobMixin.submit_or_resume``: a failed wait then drops the
    recorded job id, so the next try submits afresh.
    """

    provider: str
    hook_kwargs: Mapping[str, Any] = field(default_factory=dict)
    wait_args: Sequence[Any] = ()
    wait_kwargs: Mapping[str, Any] = field(default_factory=dict)
    method: str = "wait_for_job"
    cancel_on_kill: bool = False
    resume_key: str | None = None
    include_response: bool = False

    def __post_init__(self) -> None:
        """The names are checked now, as a trigger would check them in the triggerer: a
        misspelt ``wait_kwargs`` key (``job_nme``) or hook setting fails where the wait is
        described, naming the ones the hook takes. Values are checked by ``trigger()``."""
        args: object = self.wait_args  # as given: ``trigger()`` says what is wrong with them
        kwargs: object = self.wait_kwargs
        settings: object = self.hook_kwargs
        if isinstance(args, (str, bytes)) or not isinstance(args, Sequence):
            return
        if isinstance(kwargs, Mapping) and isinstance(settings, Mapping):
            check_names(self.provider, self.method, args, kwargs, settings)

    def trigger(
        self,
        *,
        started_at: float | None = None,
        polls: int = 0,
        end_from_trigger: bool = False,
        push_result: bool = True,
    ) -> WaitForJobTrigger:
        """The trigger for this wait (it checks every setting here, in the worker)."""
        return WaitForJobTrigger(
            self.provider,
            hook_kwargs=self.hook_kwargs,
            wait_args=self.wait_args,
            wait_kwargs=self.wait_kwargs,
            started_at=started_at,
            polls=polls,
            method=self.method,
            cancel_on_kill=self.cancel_on_kill,
            end_from_trigger=end_from_trigger,
            include_response=self.include_response,
            push_result=push_result,
        )

    def wait_blocking(self) -> dict[str, Any]:
        """Wait in this thread with the hook's sync facade; the event a trigger would give."""
        trigger = self.trigger()  # the same checks and names as the deferrable path
        kind, job_id = trigger._names()
        outcome = WaitOutcome(
            kind,
            job_id,
            started_at=trigger.started_at,
            polls_before=0,
            include_response=self.include_response,
        )
        hook = trigger.hook_class(**decode_hook_kwargs(trigger.hook_kwargs))
        outcome.mask = hook._redact
        try:
            wait = getattr(hook.sync, self.method)
            result = wait(*trigger.wait_args, **trigger.wait_kwargs)
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

    def submit_or_resume(
        self,
        context: Any,
        submit: Callable[[], str],
        wait: Callable[[str], JobWait],
        *,
        key: str = RESUME_KEY,
    ) -> JobWait:
        """The wait on this task's job: on a first try ``submit()`` starts it and its id is
        recorded (Airflow 3.3's task state store; a Variable before); a retry or a cleared
        task waits on the recorded job instead of submitting another. A wait that ends
        ``failed`` drops the record, so the next try submits afresh. ``wait(job_id)`` builds
        the ``JobWait``; hand it to ``wait_or_defer``."""
        job_id, _resumed = submit_or_resume_id(job_record(context, key), submit)
        return dataclasses.replace(wait(job_id), resume_key=key)

    def wait_or_defer(
        self, context: Any, wait: JobWait, *, method_name: str = "execute_complete"
    ) -> Any:
        """Defer to ``wait.trigger()`` (Airflow resumes in ``method_name``), or, not deferrable,
        wait here and hand the same event to ``method_name`` with this ``context``."""
        extra: dict[str, Any] = {}
        if wait.resume_key is not None:  # what execute_complete needs to drop a dead record
            extra = {"resume_key": wait.resume_key, "cancel_on_kill": wait.cancel_on_kill}
        if self.deferrable:
            trigger = wait.trigger()
            timeout = None
            if trigger.deadline is not None:
                timeout = dt.timedelta(seconds=trigger.deadline - time.time() + DEFERRAL_GRACE)
            self.defer(  # type: ignore[attr-defined]
                trigger=trigger, method_name=method_name, timeout=timeout, kwargs=extra or None
            )
        return getattr(self, method_name)(context, event=wait.wait_blocking(), **extra)

    def execute_complete(
        self,
        context: Any,
        event: Any = None,
        resume_key: str | None = None,
        cancel_on_kill: bool = False,
    ) -> Any:
        """Where Airflow resumes a deferred task (and the blocking path ends)."""
        try:
            return result_of(event)
        except JobWaitError as error:
            if resume_key is not None and _job_is_over(error, cancel_on_kill):
                _forget(context, resume_key)
            raise


def _job_is_over(error: JobWaitError, cancelled_at_deadline: bool) -> bool:
    """Whether the recorded job can no longer succeed, so the next try must submit anew: it
    reported a failure state, or the wait's deadline stopped it (``cancel_on_kill``). An error
    that only ended the wait (throttled, credentials, a 5xx) keeps the record: the job may be
    running, and the next try waits on it."""
    reported = isinstance(error.result, Mapping) and error.result.get("status") is not None
    if error.status == "failed":
        return reported
    return error.status == "timeout" and cancelled_at_deadline


def _forget(context: Any, key: str) -> None:
    """Drop the recorded job id of a job that failed: the next try submits a new one."""
    try:
        job_record(context, key).delete()
    except Exception as error:  # the task fails anyway; a retry then waits on the failed job
        logger.warning("could not drop the failed job's record (%s)", type(error).__name__)

"""``WaitForJobSensor``: wait on a job that already exists without ever holding a worker slot.

Where Airflow can start a task in the triggerer (``start_from_trigger``, Airflow 2.10+; with
templated arguments 3.3+), the scheduler creates the sensor's trigger itself, from
``start_trigger_args`` fixed when the DAG was parsed; the triggerer renders the templated fields
(the job id from a parameter, a template or an XCom) in place and runs it, and the trigger ends
the task there (``end_from_trigger``). Its ``started_at`` cannot be in those parsed kwargs, but
Airflow keeps it for us: the scheduler sets the task's ``trigger_timeout`` to the deferral's time
plus ``StartTriggerArgs.timeout`` (or its ``execution_timeout``, if shorter), and the runner hands
it to the trigger as ``timeout_after``. The sensor always gives Airflow a timeout (ten years for
a wait without one) and tells the trigger the span (``deferral_span``), so the trigger knows when
the wait began without asking Airflow, after a failover too. Elsewhere the sensor defers on its
first run, as any deferrable operator does.

Only the fields that hold a template are rendered: Airflow compiles every string of a templated
field with Jinja for every trigger it starts, on the loop every trigger shares.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import BaseOperator
from airflow.triggers.base import StartTriggerArgs

from async_hooks._core.values import is_finite_number
from async_hooks._providers import provider as _provider
from async_hooks.airflow._cancel import cancel_method
from async_hooks.airflow._loading import check_names, is_template
from async_hooks.airflow._operator import DEFERRAL_GRACE, JobWait, result_of
from async_hooks.airflow._settings import plain
from async_hooks.airflow._trigger import _PUBLIC_PATH, WaitForJobTrigger
from async_hooks.errors import HookConfigError

__all__ = ["WaitForJobSensor"]

#: Airflow renders templates of a trigger started by the scheduler from this version on.
_RENDERS_START_TRIGGER_ARGS = (3, 3)
#: The fields a user may template (each rendered only when it holds a template).
_TEMPLATABLE = ("hook_kwargs", "wait_args", "wait_kwargs")
#: Airflow's timeout for a deferral whose wait has none: the start is derived from it.
_NO_DEADLINE = dt.timedelta(days=3650)


class WaitForJobSensor(BaseOperator):  # type: ignore[misc]
    """Succeed when a job that already exists succeeds; fail with the provider's reason when it
    fails or the wait times out.

    ``provider``/``hook_kwargs``/``wait_kwargs`` are ``WaitForJobTrigger``'s; the wait is
    ``method(kind, job_id, **wait_kwargs)`` (``method(job_id, ...)`` without a ``kind``: HTTP),
    or ``method(*wait_args, ...)`` when ``wait_args`` are given (``wait_for_s3_key``). Every one
    of them may be a template (``job_id="{{ ti.xcom_pull(task_ids='submit') }}"``). A success
    ends the task in the triggerer, the event's ``result`` its XCom; a failure or a time-out
    resumes it on a worker for a moment to fail with the provider's reason, so Airflow's retries
    and failure callbacks apply. ``cancel_on_kill=True`` stops the job when a user ends the task
    or the deadline passes. A hook setting or wait keyword the hook does not take
    (``job_nme``) is refused when the DAG is parsed, with the triggerer's message; values are
    not checked there, so templates pass.

    The task's XCom is the wait's summary (kind, job id, status, succeeded, reason, polls,
    elapsed); ``include_response=True`` adds the provider's whole describe answer, and Airflow's
    own ``do_xcom_push=False`` ends the task with no XCom at all.
    """

    template_fields: Sequence[str] = _TEMPLATABLE
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        provider: str,
        job_id: str | None = None,
        kind: str | None = None,
        hook_kwargs: Mapping[str, Any] | None = None,
        wait_kwargs: Mapping[str, Any] | None = None,
        wait_args: Sequence[Any] | None = None,
        method: str = "wait_for_job",
        cancel_on_kill: bool = False,
        start_from_trigger: bool = True,
        end_from_trigger: bool = True,
        include_response: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        row = _provider(provider)  # names the known providers...
        row.wait_method(method)  # ... and waits
        if cancel_on_kill:
            cancel_method(row, method)  # a wait with nothing to stop fails at parse time
        if wait_args is None:
            if job_id is None:
                raise HookConfigError("WaitForJobSensor needs job_id= (or wait_args=)")
            wait_args = [job_id] if kind is None else [kind, job_id]
        elif job_id is not None or kind is not None:
            raise HookConfigError("give either job_id= (and kind=) or wait_args=, not both")
        self.provider, self.method = provider, method
        self.hook_kwargs: dict[str, Any] = plain(dict(hook_kwargs or {}), "hook_kwargs")
        self.wait_args: list[Any] = plain(list(wait_args), "wait_args")
        self.wait_kwargs: dict[str, Any] = plain(dict(wait_kwargs or {}), "wait_kwargs")
        # At parse: a misspelt keyword fails here, not later as the triggerer's "failed"
        # event. Names only: the values may be templates, rendered in the triggerer.
        check_names(provider, method, self.wait_args, self.wait_kwargs, self.hook_kwargs)
        self.cancel_on_kill = bool(cancel_on_kill)
        self.end_from_trigger = bool(end_from_trigger)
        self.include_response = bool(include_response)
        # Per sensor: a field without a template would only be compiled for nothing.
        self.template_fields = tuple(
            name for name in _TEMPLATABLE if _templated(getattr(self, name))
        )
        self.start_from_trigger = bool(start_from_trigger) and self._can_start_from_trigger()
        if self.start_from_trigger:
            span = self._deferral_span()
            self.start_trigger_args = StartTriggerArgs(
                trigger_cls=_PUBLIC_PATH,
                next_method="execute_complete",
                trigger_kwargs=_beyond_defaults(
                    {
                        "provider": provider,
                        "hook_kwargs": self.hook_kwargs,
                        "wait_args": self.wait_args,
                        "wait_kwargs": self.wait_kwargs,
                        # No started_at: kept by the trigger itself (the module's docstring).
                        "method": method,
                        "cancel_on_kill": self.cancel_on_kill,
                        "end_from_trigger": self.end_from_trigger,
                        "include_response": self.include_response,
                        "push_result": bool(self.do_xcom_push),
                        "deferral_span": span,
                    }
                ),
                next_kwargs=None,
                timeout=dt.timedelta(seconds=span),
            )

    def _can_start_from_trigger(self) -> bool:
        """Whether the scheduler can start this sensor in the triggerer: Airflow 3.3 renders
        templated trigger kwargs there; before, only a sensor without templates can."""
        if _airflow_version() >= _RENDERS_START_TRIGGER_ARGS:
            return True
        fields = (self.hook_kwargs, self.wait_args, self.wait_kwargs)
        return not any(_templated(value) for value in fields)

    def _deferral_span(self) -> float:
        """Seconds from the deferral to the task's ``trigger_timeout``, as Airflow will set it:
        the wait's timeout plus the grace, ten years without one, or the task's
        ``execution_timeout`` where that is shorter (Airflow takes the smaller)."""
        timeout = self._deferral_timeout() or _NO_DEADLINE
        limit = self.execution_timeout
        if isinstance(limit, dt.timedelta) and limit < timeout:
            timeout = limit
        return timeout.total_seconds()

    def _deferral_timeout(self) -> dt.timedelta | None:
        """Airflow's own limit on the deferral: after the wait's own deadline, never before."""
        timeout = self.wait_kwargs.get("timeout")
        if not is_finite_number(timeout):
            return None
        return dt.timedelta(seconds=float(timeout) + DEFERRAL_GRACE)

    def job_wait(self) -> JobWait:
        """The wait, with the fields as rendered now."""
        return JobWait(
            self.provider,
            self.hook_kwargs,
            self.wait_args,
            self.wait_kwargs,
            method=self.method,
            cancel_on_kill=self.cancel_on_kill,
            include_response=self.include_response,
        )

    def execute(self, context: Any) -> Any:
        """Where Airflow cannot start the sensor in the triggerer: defer on the first run."""
        trigger = self.job_wait().trigger(
            end_from_trigger=self.end_from_trigger, push_result=bool(self.do_xcom_push)
        )
        self.defer(
            trigger=trigger, method_name="execute_complete", timeout=self._deferral_timeout()
        )

    def execute_complete(self, context: Any, event: Any = None) -> Any:
        """Where the sensor resumes: always after a failure (to fail with the provider's reason),
        after a success only without ``end_from_trigger``."""
        if event == "success":  # a success event's payload, as ``dag.test()`` hands it over
            return None
        return result_of(event)


#: ``WaitForJobTrigger``'s keyword defaults, left out of the trigger kwargs a sensor stores.
_TRIGGER_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(WaitForJobTrigger.__init__).parameters.items()
    if parameter.default is not inspect.Parameter.empty
}


def _beyond_defaults(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Only what differs from the trigger's defaults: the scheduler ships a sensor's DAG, these
    kwargs of each of its sensors among it, with every trigger it starts in the triggerer."""
    return {
        key: value
        for key, value in kwargs.items()
        if key not in _TRIGGER_DEFAULTS or value != _TRIGGER_DEFAULTS[key]
    }


def _templated(value: Any) -> bool:
    if isinstance(value, str):
        return is_template(value)
    if isinstance(value, Mapping):
        return any(_templated(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_templated(item) for item in value)
    return False


def _airflow_version() -> tuple[int, int]:
    import airflow

    parts = [*airflow.__version__.split("."), "0", "0"][:2]
    try:
        return int(parts[0]), int("".join(ch for ch in parts[1] if ch.isdigit()) or 0)
    except ValueError:
        return (0, 0)

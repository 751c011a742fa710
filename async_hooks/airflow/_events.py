"""The one event a wait ends with, built the same way in the triggerer and in the worker.

``{"status": "success" | "failed" | "timeout", "reason": str | None, "result": {...}}``, where
``result`` always has the same keys (``kind``, ``job_id``, ``status``, ``succeeded``, ``reason``,
``polls``, ``elapsed``, ``response``) and only JSON values: Airflow stores it and hands it to
``execute_complete`` in another process.

Small by default: Airflow's supervisor persists every event (and a success's XCom) one database
transaction at a time, so each byte is paid for by every task that ends. ``response`` (the
provider's describe answer, kilobytes for a Batch job) is ``None`` unless the wait asked for it
(``include_response=True``), and a reason is cut at ``REASON_LIMIT`` characters (the whole of it
goes to the trigger's log): an event stays under 1 KB whatever the provider answered.

Every string in it is masked with the hook's secrets: Airflow keeps the payload in its database
and logs it, and a provider's describe answer may echo a credential (a failure reason that
repeats the request).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from async_hooks._jsonable import json_safe
from async_hooks._result import JobResult
from async_hooks.errors import HookError, JobFailedError, JobTimeoutError

__all__ = ["REASON_LIMIT", "STATUSES", "WaitOutcome", "json_safe"]

STATUSES = ("success", "failed", "timeout")
#: Characters of a reason an event carries; the rest is named, not carried.
REASON_LIMIT = 300


def _unchanged(text: str) -> str:
    return text


class WaitOutcome:
    """Turns how ``wait_for_job`` ended into the event payload.

    ``started_at`` is when the wait began (the first deferral), so ``elapsed`` counts the whole
    wait in every re-creation. ``polls_before`` are the polls the trigger was created with (a
    worker's polls before it deferred): Airflow never updates a stored trigger, so a trigger
    re-created after a failover counts its own polls from there, not its predecessor's.
    ``mask`` is the hook's redactor, set once the hook exists. ``include_response`` puts the
    provider's whole describe answer in ``result["response"]``.
    """

    __slots__ = (
        "full_reason",
        "include_response",
        "job_id",
        "kind",
        "mask",
        "polls_before",
        "started_at",
    )

    def __init__(
        self,
        kind: str | None,
        job_id: str | None,
        *,
        started_at: float,
        polls_before: int,
        include_response: bool = False,
    ) -> None:
        self.kind, self.job_id = kind, job_id
        self.started_at, self.polls_before = started_at, polls_before
        self.include_response = include_response
        self.mask: Callable[[str], str] = _unchanged
        #: The last payload's reason, masked but whole (the event carries at most its start).
        self.full_reason: str | None = None

    def success(self, result: JobResult, now: float) -> dict[str, Any]:
        return self._payload("success", None, result, now)

    def error(self, error: HookError, now: float, timeout: float | None) -> dict[str, Any]:
        """``failed`` for a failed job or an error that ended the wait, ``timeout`` for a
        deadline; ``reason`` is the provider's own text where it gave one."""
        if isinstance(error, JobTimeoutError):
            return self.deadline(
                now, timeout, error.result, error.last_status, last_error=error.last_error
            )
        if isinstance(error, JobFailedError):
            reason = error.reason or str(error)
            return self._payload("failed", reason, error.result, now)
        return self._payload("failed", f"{type(error).__name__}: {error}", None, now)

    def deadline(
        self,
        now: float,
        timeout: float | None,
        result: JobResult | None = None,
        last_status: str | None = None,
        polls: int = 0,
        *,
        last_error: str | None = None,
    ) -> dict[str, Any]:
        reason = (
            f"{self.kind} job {self.job_id} still {last_status or 'without a status'} "
            f"{now - self.started_at:.0f}s after the wait began (timeout {timeout:g}s)"
        )
        if last_error is not None:  # why it has no fresher status: the polls kept failing
            reason += f"; the last poll failed: {last_error}"
        return self._payload("timeout", reason, result, now, polls)

    def _payload(
        self,
        status: str,
        reason: str | None,
        result: JobResult | None,
        now: float,
        polls: int = 0,
    ) -> dict[str, Any]:
        self.full_reason = None if reason is None else self.mask(reason)
        masked = None if self.full_reason is None else bounded(self.full_reason)
        response = None
        if result is not None and self.include_response:
            response = json_safe(result.response, self.mask)
        summary = {
            "kind": result.kind if result else self.kind,
            "job_id": result.job_id if result else self.job_id,
            "status": result.status if result else None,
            "succeeded": bool(result and result.succeeded),
            "reason": masked,
            "polls": self.polls_before + (result.polls if result else polls),
            "elapsed": round(max(0.0, now - self.started_at), 3),
            "response": response,
        }
        return {"status": status, "reason": masked, "result": summary}


def bounded(reason: str) -> str:
    """``reason`` cut at ``REASON_LIMIT`` characters, saying how many were left out."""
    if len(reason) <= REASON_LIMIT:
        return reason
    return f"{reason[:REASON_LIMIT]}... ({len(reason) - REASON_LIMIT} more characters)"

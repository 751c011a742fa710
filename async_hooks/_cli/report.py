"""How each wait ended, as a line for people and as a JSON object for programs (``--json``).

A wait ends in one of four outcomes: ``succeeded``, ``failed`` (a failure state, with the
provider's reason), ``timed_out`` or ``error`` (the job could not be described: not found,
access denied, the service unreachable). A configuration error is none of them: it stops the
command with exit code 2 (``UsageError``), whichever job hit it first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from async_hooks._cli.exitcodes import FAILED, OK, UsageError
from async_hooks._cli.translate import in_flags
from async_hooks._result import JobResult
from async_hooks.errors import (
    HookConfigError,
    HookError,
    JobError,
    JobFailedError,
    JobTimeoutError,
)

__all__ = ["Outcome", "classify", "exit_code", "json_line", "summary", "text_line"]


@dataclass(frozen=True)
class Outcome:
    """One job's end: its outcome, last status, reason (or error text) and result so far; its
    polls and seconds when known without a result, and a timed-out wait's last poll error."""

    kind: str
    job_id: str
    outcome: str
    status: str | None
    reason: str | None
    result: JobResult | None
    polls: int | None = None
    elapsed: float | None = None
    last_error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.outcome == "succeeded"


#: How a timed-out wait without a result states its polls: ``... after 5s (4 polls)``.
_POLLS = re.compile(r"\((\d+) polls?\)")


def classify(
    kind: str,
    job_id: str,
    value: JobResult | BaseException,
    elapsed: float | None = None,
    explain: Callable[[str], str] = in_flags,
) -> Outcome:
    """The outcome of one wait (``elapsed``: the seconds it took, by the command's clock); a
    configuration error raises ``UsageError`` (its text worded by ``explain``), anything that
    is not a ``HookError`` (a bug) is re-raised as it is."""
    if isinstance(value, JobResult):
        return Outcome(kind, job_id, "succeeded", value.status, None, value)
    if isinstance(value, JobFailedError):
        status = value.result.status if value.result else None
        return Outcome(kind, job_id, "failed", status, value.reason, value.result)
    if isinstance(value, JobTimeoutError):
        counted = _POLLS.search(str(value))
        return Outcome(
            kind,
            job_id,
            "timed_out",
            value.last_status,
            str(value),
            value.result,
            polls=int(counted.group(1)) if counted else None,
            elapsed=elapsed,
            last_error=value.last_error,
        )
    if isinstance(value, HookConfigError):
        raise UsageError(explain(str(value))) from None
    if isinstance(value, HookError):
        result = value.result if isinstance(value, JobError) else None
        return Outcome(kind, job_id, "error", None, str(value), result, elapsed=elapsed)
    raise value


def as_dict(outcome: Outcome) -> dict[str, Any]:
    """The JSON object of one job: the result's fields, its outcome and reason."""
    data: dict[str, Any] = {
        "kind": outcome.kind,
        "job_id": outcome.job_id,
        "status": outcome.status,
        "succeeded": outcome.succeeded,
        "response": None,
        "polls": outcome.polls,
        "elapsed": outcome.elapsed,
    }
    if outcome.result is not None:
        data.update(outcome.result.to_dict())
    data["outcome"] = outcome.outcome
    data["reason"] = outcome.reason
    return data


def json_line(outcome: Outcome) -> str:
    return json.dumps(as_dict(outcome), sort_keys=True)


def text_line(outcome: Outcome) -> str:
    """``jr_1: SUCCEEDED after 3 polls (12.0s)``, ``jr_2: FAILED (FAILED): out of memory``."""
    result = outcome.result
    if outcome.outcome == "succeeded" and result is not None:
        return (
            f"{outcome.job_id}: {outcome.status} after {result.polls} polls ({result.elapsed:.1f}s)"
        )
    if outcome.outcome == "failed":
        return (
            f"{outcome.job_id}: FAILED ({outcome.status or '?'}): "
            f"{outcome.reason or 'no reason given'}"
        )
    if outcome.outcome == "timed_out":
        line = f"{outcome.job_id}: TIMED OUT, last status {outcome.status or 'never described'}"
        if outcome.last_error:
            line += f"; the last poll failed: {outcome.last_error}"
        return line
    return f"{outcome.job_id}: ERROR: {outcome.reason}"


def summary(outcomes: Sequence[Outcome], elapsed: float, calls: int) -> str:
    """``2 succeeded, 1 failed, 0 timed out, 0 errors in 12.3s with 9 API calls``."""
    counts = {
        name: sum(1 for o in outcomes if o.outcome == name)
        for name in ("succeeded", "failed", "timed_out", "error")
    }
    return (
        f"{counts['succeeded']} succeeded, {counts['failed']} failed, "
        f"{counts['timed_out']} timed out, {counts['error']} errors "
        f"in {elapsed:.1f}s with {calls} API calls"
    )


def exit_code(outcomes: Sequence[Outcome]) -> int:
    return OK if all(o.succeeded for o in outcomes) else FAILED

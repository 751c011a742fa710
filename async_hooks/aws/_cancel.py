"""How a job kind is stopped: the operation and its parameters, declared beside the kind.

``AsyncAwsHook.cancel_job`` (an Airflow trigger's ``on_kill``) reads a kind's ``CancelSpec``;
some APIs answer 200 and refuse inside the answer (Glue's ``BatchStopJobRun`` lists ``Errors``,
EMR's ``CancelSteps`` a ``FAILED`` status): ``refusal`` reads that, so a refused stop is an
error, not a silent success.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CANCEL_REASON", "CancelSpec", "emr_refusal", "glue_refusal"]

#: The reason given where the API requires one (Batch's ``TerminateJob``).
CANCEL_REASON = "cancelled by async_hooks"


@dataclass(frozen=True)
class CancelSpec:
    """The operation that stops a job of a kind (snake_case), and how its parameters are built.

    ``id_param`` takes the job id (a one-item list when ``id_is_list``); ``identifiers`` maps
    the kind's keyword arguments to this operation's parameter names (``None``: the kind's own
    mapping), those in ``list_identifiers`` sent as one-item lists (SSM's ``InstanceIds``);
    ``fixed`` is sent as is; ``token_param`` gets a fresh idempotency token (SageMaker
    pipelines' ``ClientRequestToken``). ``refusal(answer)`` returns the reason a 200 answer
    refused the stop, or None.
    """

    operation: str
    id_param: str
    id_is_list: bool = False
    identifiers: Mapping[str, str] | None = None
    list_identifiers: frozenset[str] = frozenset()
    fixed: Mapping[str, Any] = field(default_factory=dict)
    token_param: str | None = None
    refusal: Callable[[dict[str, Any]], tuple[str, str] | None] | None = None

    def params(
        self, job_id: str, identifiers: Mapping[str, Any], kind_identifiers: Mapping[str, str]
    ) -> dict[str, Any]:
        """The stop call's parameters (``identifiers`` already checked against the kind)."""
        params: dict[str, Any] = dict(self.fixed)
        params[self.id_param] = [job_id] if self.id_is_list else job_id
        names = kind_identifiers if self.identifiers is None else self.identifiers
        for keyword, api_name in names.items():
            value = identifiers[keyword]
            params[api_name] = [value] if keyword in self.list_identifiers else value
        if self.token_param is not None:
            params[self.token_param] = str(uuid.uuid4())
        return params


def glue_refusal(answer: dict[str, Any]) -> tuple[str, str] | None:
    """``BatchStopJobRun``'s ``Errors``: (code, message) of the first, or None."""
    for error in answer.get("Errors") or []:
        detail = error.get("ErrorDetail") or {}
        return str(detail.get("ErrorCode") or "StopRefused"), str(detail.get("ErrorMessage") or "")
    return None


def emr_refusal(answer: dict[str, Any]) -> tuple[str, str] | None:
    """``CancelSteps``' ``CancelStepsInfoList`` entry with status ``FAILED``, or None."""
    for info in answer.get("CancelStepsInfoList") or []:
        if info.get("Status") == "FAILED":
            return "CancelStepsFailed", str(info.get("Reason") or "")
    return None

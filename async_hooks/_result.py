"""``JobResult``: how a wait ended. A leaf: the errors module and the waiting engine share it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from async_hooks._jsonable import json_safe

__all__ = ["JobResult", "OnStatus"]


@dataclass(frozen=True, slots=True)
class JobResult:
    """How a wait ended (or, given to ``on_status``, how it stands): the provider's status and
    the last describe payload."""

    kind: str
    job_id: str
    status: str
    succeeded: bool
    response: Any
    polls: int
    elapsed: float

    def to_dict(self, mask: Callable[[str], str] | None = None) -> dict[str, Any]:
        """This result as JSON values (``json.dumps`` takes it as is): the payload's datetimes as
        ISO 8601 strings, bytes as base64, decimals as strings; ``mask`` (a redactor) is applied
        to every string value of the payload (keys are the API's field names), for a log or a
        store that must not see a secret a provider echoed."""
        return {
            "kind": self.kind,
            "job_id": self.job_id,
            "status": self.status,
            "succeeded": self.succeeded,
            "polls": self.polls,
            "elapsed": self.elapsed,
            "response": json_safe(self.response, mask),
        }


#: ``wait_for_job(..., on_status=...)``: called with the ``JobResult`` so far at each status
#: change; an awaitable it returns is awaited.
OnStatus = Callable[[JobResult], object]

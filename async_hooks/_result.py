"""``JobResult``: how a wait ended. A leaf: the errors module and the waiting engine share it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import FrozenInstanceError
from typing import Any

from async_hooks._jsonable import json_safe

__all__ = ["JobResult", "Later", "OnStatus"]

_FIELDS = ("kind", "job_id", "status", "succeeded", "response", "polls", "elapsed")


class Later:
    """A payload not built yet: ``build(data)`` makes it when ``JobResult.response`` is first
    read. A job that ended is judged from what its verdict reads; most results (a trigger's
    event, a sensor without ``include_response``) never read the rest, so botocore never
    builds it. Holds the item's own bytes, not the answer they came in."""

    __slots__ = ("build", "data")

    def __init__(self, build: Callable[[bytes], Any], data: bytes) -> None:
        self.build = build
        self.data = data

    def __repr__(self) -> str:
        return f"<Later {len(self.data)} bytes>"


class JobResult:
    """How a wait ended (or, given to ``on_status``, how it stands): the provider's status and
    the last describe payload (``response``, built on first read where the status path read
    only what the verdict needs; equal to what the client would have returned)."""

    __slots__ = ("_response", "elapsed", "job_id", "kind", "polls", "status", "succeeded")
    __match_args__ = ("kind", "job_id", "status", "succeeded", "response", "polls", "elapsed")

    kind: str
    job_id: str
    status: str
    succeeded: bool
    polls: int
    elapsed: float
    _response: Any

    def __init__(
        self,
        kind: str,
        job_id: str,
        status: str,
        succeeded: bool,
        response: Any,
        polls: int,
        elapsed: float,
    ) -> None:
        put = object.__setattr__
        put(self, "kind", kind)
        put(self, "job_id", job_id)
        put(self, "status", status)
        put(self, "succeeded", succeeded)
        put(self, "_response", response)
        put(self, "polls", polls)
        put(self, "elapsed", elapsed)

    @property
    def response(self) -> Any:
        response = self._response
        if type(response) is Later:
            response = response.build(response.data)
            object.__setattr__(self, "_response", response)
        return response

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, JobResult)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELDS)
        return f"JobResult({shown})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (JobResult, self._values())

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

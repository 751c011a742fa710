"""``JobResult``: how a wait ended. A leaf: the errors module and the waiting engine share it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["JobResult"]


@dataclass(frozen=True, slots=True)
class JobResult:
    """How a wait ended: the provider's terminal status and the last describe payload."""

    kind: str
    job_id: str
    status: str
    succeeded: bool
    response: Any
    polls: int
    elapsed: float

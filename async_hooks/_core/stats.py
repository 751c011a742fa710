"""Counters kept by the pipeline, per hook and per (provider, service, operation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["HookStats", "OperationStats"]


@dataclass(slots=True)
class OperationStats:
    """What one (provider, service, operation) has cost: counts and latency of attempts."""

    calls: int = 0
    attempts: int = 0
    retries: int = 0
    throttled: int = 0
    errors: int = 0
    latency_total: float = 0.0
    latency_max: float = 0.0

    def snapshot(self) -> dict[str, Any]:
        mean = self.latency_total / self.attempts if self.attempts else 0.0
        return {
            "calls": self.calls,
            "attempts": self.attempts,
            "retries": self.retries,
            "throttled": self.throttled,
            "errors": self.errors,
            "latency_mean": mean,
            "latency_max": self.latency_max,
        }


class HookStats:
    """A hook's counters. Updated only on event-loop threads; ``snapshot`` copies them."""

    __slots__ = ("_ops", "clients_created")

    def __init__(self) -> None:
        self._ops: dict[tuple[str, str], OperationStats] = {}
        self.clients_created = 0

    def op(self, service: str, operation: str) -> OperationStats:
        key = (service, operation)
        stats = self._ops.get(key)
        if stats is None:
            stats = self._ops[key] = OperationStats()
        return stats

    def retried(self, service: str, operation: str) -> None:
        self.op(service, operation).retries += 1

    def snapshot(self, provider: str) -> dict[str, Any]:
        ops = list(self._ops.items())
        totals = {
            name: sum(getattr(s, name) for _, s in ops)
            for name in ("calls", "attempts", "retries", "throttled", "errors")
        }
        return {
            **totals,
            "clients_created": self.clients_created,
            "operations": {
                f"{provider}:{service}:{operation}": s.snapshot() for (service, operation), s in ops
            },
        }

"""Counters kept by the pipeline, per hook and per (provider, service, operation).

Each operation's counters also hold its OpenTelemetry instruments (``metrics.py``), None when
metrics are off: the pipeline records both at the same points."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from async_hooks._core.metrics import OperationMetrics, operation_metrics

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
    #: The operation's OpenTelemetry instruments, or None when metrics are off.
    otel: OperationMetrics | None = field(default=None, repr=False, compare=False)

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

    __slots__ = ("_ops", "clients_created", "provider")

    def __init__(self, provider: str = "") -> None:
        self._ops: dict[tuple[str, str], OperationStats] = {}
        self.clients_created = 0
        self.provider = provider

    def op(self, service: str, operation: str) -> OperationStats:
        key = (service, operation)
        stats = self._ops.get(key)
        if stats is None:
            otel = operation_metrics(self.provider, service, operation)
            stats = self._ops[key] = OperationStats(otel=otel)
        return stats

    def retried(self, service: str, operation: str) -> None:
        stats = self.op(service, operation)
        stats.retries += 1
        if stats.otel is not None:
            stats.otel.retry()

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

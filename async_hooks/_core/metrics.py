"""OpenTelemetry metrics, through the API only: recorded where the pipeline counts its stats.

``opentelemetry-api`` (the ``[otel]`` extra) is looked for on the first call or wait, never at
``import async_hooks``; without it nothing is imported and every recording point is one ``is
None`` check. With it, the instruments come from the global meter provider, which is the API's
no-op proxy until the application sets a real one (``metrics.set_meter_provider``): then they
record into it, even if they were made before.

Instruments (attributes ``provider``, ``service``, ``operation``; waits: ``provider``, ``kind``):

- ``async_hooks.calls``: calls through the pipeline (one per ``hook.call``, however many tries);
- ``async_hooks.retries``: retries (attempts after the first);
- ``async_hooks.throttled``: throttled answers (each also slows the scope's throttle);
- ``async_hooks.errors``: calls that failed after their retries;
- ``async_hooks.call.duration``: seconds per request sent (one sample per attempt);
- ``async_hooks.waits.active``: waits in progress (up-down counter).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable
from typing import Any, TypeVar

__all__ = [
    "Instruments",
    "OperationMetrics",
    "WaitMetrics",
    "counted",
    "instruments",
    "operation_metrics",
    "wait_metrics",
]

R = TypeVar("R")

METER_NAME = "async_hooks"


class Instruments:
    """The six instruments, made once per process from the global meter provider."""

    __slots__ = ("calls", "duration", "errors", "retries", "throttled", "waits")

    def __init__(self, meter: Any) -> None:
        self.calls: Any = meter.create_counter(
            "async_hooks.calls", unit="{call}", description="Calls through the pipeline"
        )
        self.retries: Any = meter.create_counter(
            "async_hooks.retries", unit="{retry}", description="Retried attempts"
        )
        self.throttled: Any = meter.create_counter(
            "async_hooks.throttled", unit="{answer}", description="Throttled answers"
        )
        self.errors: Any = meter.create_counter(
            "async_hooks.errors", unit="{call}", description="Calls that failed after retries"
        )
        self.duration: Any = _histogram(meter)
        self.waits: Any = meter.create_up_down_counter(
            "async_hooks.waits.active", unit="{wait}", description="Waits in progress"
        )


#: Seconds, as OpenTelemetry's semantic conventions bucket HTTP request durations (the SDK's
#: default buckets are for milliseconds: every request would fall in the first).
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


def _histogram(meter: Any) -> Any:
    name, description = "async_hooks.call.duration", "Seconds per request sent"
    try:
        return meter.create_histogram(
            name, unit="s", description=description,
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )  # fmt: skip
    except TypeError:  # opentelemetry-api < 1.23 takes no advice
        return meter.create_histogram(name, unit="s", description=description)


_loaded = False
_instruments: Instruments | None = None


def instruments() -> Instruments | None:
    """The instruments, or None without ``opentelemetry-api``; looked for once per process."""
    global _loaded, _instruments
    if not _loaded:
        _loaded = True
        try:
            from opentelemetry import metrics
        except ImportError:
            return None
        _instruments = Instruments(metrics.get_meter(METER_NAME, _version()))
    return _instruments


def _version() -> str:
    """The package's version (the meter's), from its root module, which is imported before any
    of its parts runs. Not ``importlib.metadata``: that scans every installed distribution, 0.3 s
    on a triggerer's loop busy starting thousands of triggers (py-spy, 2,000 sensors)."""
    root = sys.modules.get("async_hooks")
    return str(getattr(root, "__version__", "0"))


def reset() -> None:
    """Forget the instruments (tests: the next call looks for the package again)."""
    global _loaded, _instruments
    _loaded, _instruments = False, None


class OperationMetrics:
    """The instruments bound to one (provider, service, operation): what ``OperationStats``
    holds, so that each recording point costs one attribute lookup when metrics are on."""

    __slots__ = ("attributes", "instruments")

    def __init__(self, instruments: Instruments, provider: str, service: str, operation: str):
        self.instruments = instruments
        self.attributes = {"provider": provider, "service": service, "operation": operation}

    def call(self) -> None:
        self.instruments.calls.add(1, self.attributes)

    def retry(self) -> None:
        self.instruments.retries.add(1, self.attributes)

    def throttled(self) -> None:
        self.instruments.throttled.add(1, self.attributes)

    def error(self) -> None:
        self.instruments.errors.add(1, self.attributes)

    def duration(self, seconds: float) -> None:
        self.instruments.duration.record(seconds, self.attributes)


def operation_metrics(provider: str, service: str, operation: str) -> OperationMetrics | None:
    """Bound instruments for one operation, or None when metrics are off."""
    found = instruments()
    if found is None:
        return None
    return OperationMetrics(found, provider, service, operation)


class WaitMetrics:
    """``async_hooks.waits.active`` for one wait: ``start`` when it begins, ``end`` once."""

    __slots__ = ("attributes", "counter")

    def __init__(self, counter: Any, provider: str, kind: str) -> None:
        self.counter = counter
        self.attributes = {"provider": provider, "kind": kind}

    def start(self) -> None:
        self.counter.add(1, self.attributes)

    def end(self) -> None:
        self.counter.add(-1, self.attributes)


def wait_metrics(provider: str, kind: str) -> WaitMetrics | None:
    """The active-waits counter for a wait of ``kind``, or None when metrics are off or nothing
    would record them: until the application sets a meter provider, the API's instruments
    record nothing, and a wait is not wrapped to count itself (a coroutine frame, an object and
    a dict for each of thousands of sleeping waits, in every Airflow process: Airflow installs
    the API). A wait started before a provider is set is not counted, nor its end."""
    found = instruments()
    if found is None or not _provider_set():
        return None
    return WaitMetrics(found.waits, provider, kind)


#: The API's meter providers that record nothing: its proxy (no provider set yet) and no-op.
_SILENT_PROVIDERS = frozenset({"_ProxyMeterProvider", "NoOpMeterProvider"})


def _provider_set() -> bool:
    from opentelemetry import metrics

    return type(metrics.get_meter_provider()).__name__ not in _SILENT_PROVIDERS


async def counted(wait: Awaitable[R], gauge: WaitMetrics) -> R:
    """Await ``wait``, counted in ``async_hooks.waits.active`` while it runs."""
    gauge.start()
    try:
        return await wait
    finally:
        gauge.end()

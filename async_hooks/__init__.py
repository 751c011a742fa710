"""async_hooks: cheap async waits on cloud jobs, with sync facades for synchronous code.

Every hook sends its calls through one pipeline (throttle, retry, cached client, error mapping,
stats); ``wait_for_job`` polls through it; ``hook.sync`` and ``run_sync`` run coroutines on one
shared background loop. Provider hooks load lazily (``async_hooks._providers`` lists them):
importing this package imports no SDK (not aiohttp, not botocore); a provider's module loads
when one of its names is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from async_hooks._core.hook import AsyncBaseHook
from async_hooks._core.policy import RetryPolicy
from async_hooks._providers import export_of
from async_hooks._result import JobResult
from async_hooks._sync.delay import delay
from async_hooks._sync.executor import AsyncExecutor
from async_hooks._sync.run import run_sync
from async_hooks.connections import Connection
from async_hooks.errors import (
    HookClosedError,
    HookConfigError,
    HookError,
    JobError,
    JobFailedError,
    JobTimeoutError,
    NotFoundError,
    PermissionDeniedError,
    ServiceError,
    SyncInAsyncError,
    ThrottledError,
    TransientError,
)

if TYPE_CHECKING:
    from async_hooks.aws import AsyncAwsHook
    from async_hooks.gcp import AsyncGcpHook
    from async_hooks.http import AsyncHttpHook, HttpError, HttpResponse

__version__ = "0.1.0"

__all__ = [
    "AsyncAwsHook",
    "AsyncBaseHook",
    "AsyncExecutor",
    "AsyncGcpHook",
    "AsyncHttpHook",
    "Connection",
    "HookClosedError",
    "HookConfigError",
    "HookError",
    "HttpError",
    "HttpResponse",
    "JobError",
    "JobFailedError",
    "JobResult",
    "JobTimeoutError",
    "NotFoundError",
    "PermissionDeniedError",
    "RetryPolicy",
    "ServiceError",
    "SyncInAsyncError",
    "ThrottledError",
    "TransientError",
    "delay",
    "run_sync",
]


def __getattr__(name: str) -> Any:
    """Import a provider's module (and its SDK) only when one of its names is first used."""
    row = export_of(name)
    if row is None:
        raise AttributeError(f"module 'async_hooks' has no attribute {name!r}")
    value = getattr(row.load(), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

"""async_hooks: cheap async waits on cloud jobs, with sync facades for synchronous code.

Every hook sends its calls through one pipeline (throttle, retry, cached client, error mapping,
stats); ``wait_for_job`` polls through it; ``hook.sync`` and ``run_sync`` run coroutines on one
shared background loop. Names load lazily: importing this package imports no SDK (not aiohttp,
not botocore), nor asyncio, tenacity, anyio or aiolimiter; a provider's module loads when one of
its names is first used (``async_hooks._providers`` lists them), the pipeline when a core name
is, and the retry and throttle libraries when a call first needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
    from async_hooks._core.hook import AsyncBaseHook
    from async_hooks._core.policy import RetryPolicy
    from async_hooks._result import JobResult, OnStatus
    from async_hooks._sync.delay import delay
    from async_hooks._sync.executor import AsyncExecutor
    from async_hooks._sync.run import run_sync
    from async_hooks.aws import AsyncAwsHook
    from async_hooks.connections import Connection
    from async_hooks.gcp import AsyncGcpHook
    from async_hooks.http import AsyncHttpHook, HttpError, HttpResponse

#: The core's public names and the module each lives in, imported on first use like the
#: providers' (``_providers``): the pipeline pulls in asyncio, and asyncio alone costs more
#: than the whole budget of ``import async_hooks``.
_CORE_EXPORTS = {
    "AsyncBaseHook": "async_hooks._core.hook",
    "AsyncExecutor": "async_hooks._sync.executor",
    "Connection": "async_hooks.connections",
    "JobResult": "async_hooks._result",
    "OnStatus": "async_hooks._result",
    "RetryPolicy": "async_hooks._core.policy",
    "delay": "async_hooks._sync.delay",
    "run_sync": "async_hooks._sync.run",
}

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
    "OnStatus",
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
    """Import a name's module only when it is first used: a provider's (and its SDK) through
    the provider registry, the core's (and asyncio) from ``_CORE_EXPORTS``."""
    module = _CORE_EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
    else:
        from async_hooks._providers import export_of

        row = export_of(name)
        if row is None:
            raise AttributeError(f"module 'async_hooks' has no attribute {name!r}")
        value = getattr(row.load(), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

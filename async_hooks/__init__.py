"""async_hooks: cheap async waits on cloud jobs, with sync facades for synchronous code.

Every hook sends its calls through one pipeline (throttle, retry, cached client, error mapping,
stats); ``wait_for_job`` polls through it; ``hook.sync`` and ``run_sync`` run coroutines on one
shared background loop. Provider hooks load lazily: importing this package imports neither
botocore nor gcloud.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from async_hooks._core.errors import (
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
from async_hooks._core.hook import AsyncBaseHook
from async_hooks._core.policy import RetryPolicy
from async_hooks._core.waiting import JobResult
from async_hooks._sync.delay import delay
from async_hooks._sync.executor import AsyncExecutor
from async_hooks._sync.run import run_sync
from async_hooks.connections import Connection
from async_hooks.http import AsyncHttpHook, HttpError, HttpResponse

if TYPE_CHECKING:
    from async_hooks.aws import AsyncAwsHook
    from async_hooks.gcp import AsyncGcpHook

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

#: Provider hooks whose SDKs are optional extras, imported on first use.
_LAZY: dict[str, str] = {"AsyncAwsHook": "async_hooks.aws", "AsyncGcpHook": "async_hooks.gcp"}


def __getattr__(name: str) -> Any:
    """Import a provider's hook (and its SDK) only when it is first used."""
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'async_hooks' has no attribute {name!r}")
    import importlib

    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        extra = module_name.rsplit(".", 1)[1]
        raise ImportError(
            f"{name} needs the '{extra}' extra: pip install 'async-hooks[{extra}]'"
            f" ({error.name} is missing)"
        ) from error
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

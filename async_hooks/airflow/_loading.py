"""How a trigger gets its provider's module without blocking the triggerer's loop, and the checks
that need the hook class once it is there.

The triggerer rebuilds every trigger from its stored row on the one loop all triggers share, and
a provider's module (aiobotocore and botocore take a quarter of a second and more) must not be
imported there: it is imported in a worker thread, once per process, when the first trigger of
that provider runs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import functools
import inspect
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

from async_hooks._core.hook import AsyncBaseHook
from async_hooks._core.values import is_finite_number
from async_hooks._providers import Provider
from async_hooks.airflow._settings import plain
from async_hooks.errors import HookConfigError, HookError

__all__ = [
    "check_wait_arguments",
    "epoch_seconds",
    "import_off_the_loop",
    "imported",
    "is_plain",
    "running_loop",
    "timing_as_numbers",
    "wait_defaults",
]

#: A provider's module being imported off the loop, by provider name (one import per process).
_imports: dict[str, concurrent.futures.Future[Any]] = {}
_imports_lock = threading.Lock()


def running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def imported(row: Provider) -> bool:
    """Whether ``row``'s module is imported (a module still being imported lacks its hook)."""
    return getattr(sys.modules.get(row.module), row.hook, None) is not None


def is_plain(hook_kwargs: object) -> bool:
    """Whether ``hook_kwargs`` are already what ``encode_hook_kwargs`` would make of them (JSON
    values, as a trigger's stored row holds), so that checking them can wait."""
    if not isinstance(hook_kwargs, Mapping):
        return hook_kwargs is None
    try:
        return bool(plain(dict(hook_kwargs), "hook_kwargs") == hook_kwargs)
    except HookError:
        return False


async def import_off_the_loop(row: Provider) -> None:
    """Import ``row``'s module in a thread of its own, once per process however many triggers
    (on however many loops) ask at once; a failed import is tried again by the next caller."""
    if imported(row):
        return
    with _imports_lock:
        future = _imports.get(row.name)
        if future is None:
            future = _imports[row.name] = concurrent.futures.Future()
            # Running from now on: a waiter's cancellation cannot cancel it for the others.
            future.set_running_or_notify_cancel()
            threading.Thread(
                target=_import, args=(row, future), name="async_hooks-import", daemon=True
            ).start()
    await asyncio.wrap_future(future)


def _import(row: Provider, future: concurrent.futures.Future[Any]) -> None:
    try:
        module = row.load()
    except BaseException as error:
        with _imports_lock:
            if _imports.get(row.name) is future:
                del _imports[row.name]
        future.set_exception(error)
    else:
        future.set_result(module)


def epoch_seconds(value: object) -> float:
    """``started_at`` as epoch seconds: a number, an aware datetime or an ISO 8601 string
    (without an offset, UTC, as Airflow's own times are); ``None`` is now."""
    if value is None:
        return time.time()
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise HookConfigError(f"started_at {value!r} is not an ISO 8601 time") from None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.timestamp()
    if not is_finite_number(value):
        raise HookConfigError("started_at must be epoch seconds, a datetime or an ISO 8601 time")
    return float(value)


def check_wait_arguments(
    cls: type[AsyncBaseHook], provider: str, method: str, args: list[Any], kwargs: dict[str, Any]
) -> None:
    """Arguments the wait cannot take fail here, in the worker, not in the triggerer."""
    try:
        wait_signature(cls, method).bind(None, *args, **kwargs)
    except TypeError as error:
        raise HookConfigError(
            f"wait_args/wait_kwargs for the {provider} hook's {method}: {error}"
        ) from None


@functools.cache
def wait_signature(cls: type[AsyncBaseHook], method: str) -> inspect.Signature:
    function = getattr(cls, method, None)
    if not callable(function):
        raise HookConfigError(f"{cls.__name__} has no wait {method!r}")
    return inspect.signature(function)


@functools.cache
def wait_defaults(cls: type[AsyncBaseHook], method: str) -> dict[str, Any]:
    """The defaults of the wait's timing keywords (a resumed wait needs them)."""
    parameters = wait_signature(cls, method).parameters
    return {
        name: parameter.default
        for name, parameter in parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }


#: The wait's keywords that are seconds or factors: a templated one renders to a string.
_TIMING = ("poll_interval", "timeout", "backoff", "max_poll_interval", "jitter")


def timing_as_numbers(wait_kwargs: dict[str, Any]) -> dict[str, Any]:
    """``wait_kwargs`` with rendered timing values as numbers (``"3600"`` -> 3600.0); anything
    else that is not a number is refused, naming the keyword."""
    converted = dict(wait_kwargs)
    for key in _TIMING:
        value = converted.get(key)
        if isinstance(value, str):
            try:
                converted[key] = float(value)
            except ValueError:
                raise HookConfigError(f"wait_kwargs[{key!r}] is {value!r}, not seconds") from None
    return converted

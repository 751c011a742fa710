"""``run_sync``: run a coroutine on the shared loop and block the calling thread for its result."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar, overload

from async_hooks._sync.loop_thread import shared_loop
from async_hooks.errors import SyncInAsyncError

__all__ = ["run_sync"]

T = TypeVar("T")


def _refuse_inside_loop(what: str, instead: str, pending: object) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    if inspect.iscoroutine(pending):
        pending.close()  # never awaited: close it so no "never awaited" warning follows
    raise SyncInAsyncError(
        f"{what} blocks, and this thread runs an event loop it would block: {instead}"
    )


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


@overload
def run_sync(fn: Callable[..., Awaitable[T]], /, *args: Any, **kwargs: Any) -> T: ...
@overload
def run_sync(fn: Awaitable[T], /) -> T: ...
def run_sync(fn: Any, /, *args: Any, **kwargs: Any) -> Any:
    """Run an awaitable, or an async function with its arguments, on the shared loop thread.

    Blocks until it finishes and returns its result or raises its exception. The caller's
    contextvars are visible to the coroutine. Interrupting the wait (``KeyboardInterrupt``)
    cancels the coroutine. Raises :class:`SyncInAsyncError` from a thread that runs a loop.
    """
    name = getattr(fn, "__qualname__", None) or type(fn).__name__
    if callable(fn) and not inspect.isawaitable(fn):
        _refuse_inside_loop(f"run_sync({name})", f"await {name}(...) instead", None)
        awaitable = fn(*args, **kwargs)
    else:
        if args or kwargs:
            raise TypeError("run_sync() takes arguments only with an async function")
        awaitable = fn
        _refuse_inside_loop(f"run_sync({name})", "await it instead", awaitable)
    return wait_on_shared_loop(awaitable)


def wait_on_shared_loop(awaitable: Awaitable[T]) -> T:
    coro: Coroutine[Any, Any, T] = (
        awaitable if inspect.iscoroutine(awaitable) else _await(awaitable)
    )
    future = shared_loop().submit(coro)
    try:
        return future.result()
    except BaseException:
        future.cancel()
        raise

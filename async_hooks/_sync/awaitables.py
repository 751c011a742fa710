"""Methods that return their awaitable without being coroutine functions, marked as async.

``AsyncAwsHook.wait_for_job`` returns its wait itself (a ``Coroutine``): a coroutine function's
frame would be held, with all its arguments, by each of thousands of sleeping waits. Code that
asks whether a callable is async (``AsyncExecutor.submit``, ``inspect.iscoroutinefunction`` on
Python 3.12 and later) must still see it as one.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["awaitable_method", "is_async_callable"]

F = TypeVar("F", bound=Callable[..., Any])

_MARK = "_async_hooks_awaitable"


def awaitable_method(fn: F) -> F:
    """Mark ``fn``, a plain function that returns a coroutine, as a coroutine function."""
    setattr(fn, _MARK, True)
    mark = getattr(inspect, "markcoroutinefunction", None)  # Python 3.12+
    if mark is not None:
        mark(fn)
    return fn


def is_async_callable(fn: Callable[..., Any]) -> bool:
    """Whether calling ``fn`` gives a coroutine to await: a coroutine function (a bound method,
    a ``functools.partial`` of one, an object with an async ``__call__``) or a marked one."""
    target: Any = fn
    while hasattr(target, "func"):  # functools.partial
        target = target.func
    if getattr(target, _MARK, False):
        return True
    return inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
        getattr(target, "__call__", None)  # noqa: B004 - async callable objects
    )

"""Blocking twins of a hook's coroutine methods, declared one line per method.

``request = blocking(AsyncHttpHook.request)`` on a facade class makes ``hook.sync.request(...)``
run ``hook.request(...)`` on the shared loop thread and return its result, with the same
signature for type checkers. ``tests/test_sync_parity.py`` asserts every public coroutine method
of every hook has its twin.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from async_hooks._sync.run import _refuse_inside_loop, wait_on_shared_loop

__all__ = ["SyncFacade", "blocking"]

P = ParamSpec("P")
T = TypeVar("T")
H = TypeVar("H")


class SyncFacade(Generic[H]):
    """``hook.sync``: the hook's coroutine methods as blocking calls on the shared loop."""

    __slots__ = ("_hook",)

    def __init__(self, hook: H) -> None:
        self._hook = hook

    def __repr__(self) -> str:
        return f"<sync facade of {self._hook!r}>"


class blocking(Generic[P, T]):
    """Descriptor: the blocking twin of one coroutine method, looked up by name on the hook."""

    __slots__ = ("method", "name")

    def __init__(self, method: Callable[Concatenate[Any, P], Awaitable[T]]) -> None:
        self.method: Callable[Concatenate[Any, P], Awaitable[T]] = method
        self.name: str = method.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        if name != self.name:
            raise TypeError(f"blocking twin {name!r} must carry the method's name {self.name!r}")

    @overload
    def __get__(self, facade: None, owner: type) -> blocking[P, T]: ...
    @overload
    def __get__(self, facade: SyncFacade[Any], owner: type) -> Callable[P, T]: ...
    def __get__(self, facade: SyncFacade[Any] | None, owner: type) -> Any:
        if facade is None:
            return self
        hook = facade._hook
        name = self.name
        label = f"{type(hook).__name__}.sync.{name}()"

        def call(*args: P.args, **kwargs: P.kwargs) -> T:
            _refuse_inside_loop(label, f"await hook.{name}(...) instead", None)
            result: T = wait_on_shared_loop(getattr(hook, name)(*args, **kwargs))
            return result

        call.__name__ = name
        call.__doc__ = self.method.__doc__
        return call

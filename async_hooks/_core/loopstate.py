"""Per-event-loop state: the client cache, the throttles and a memo of shared things (AWS
sessions, the coalescers' shared schedules...), closed when the loop shuts down."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable
from typing import Any, TypeVar

from async_hooks._core.cache import ClientCache
from async_hooks._core.throttle import AdaptiveThrottle

__all__ = ["LoopState", "current_state"]

logger = logging.getLogger("async_hooks")

T = TypeVar("T")


class LoopState:
    """What async_hooks keeps for one event loop.

    A sentinel async generator registered with the loop makes ``loop.shutdown_asyncgens()``
    (which ``asyncio.run`` and ``asyncio.Runner`` call) close every cached client on the loop
    that owns it, even for hooks nobody closed.
    """

    __slots__ = ("__weakref__", "_memo", "_sentinel", "_users", "clients", "throttles")

    def __init__(self) -> None:
        self.clients = ClientCache()
        self.throttles: dict[Hashable, AdaptiveThrottle] = {}
        self._memo: dict[Hashable, asyncio.Future[Any]] = {}
        #: The users (hooks) of memo entries built for them; an entry none uses any more goes.
        self._users: dict[Hashable, set[object]] = {}
        self._sentinel: AsyncGenerator[None, None] | None = None

    async def shared(
        self, key: Hashable, build: Callable[[], Awaitable[T]], *, user: object = None
    ) -> T:
        """The loop's one value for ``key``, built by ``build()`` on first use.

        Single-flight: however many callers ask at once, one build runs, in a task of its own
        that every caller awaits shielded, so one caller's cancellation fails nobody else. A
        failed build is not remembered (the next caller builds again). A value asked for by a
        ``user`` (a hook) goes when the last of its users is ``release``d (an AWS session per
        credential identity: rotated credentials must not pile up); the others stay until the
        loop shuts down. Each value that has an ``aclose`` is closed when it goes.
        """
        if user is not None:
            self._users.setdefault(key, set()).add(user)
        built = self._memo.get(key)
        if built is None:
            built = asyncio.ensure_future(build())
            self._memo[key] = built
            built.add_done_callback(functools.partial(self._forget_failure, key))
        elif built.done() and not built.cancelled() and built.exception() is None:
            value: T = built.result()
            return value
        return await asyncio.shield(built)

    def memo(self, key: Hashable, build: Callable[[], T]) -> T:
        """``shared`` for a value built at once, without I/O (a coalescer): no task, no
        future to await, so 100,000 waits starting in one loop iteration cost nothing more
        than a dict look-up each. Closed at shutdown like every shared value."""
        built = self._memo.get(key)
        if built is None:
            value = build()
            built = self._memo[key] = asyncio.get_running_loop().create_future()
            built.set_result(value)
            return value
        if not built.done():
            raise RuntimeError(f"shared value {key!r} is being built asynchronously")
        result: T = built.result()
        return result

    async def release(self, user: object) -> None:
        """Drop ``user`` from the memo entries it asked for; close and forget those nobody
        uses any more."""
        orphans = []
        for key, users in list(self._users.items()):
            users.discard(user)
            if users:
                continue
            del self._users[key]
            built = self._memo.pop(key, None)
            if built is not None:
                orphans.append(built)
        await _close_values(orphans)

    def _forget_failure(self, key: Hashable, built: asyncio.Future[Any]) -> None:
        if (built.cancelled() or built.exception() is not None) and self._memo.get(key) is built:
            del self._memo[key]

    def throttle(self, key: Hashable, build: Callable[[], AdaptiveThrottle]) -> AdaptiveThrottle:
        throttle = self.throttles.get(key)
        if throttle is None:
            throttle = self.throttles[key] = build()
        return throttle

    def arm(self) -> None:
        """Start the sentinel on the running loop (must be called from inside it)."""
        sentinel = self._close_at_shutdown()
        step = sentinel.asend(None)
        try:
            step.send(None)
        except StopIteration:
            self._sentinel = sentinel

    async def _close_at_shutdown(self) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            # The generator holds the loop's finalizer (a bound method of the loop): let go of
            # it, or this state (a value of a WeakKeyDictionary keyed by the loop) keeps the
            # loop alive forever.
            self._sentinel = None
            await self.aclose()

    async def aclose(self) -> None:
        """Close the shared values first (a coalescer's ticks call through clients), then the
        clients."""
        memo = list(self._memo.values())
        self._memo.clear()
        self._users.clear()
        await _close_values(memo)
        await self.clients.close_all()
        self.throttles.clear()


async def _close_values(values: list[asyncio.Future[Any]]) -> None:
    """Cancel the builds still running; ``aclose`` the built values that have one."""
    building = [built for built in values if not built.done()]
    for built in building:
        built.cancel()
    await asyncio.gather(*building, return_exceptions=True)
    for built in values:
        if built.cancelled() or built.exception() is not None:
            continue
        close = getattr(built.result(), "aclose", None)
        if close is None:
            continue
        try:
            await close()
        except Exception:
            logger.warning("closing a shared %r failed", built.result(), exc_info=True)


_states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopState] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()
#: States inherited across os.fork(): their sockets belong to the parent, so the child must
#: neither use nor close (nor garbage-collect) them.
_abandoned: list[object] = []


def current_state() -> LoopState:
    """The running loop's state, created on first use."""
    loop = asyncio.get_running_loop()
    state = _states.get(loop)
    if state is None:
        with _lock:
            state = _states.get(loop)
            if state is None:
                state = _states[loop] = LoopState()
                state.arm()
    return state


def _abandon_after_fork() -> None:
    global _states
    _abandoned.append(_states)
    _states = weakref.WeakKeyDictionary()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_abandon_after_fork)

"""Per-event-loop state: the client cache and the throttles, closed when the loop shuts down."""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import AsyncGenerator, Callable, Hashable

from async_hooks._core.cache import ClientCache
from async_hooks._core.coalesce import Coalescer
from async_hooks._core.throttle import AdaptiveThrottle

__all__ = ["LoopState", "current_state"]


class LoopState:
    """What async_hooks keeps for one event loop.

    A sentinel async generator registered with the loop makes ``loop.shutdown_asyncgens()``
    (which ``asyncio.run`` and ``asyncio.Runner`` call) close every cached client on the loop
    that owns it, even for hooks nobody closed.
    """

    __slots__ = ("__weakref__", "_sentinel", "clients", "coalescers", "throttles")

    def __init__(self) -> None:
        self.clients = ClientCache()
        self.throttles: dict[Hashable, AdaptiveThrottle] = {}
        self.coalescers: dict[Hashable, Coalescer] = {}
        self._sentinel: AsyncGenerator[None, None] | None = None

    def coalescer(self, key: Hashable, build: Callable[[], Coalescer]) -> Coalescer:
        coalescer = self.coalescers.get(key)
        if coalescer is None:
            coalescer = self.coalescers[key] = build()
        return coalescer

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
        coalescers = list(self.coalescers.values())
        self.coalescers.clear()
        for coalescer in coalescers:
            await coalescer.aclose()
        await self.clients.close_all()
        self.throttles.clear()


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

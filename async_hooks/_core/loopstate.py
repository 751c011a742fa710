"""Per-event-loop state: the client cache, the throttles and a memo of shared things (AWS
sessions, the loop's poll schedules...), collected when idle, closed when the loop shuts
down."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import math
import os
import threading
import weakref
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable, Iterable
from typing import Any, TypeVar

from async_hooks._core.cache import ClientCache, Entry, Holders, aclose_value, close_entries
from async_hooks._core.throttle import AdaptiveThrottle

__all__ = ["THROTTLE_IDLE", "LoopState", "current_state"]

T = TypeVar("T")

#: Seconds a throttle stays unused (nothing in flight, nobody queued) before it is forgotten.
THROTTLE_IDLE = 600.0
#: The timer never fires more often than this while throttles are busy (``throttle_idle = 0``).
MIN_SWEEP_INTERVAL = 0.001


class LoopState:
    """What async_hooks keeps for one event loop.

    A sentinel async generator registered with the loop makes ``loop.shutdown_asyncgens()``
    (which ``asyncio.run`` and ``asyncio.Runner`` call) close every cached client on the loop
    that owns it, even for hooks nobody closed.

    A long-lived loop (a triggerer runs for weeks) returns to its baseline: one timer per
    state, armed only while there is something to collect, forgets the throttles idle for
    ``throttle_idle`` seconds and closes the clients and shared values whose last hook let go
    of them longer ago than that hook's ``idle_close_after``.
    """

    __slots__ = (
        "__weakref__",
        "_closing",
        "_due",
        "_held",
        "_memo",
        "_sentinel",
        "_throttle_idle",
        "_throttles_due",
        "_timer",
        "clients",
        "throttles",
    )

    def __init__(self) -> None:
        self.clients = ClientCache(forgotten=self._client_forgotten)
        self.throttles: dict[Hashable, AdaptiveThrottle] = {}
        self._throttle_idle = THROTTLE_IDLE
        self._memo: dict[Hashable, asyncio.Future[Any]] = {}
        #: The users (hooks) of memo entries built for them; an entry none uses any more goes.
        self._held = Holders()
        self._sentinel: AsyncGenerator[None, None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._due = math.inf  # when the timer fires
        self._throttles_due = math.inf  # when the throttles are looked at next
        #: Closings under way, each with what it has still to close.
        self._closing: dict[asyncio.Task[None], deque[Entry]] = {}

    async def shared(
        self, key: Hashable, build: Callable[[], Awaitable[T]], *, user: object = None
    ) -> T:
        """The loop's one value for ``key``, built by ``build()`` on first use.

        Single-flight: however many callers ask at once, one build runs, in a task of its own
        that every caller awaits shielded, so one caller's cancellation fails nobody else. A
        failed build is not remembered (the next caller builds again). A value asked for by a
        ``user`` (a hook) goes when the last of its users is ``release``d (an AWS session per
        credential identity: rotated credentials must not pile up), at once or after lingering;
        asked for by a client's build (the session it is made from), it is held by that client
        too, as long as the client lives, whichever hook reuses it. The others stay until the
        loop shuts down. Each value that has an ``aclose`` is closed when it goes.
        """
        if user is not None:
            self._held.hold(key, user)
            client = self.clients.building()
            if client is not None:
                self._held.hold(key, client)
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
        """``shared`` for a value built at once, without I/O (the poll schedules): no task, no
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

    async def release(self, user: object, *, linger: float = 0.0) -> None:
        """``user`` (a hook) lets go of the clients and shared values it used. Those nobody
        else holds close now or, with ``linger`` seconds, stay that long for the next hook of
        the same identity (a triggerer's sporadic triggers reuse one AWS session, its
        connections and its assumed role) and close after.

        Costs the keys ``user`` held, not every key on the loop. The bookkeeping is done
        before the first ``await``; the closing runs in a task of its own, awaited shielded:
        cancelling the caller (``asyncio.timeout()`` around a ``close()`` while a client is
        still being built) raises ``CancelledError`` at once, and everything still closes.
        """
        deadline = asyncio.get_running_loop().time() + linger if linger > 0 else None
        leaving = deque(self._values(self._held.release(user, deadline)))
        leaving.extend(self._with_their_values(self.clients.detach(user, deadline)))
        if deadline is not None and (self._held.lingering or self.clients.lingering):
            self._wake_at(deadline)
        if leaving:
            await asyncio.shield(self._close_later(leaving))

    def _values(self, keys: Iterable[Hashable]) -> list[Entry]:
        """The memo's values for ``keys``, taken out: a build still running is cancelled
        (nobody will use it), a built value will be ``aclose``d."""
        taken = []
        for key in keys:
            built = self._memo.pop(key, None)
            if built is not None:
                built.cancel()  # a no-op once built
                taken.append(Entry(built, aclose_value))
        return taken

    def _with_their_values(self, clients: list[Entry]) -> list[Entry]:
        """``clients``, then the shared values that only they held (their AWS session)."""
        if not clients:
            return clients
        values = [value for client in clients for value in self._values_of(client)]
        return clients + values

    def _values_of(self, client: Entry) -> list[Entry]:
        return self._values(self._held.release(client, None))

    def _client_forgotten(self, client: Entry) -> None:
        """A client whose build failed: the values it held go (closed now)."""
        values = self._values_of(client)
        if values:
            self._close_later(deque(values))

    def _forget_failure(self, key: Hashable, built: asyncio.Future[Any]) -> None:
        if (built.cancelled() or built.exception() is not None) and self._memo.get(key) is built:
            del self._memo[key]

    @property
    def throttle_idle(self) -> float:
        """Seconds a throttle stays unused before it is forgotten (``THROTTLE_IDLE``)."""
        return self._throttle_idle

    @throttle_idle.setter
    def throttle_idle(self, seconds: float) -> None:
        """Takes effect at once (tests lower it): the throttles are looked at again now,
        which needs the running loop while there are any."""
        self._throttle_idle = seconds
        if self.throttles:
            self._throttles_due = asyncio.get_running_loop().time()
            self._wake_at(self._throttles_due)

    def throttle(self, key: Hashable, build: Callable[[], AdaptiveThrottle]) -> AdaptiveThrottle:
        throttle = self.throttles.get(key)
        if throttle is None:
            throttle = self.throttles[key] = build()
            if self._throttles_due == math.inf:  # the first: look again when it may be idle
                self._throttles_due = throttle.last_used + self._throttle_idle
                self._wake_at(self._throttles_due)
        return throttle

    # ------------------------------------------------------------------ the timer

    def _wake_at(self, when: float) -> None:
        """Have the timer fire at ``when`` at the latest. It runs in a context of its own:
        the task that armed it (an Airflow trigger, with its logging context) must neither be
        kept alive by it nor lend its context variables to the closing of other hooks'."""
        if self._timer is not None:
            if self._due <= when:
                return
            self._timer.cancel()
        self._due = when
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(when, self._sweep, context=contextvars.Context())

    def _sweep(self) -> None:
        """The timer: close what lingered past its deadline, forget the idle throttles, and
        arm again for the next deadline if anything is left to collect."""
        self._timer, self._due = None, math.inf
        now = asyncio.get_running_loop().time()
        leaving = deque(self._values(self._held.expired(now)))
        leaving.extend(self._with_their_values(self.clients.expired(now)))
        if leaving:
            self._close_later(leaving)
        if self.throttles and now >= self._throttles_due:
            self._throttles_due = self._drop_idle_throttles(now)
        due = min(self._held.next_deadline(), self.clients.next_deadline(), self._throttles_due)
        if due < math.inf:
            self._wake_at(due)

    def _drop_idle_throttles(self, now: float) -> float:
        """Forget the throttles idle for ``throttle_idle`` seconds; when to look again (not
        sooner than an eighth of that: each look visits every throttle)."""
        idle_for = self._throttle_idle
        horizon = now - idle_for
        kept: dict[Hashable, AdaptiveThrottle] = {}
        oldest = now
        for key, throttle in self.throttles.items():
            if not throttle.idle:
                kept[key] = throttle
            elif throttle.last_used > horizon:
                kept[key] = throttle
                oldest = min(oldest, throttle.last_used)
        if len(kept) < len(self.throttles):
            self.throttles = kept  # a new dict: one emptied in place keeps its size
        if not kept:
            return math.inf
        return max(oldest + idle_for, now + max(idle_for / 8, MIN_SWEEP_INTERVAL))

    def _close_later(self, leaving: deque[Entry]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(close_entries(leaving))
        self._closing[task] = leaving
        task.add_done_callback(self._closed)
        return task

    def _closed(self, task: asyncio.Task[None]) -> None:
        if not self._closing.get(task):  # all closed (what a cancelled one left: ``aclose``)
            self._closing.pop(task, None)

    # ------------------------------------------------------------------ shutdown

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
        """Close everything at once, lingering or not: the shared values first (a
        schedule's ticks call through clients), then the clients, then whatever closings
        cut short left (``asyncio.run`` cancels every task before it shuts generators down)."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._due, self._throttles_due = None, math.inf, math.inf
        values = deque(self._values(list(self._memo)))
        self._held.clear()
        await close_entries(values)
        await close_entries(deque(self.clients.take_all()))
        while self._closing:
            task, leaving = self._closing.popitem()
            if not task.done():
                await asyncio.wait((task,))
            await close_entries(leaving)
        self.throttles = {}

    def __repr__(self) -> str:
        timer = "" if self._timer is None else f" timer_at={self._due:.1f}"
        return (
            f"<LoopState clients={len(self.clients)} (lingering {self.clients.lingering})"
            f" shared={len(self._memo)} (lingering {self._held.lingering})"
            f" throttles={len(self.throttles)} closing={len(self._closing)}{timer}>"
        )


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

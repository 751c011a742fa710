"""The connection cache: one client per connection identity on one event loop, and who holds
what, so that a hook letting go costs only the keys it held.

It caches clients only (what ``clients_created`` counts and hooks release when they close);
anything else a loop shares (sessions, memos, poll schedules) is ``LoopState.shared``. Both keep
their holders in a ``Holders`` index and close what nobody holds through ``close_entries``.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any

__all__ = ["ClientCache", "Entry", "Holders", "aclose_value", "close_entries"]

logger = logging.getLogger("async_hooks")

Closer = Callable[[Any], Awaitable[None]]


class Entry:
    """A value being built (or built) by ``task``, and how to close it once nobody holds it."""

    __slots__ = ("close", "task")

    def __init__(self, task: asyncio.Future[Any], close: Closer) -> None:
        self.task = task
        self.close = close

    def __repr__(self) -> str:
        task = self.task
        if not task.done():
            return "<Entry building>"
        return "<Entry failed>" if _failed(task) else f"<Entry built {task.result()!r}>"


class Holders:
    """Who holds which shared key, indexed both ways: a user letting go visits its own keys
    only (10,000 hooks closing over 2,000 keys make 10,000 visits, not 20 million).

    A key whose last holder lets go either goes at once or lingers until a deadline (loop
    time): the next holder before then takes it back, the owner's timer collects it after.
    """

    __slots__ = ("_idle", "_keys", "_users")

    def __init__(self) -> None:
        self._users: dict[Hashable, set[object]] = {}  # key -> who holds it
        self._keys: dict[object, set[Hashable]] = {}  # user -> what it holds
        self._idle: dict[Hashable, float] = {}  # key nobody holds -> when it goes

    @property
    def lingering(self) -> int:
        return len(self._idle)

    def hold(self, key: Hashable, user: object) -> None:
        """``user`` holds ``key`` (again): a lingering key is taken back."""
        users = self._users.get(key)
        if users is None:
            users = self._users[key] = set()
            if self._idle:
                self._idle.pop(key, None)
        elif user in users:  # every call of a hook: one look-up
            return
        users.add(user)
        keys = self._keys.get(user)
        if keys is None:
            keys = self._keys[user] = set()
        keys.add(key)

    def release(self, user: object, deadline: float | None) -> list[Hashable]:
        """``user`` lets go of every key it holds. Returns the keys nobody holds any more that
        go now: all of them without a ``deadline``; with one, none (they linger until it)."""
        keys = self._keys.pop(user, None)
        if not keys:
            return []
        gone = [key for key in keys if self._let_go(key, user)]
        if not self._keys:
            self._keys = {}  # a dict never shrinks as it empties: start a small one
        if not self._users:
            self._users = {}
        if deadline is None:
            return gone
        for key in gone:
            self._idle[key] = deadline
        return []

    def _let_go(self, key: Hashable, user: object) -> bool:
        """Drop ``user`` from ``key``'s holders; whether it was the last (one visit)."""
        users = self._users.get(key)
        if users is None:
            return False
        users.discard(user)
        if users:
            return False
        del self._users[key]
        return True

    def expired(self, now: float) -> list[Hashable]:
        """The lingering keys whose deadline has come, forgotten."""
        gone = [key for key, deadline in self._idle.items() if deadline <= now]
        if gone:
            idle = self._idle
            for key in gone:
                del idle[key]
            self._idle = dict(idle)  # shrunk to what is left
        return gone

    def next_deadline(self) -> float:
        return min(self._idle.values(), default=math.inf)

    def clear(self) -> None:
        self._users, self._keys, self._idle = {}, {}, {}

    def __repr__(self) -> str:
        return (
            f"<Holders keys={len(self._users)} users={len(self._keys)} lingering={len(self._idle)}>"
        )


class ClientCache:
    """Clients of one loop, keyed by connection identity, held by the hooks that use them.

    A client is created by one task even when hundreds ask at once: the first creates it in a
    task of its own and everyone awaits it shielded, so one caller's cancellation fails nobody
    else. When the last hook that used it lets go it closes at once, or lingers for the idle
    time that hook's provider asks (another hook reuses it meanwhile); the loop's shutdown
    closes everything. Closing itself is the owner's (``LoopState``): ``detach``, ``expired``
    and ``take_all`` hand over the entries that go.
    """

    __slots__ = ("_builds", "_entries", "_forgotten", "_held")

    def __init__(self, forgotten: Callable[[Entry], None] | None = None) -> None:
        self._entries: dict[Hashable, Entry] = {}
        self._held = Holders()
        #: The builds running, by task: what ``building`` answers.
        self._builds: dict[asyncio.Future[Any], Entry] = {}
        #: Told of an entry whose build failed (it is gone, with nothing to close).
        self._forgotten = forgotten

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def lingering(self) -> int:
        """Clients nobody holds, kept until their idle time is up."""
        return self._held.lingering

    def building(self) -> Entry | None:
        """The entry whose build the current task is (``None`` outside a client build)."""
        task = asyncio.current_task()
        return self._builds.get(task) if task is not None and self._builds else None

    async def get(
        self,
        key: Hashable,
        user: object,
        create: Callable[[], Awaitable[Any]],
        close: Closer,
        on_created: Callable[[], None],
    ) -> Any:
        entry = self._entries.get(key)
        if entry is None:
            entry = self._start(key, create, close, on_created)
        self._held.hold(key, user)
        task = entry.task
        if task.done() and not _failed(task):
            return task.result()
        return await asyncio.shield(task)

    def _start(
        self,
        key: Hashable,
        create: Callable[[], Awaitable[Any]],
        close: Closer,
        on_created: Callable[[], None],
    ) -> Entry:
        async def build() -> Any:
            client = await create()
            on_created()
            return client

        entry = Entry(asyncio.get_running_loop().create_task(build()), close)
        self._entries[key] = entry
        self._builds[entry.task] = entry

        def built(task: asyncio.Future[Any]) -> None:
            del self._builds[task]
            if not _failed(task):
                return
            if self._entries.get(key) is entry:
                del self._entries[key]
            if self._forgotten is not None:
                self._forgotten(entry)

        entry.task.add_done_callback(built)
        return entry

    def detach(self, user: object, deadline: float | None) -> list[Entry]:
        """``user`` lets go of its clients: those nobody else holds go now (returned, for the
        caller to close), or linger until ``deadline`` (loop time)."""
        return self._take(self._held.release(user, deadline))

    def expired(self, now: float) -> list[Entry]:
        """The lingering clients whose idle time is up, taken out of the cache."""
        return self._take(self._held.expired(now))

    def next_deadline(self) -> float:
        return self._held.next_deadline()

    def take_all(self) -> list[Entry]:
        entries = list(self._entries.values())
        self._entries = {}
        self._held.clear()
        return entries

    def _take(self, keys: Iterable[Hashable]) -> list[Entry]:
        entries = self._entries
        taken = [entry for key in keys if (entry := entries.pop(key, None)) is not None]
        if taken and not entries:
            self._entries = {}
        return taken

    def __repr__(self) -> str:
        return f"<ClientCache clients={len(self._entries)} lingering={self.lingering}>"


async def close_entries(entries: deque[Entry]) -> None:
    """Close each entry's value once its build is done (a failed or cancelled build leaves
    nothing to close), in order, each at most once.

    ``asyncio.wait`` never raises a build's own failure or cancellation: only this task's
    cancellation ends it early, and the entries it has not taken yet stay in ``entries`` for
    whoever finishes the job (``LoopState.aclose``).
    """
    while entries:
        task = entries[0].task
        if not task.done():
            await asyncio.wait((task,))
        entry = entries.popleft()
        if _failed(task):
            continue
        value = task.result()
        try:
            await entry.close(value)
        except Exception:
            logger.warning("closing %r failed", value, exc_info=True)


async def aclose_value(value: Any) -> None:
    """A shared value's closer: its ``aclose``, if it has one."""
    close = getattr(value, "aclose", None)
    if close is not None:
        await close()


def _failed(task: asyncio.Future[Any]) -> bool:
    """Done without a value (call on a done task only)."""
    return task.cancelled() or task.exception() is not None

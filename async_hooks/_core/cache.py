"""The connection cache: one client per connection identity on one event loop.

It caches clients only (what ``clients_created`` counts and hooks release when they close);
anything else a loop shares (sessions, memos, coalescers) is ``LoopState.shared``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

__all__ = ["ClientCache"]

logger = logging.getLogger("async_hooks")

Closer = Callable[[Any], Awaitable[None]]


class _Entry:
    __slots__ = ("close", "task", "users")

    def __init__(self, task: asyncio.Task[Any], close: Closer) -> None:
        self.task = task
        self.close = close
        self.users: set[object] = set()


class ClientCache:
    """Clients of one loop, keyed by connection identity, counted by the hooks that use them.

    A client is created by one task even when hundreds ask at once: the first creates it in a
    task of its own and everyone awaits it shielded, so one caller's cancellation fails nobody
    else. It closes when the last hook that used it closes, or when the loop shuts down.
    """

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[Hashable, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    async def get(
        self,
        key: Hashable,
        user: object,
        create: Callable[[], Awaitable[Any]],
        close: Closer,
        on_created: Callable[[], None],
    ) -> Any:
        entry = self._entries.get(key)
        if (
            entry is not None
            and entry.task.done()
            and not entry.task.cancelled()
            and entry.task.exception() is None
        ):
            entry.users.add(user)
            return entry.task.result()
        if entry is None:
            entry = self._start(key, create, close, on_created)
        entry.users.add(user)
        return await asyncio.shield(entry.task)

    def _start(
        self,
        key: Hashable,
        create: Callable[[], Awaitable[Any]],
        close: Closer,
        on_created: Callable[[], None],
    ) -> _Entry:
        async def build() -> Any:
            client = await create()
            on_created()
            return client

        entry = _Entry(asyncio.get_running_loop().create_task(build()), close)
        self._entries[key] = entry

        def forget_failure(task: asyncio.Task[Any]) -> None:
            if (task.cancelled() or task.exception() is not None) and (
                self._entries.get(key) is entry
            ):
                del self._entries[key]

        entry.task.add_done_callback(forget_failure)
        return entry

    async def release(self, user: object) -> None:
        """Drop ``user`` from every client; close the clients nobody uses any more."""
        orphans = []
        for key, entry in list(self._entries.items()):
            entry.users.discard(user)
            if not entry.users:
                del self._entries[key]
                orphans.append(entry)
        await self._close(orphans)

    async def close_all(self) -> None:
        entries = list(self._entries.values())
        self._entries.clear()
        await self._close(entries)

    @staticmethod
    async def _close(entries: list[_Entry]) -> None:
        for entry in entries:
            try:
                client = await entry.task
            except BaseException:
                continue
            try:
                await entry.close(client)
            except Exception:
                logger.warning("closing a cached client failed", exc_info=True)

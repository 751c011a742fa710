"""One hook for all the triggers on a loop that are built from the same settings.

A triggerer running 5,000 ``WaitForJobTrigger`` s on one connection built 5,000 hooks, each with
its planner, poll plans, redactor and a dozen bound methods: about 35 objects a trigger for every
full garbage collection to scan while the runner starts thousands of triggers, and the runner's
CPU then is what sets how soon they all poll. The triggers share the hook instead, counted: it
closes when its last trigger ends, so a trigger that ends or is cancelled beside the others never
closes it under their waits.

A hook is shared only while its connection is the one Airflow answered for all of them
(``airflow_connection_shared`` keeps one answer a minute): a changed connection gets a new hook,
and the old one closes with its last trigger.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from async_hooks._core.hook import AsyncBaseHook
from async_hooks._core.loopstate import current_state

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["HookLease", "hook_lease", "settings_key"]

#: The loop's leases by settings key, a value of its memo (gone with the loop).
_LEASES = ("trigger-hook-leases",)


def settings_key(provider: str, hook_kwargs: dict[str, Any]) -> Hashable | None:
    """The key two triggers share a hook by: the provider and its settings as stored (plain
    JSON values); ``None`` for settings that cannot be put in one key, which are not shared."""
    try:
        return provider, json.dumps(hook_kwargs, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return None


class HookLease:
    """A shared hook and how many triggers hold it; ``async with`` holds it for one trigger."""

    __slots__ = ("_connection", "_key", "_leases", "_users", "hook")

    def __init__(
        self,
        hook: AsyncBaseHook,
        connection: object,
        key: Hashable | None,
        leases: dict[Hashable, HookLease],
    ) -> None:
        self.hook = hook
        self._connection = connection
        self._key = key
        self._leases = leases
        self._users = 0

    async def __aenter__(self) -> AsyncBaseHook:
        self._users += 1
        return await self.hook.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._users -= 1
        if self._users:
            return
        # Out of the table before the first ``await``: a trigger starting while this hook
        # closes builds a new one rather than sharing one that is closing.
        if self._key is not None and self._leases.get(self._key) is self:
            del self._leases[self._key]
        await self.hook.close()

    def __repr__(self) -> str:
        return f"<HookLease users={self._users} hook={self.hook!r}>"


def hook_lease(
    key: Hashable | None, connection: object, build: Callable[[], AsyncBaseHook]
) -> HookLease:
    """The running loop's lease for ``key`` while ``connection`` (Airflow's answer for its
    ``conn_id``, or ``None``) is the same object, else a new one with a hook from ``build()``.
    A ``build`` that raises leaves nothing behind."""
    leases: dict[Hashable, HookLease] = current_state().memo(_LEASES, dict)
    if key is not None:
        lease = leases.get(key)
        if lease is not None and lease._connection is connection:
            return lease
    lease = HookLease(build(), connection, key, leases)
    if key is not None:
        leases[key] = lease  # a lease it replaces closes with its own last trigger
    return lease

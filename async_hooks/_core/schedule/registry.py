"""``Schedules``: the loop's poll schedules, one per batch key, made by the first wait of a key
and forgotten with its last; and which hooks have waits in which, so that closing a hook costs
the schedules it used, not every schedule of the loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Protocol

from async_hooks._core.schedule.schedule import PollSchedule

if TYPE_CHECKING:
    from async_hooks._core.schedule.state import WaitState

__all__ = ["ScheduleSource", "Schedules"]


class ScheduleSource(Protocol):
    """Where a wait finds its loop's schedules when it is first awaited: a hook (which refuses
    then if it was closed on that loop), or the ``Schedules`` themselves. Asked on the loop, not
    when the wait is made: a wait may be made off any loop (``asyncio.run(hook.wait_for_job(
    ...))``, a sync facade)."""

    def _loop_schedules(self) -> Schedules: ...


class Schedules:
    """One event loop's poll schedules (a value of its ``LoopState`` memo)."""

    __slots__ = ("_by_key", "_by_owner", "_peak")

    def __init__(self) -> None:
        self._by_key: dict[Hashable, PollSchedule] = {}
        self._by_owner: dict[object, set[PollSchedule]] = {}
        self._peak = 0  # the most keys at once since the tables were last rebuilt

    def _loop_schedules(self) -> Schedules:
        return self

    def join(self, state: WaitState, deadline: float | None, keep_from: float) -> None:
        """``state``, a wait of hook ``state.owner``, into the schedule of its plan's
        ``batch.key`` (made if needed), until it leaves (``state.schedule.leave``)."""
        batch = state.plan.batch
        owner = state.owner
        assert batch is not None, "a shared wait needs a plan with a batch"
        schedule = self._by_key.get(batch.key)
        if schedule is None:
            schedule = self._by_key[batch.key] = PollSchedule(
                batch.key,
                batch.batch_max,
                batch.fetch_many is not None,
                self._forget,
                self._owner_gone,
            )
            self._peak = max(self._peak, len(self._by_key))
        used = self._by_owner.get(owner)
        if used is None:
            used = self._by_owner[owner] = set()
        used.add(schedule)
        schedule.join(state, deadline, keep_from)

    def release(self, owner: object, error: Callable[[], BaseException]) -> None:
        """Hook ``owner`` closed: out of every schedule it has waits in, each of its waits
        ending with an ``error()`` of its own."""
        for schedule in self._by_owner.pop(owner, ()):
            schedule.release(owner, error)

    def get(self, key: Hashable) -> PollSchedule | None:
        """The schedule of ``key``, while it has waits."""
        return self._by_key.get(key)

    def __len__(self) -> int:
        return len(self._by_key)

    def _forget(self, schedule: PollSchedule) -> None:
        if self._by_key.get(schedule.key) is schedule:
            del self._by_key[schedule.key]
            if len(self._by_key) * 4 < self._peak:
                # A dict never shrinks by deleting: after a burst of keys, copies sized for what
                # is left let the process return to its baseline.
                self._by_key = dict(self._by_key)
                self._by_owner = dict(self._by_owner)
                self._peak = len(self._by_key)

    def _owner_gone(self, owner: object, schedule: PollSchedule) -> None:
        used = self._by_owner.get(owner)
        if used is not None:
            used.discard(schedule)
            if not used:
                del self._by_owner[owner]

    async def aclose(self) -> None:
        """Stop every schedule's timers and ticks (the loop shuts down)."""
        schedules = list(self._by_key.values())
        self._by_key.clear()
        self._by_owner.clear()
        await asyncio.gather(*(schedule.aclose() for schedule in schedules))

    def __repr__(self) -> str:
        waits = sum(len(schedule) for schedule in self._by_key.values())
        return f"<Schedules keys={len(self._by_key)} waits={waits} hooks={len(self._by_owner)}>"

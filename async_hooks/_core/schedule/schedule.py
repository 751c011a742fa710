"""A ``PollSchedule``: the waits of one batch key (connection, kind, identifiers) on one loop,
and the ticks that poll them.

Waits are grouped by poll interval; each group has one timer, and each of its ticks polls every
due wait of the group (``tick.py``), whenever it began. A wait joins the next tick of its
interval's group; when no group of its interval runs, one starts, its first tick after
``coalescing_window(interval)`` so that waits started together meet in it. After each tick a wait
on back-off moves to the group of its next interval. A newcomer whose deadline comes before its
group's next tick gets an extra tick for the waits not yet polled.

The schedule belongs to the connection, not to a hook: each hook with waits here lends its
fetchers, and a hook that closes (``release``) takes its own fetchers and its own waits out, each
wait failing with an error of its own, and nothing else. When its last wait leaves, the schedule
stops its timers and ticks and tells its registry, which forgets it: a process that waited on
thousands of keys keeps none of them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from async_hooks._core.schedule.deadlines import Deadlines
from async_hooks._core.schedule.group import Group
from async_hooks._core.schedule.payloads import PayloadStore
from async_hooks._core.schedule.state import WaitState
from async_hooks._core.schedule.tick import Tick

if TYPE_CHECKING:
    from collections.abc import Hashable

    from async_hooks._core.plan import BatchDescribe

__all__ = ["PollSchedule"]

logger = logging.getLogger("async_hooks")


class PollSchedule:
    """The shared schedule of one batch key on one loop."""

    __slots__ = (
        "_closed",
        "_deadlines",
        "_fetchers",
        "_groups",
        "_on_empty",
        "_on_owner_gone",
        "_owned",
        "_statuses",
        "_ticks",
        "batch_max",
        "batched",
        "key",
        "payloads",
    )

    def __init__(
        self,
        key: Hashable,
        batch_max: int,
        batched: bool,
        on_empty: Callable[[PollSchedule], None],
        on_owner_gone: Callable[[object, PollSchedule], None],
    ) -> None:
        self.key = key
        self.batch_max = batch_max
        self.batched = batched  # a batch call is made (the kind has one and the server has it)
        self.payloads = PayloadStore()
        self._on_empty = on_empty
        self._on_owner_gone = on_owner_gone
        self._groups: dict[float, Group] = {}
        #: Each hook with waits here: its fetchers, and how many waits it has here (a hook
        #: that closes finds its own among the groups' members: a set per hook would cost
        #: every wait a hundred bytes for what happens once).
        self._fetchers: dict[object, BatchDescribe] = {}
        self._owned: dict[object, int] = {}
        self._statuses: dict[str, str] = {}  # each status string once, for its waits to share
        #: The running ticks: a group left without waits stops its ticks.
        self._ticks: dict[asyncio.Task[None], Tick] = {}
        self._deadlines = Deadlines()  # its waits' own deadlines, one timer per bucket
        self._closed = False

    # ------------------------------------------------------------------ waits

    def join(self, state: WaitState, deadline: float | None, keep_from: float) -> None:
        """Add ``state``, a wait of hook ``state.owner`` on a plan with a ``batch``: polled from
        the next tick of its interval's group on, expired once ``deadline`` (loop time) has
        passed, keeping payloads for its time-out's result from ``keep_from`` on, until it
        ``leave``s."""
        batch = state.plan.batch
        assert batch is not None, "a shared wait needs a plan with a batch"
        state.schedule = self
        owner = state.owner
        self._owned[owner] = self._owned.get(owner, 0) + 1
        if owner not in self._fetchers:
            self._fetchers[owner] = batch
        state.due = asyncio.get_running_loop().time()
        group = self._enter(state, state.interval)
        if deadline is not None:
            self._deadlines.add(state, deadline, keep_from)
            if deadline < group.next_tick() and not self._closed:
                # Its deadline comes first: it cannot wait for the tick (a resumed trigger whose
                # remaining timeout is shorter than the interval).
                group.arm_soon(self._fire_soon)

    def leave(self, state: WaitState) -> None:
        """Remove a wait at once (ended, failed or cancelled); idempotent."""
        self._deadlines.remove(state)
        if state.group is None:
            return
        self._exit(state)
        owner = state.owner
        left = self._owned.get(owner, 0) - 1
        if left > 0:
            self._owned[owner] = left
        elif owner in self._owned:
            del self._owned[owner]
            self._fetchers.pop(owner, None)
            self._on_owner_gone(owner, self)
        if not self._owned:
            self._stop()

    def release(self, owner: object, error: Callable[[], BaseException]) -> None:
        """Hook ``owner`` closed: its fetchers go now, and each of its waits ends with an
        ``error()`` of its own. Other hooks' waits go on through their own fetchers."""
        self._fetchers.pop(owner, None)
        if owner not in self._owned:
            return
        for state in [state for state in self._states() if state.owner is owner]:
            state.stop(error())

    def status(self, status: str) -> str:
        """``status`` as the one string this schedule keeps for it (its waits share it)."""
        return self._statuses.setdefault(status, status)

    def _states(self) -> Iterator[WaitState]:
        """Every wait in the schedule."""
        for group in list(self._groups.values()):
            for first in list(group.members.values()):
                state: WaitState | None = first
                while state is not None:
                    yield state
                    state = state.twin

    def fetcher(self, skip: set[object]) -> tuple[object, BatchDescribe | None]:
        """A hook with waits here (not in ``skip``) and its fetchers: any will do, since the
        schedule's key names one connection."""
        for owner, batch in self._fetchers.items():
            if owner not in skip:
                return owner, batch
        return None, None

    def serves(self, owner: object) -> bool:
        """Whether ``owner`` still lends its fetchers (it has not closed)."""
        return owner in self._fetchers

    def batch_unsupported(self) -> None:
        if self.batched:
            self.batched = False
            logger.info("%r: the server has no batch describe; describing each job alone", self)

    def __len__(self) -> int:
        return sum(self._owned.values())

    def _enter(self, state: WaitState, interval: float) -> Group:
        group = self._groups.get(interval)
        if group is None:
            group = self._groups[interval] = Group(interval, state.timing.jitter)
            if not self._closed:
                group.arm(asyncio.get_running_loop().time() + group.window, self._fire)
        job_id = state.job_id
        first = group.members.get(job_id)
        if first is None:
            group.members[job_id] = state
        else:
            state.twin, first.twin = first.twin, state
        state.group = group
        return group

    def _exit(self, state: WaitState) -> None:
        group: Group = state.group
        state.group = None
        members = group.members
        job_id = state.job_id
        first = members[job_id]
        if first is state:
            if state.twin is None:
                del members[job_id]
            else:
                members[job_id] = state.twin
        else:
            while first.twin is not state:
                assert first.twin is not None
                first = first.twin
            first.twin = state.twin
        state.twin = None
        if not members and self._groups.get(group.interval) is group:
            del self._groups[group.interval]
            group.disarm()
            self._stop_ticks(group)

    # ------------------------------------------------------------------ ticks

    def _fire_soon(self, group: Group) -> None:
        group.soon = None
        self._start_tick(group, newcomers=True)

    def _fire(self, group: Group) -> None:
        group.handle = None
        self._start_tick(group, newcomers=False)

    def _start_tick(self, group: Group, *, newcomers: bool) -> None:
        loop = asyncio.get_running_loop()
        tick = Tick(self, group, loop.time(), newcomers)
        task = loop.create_task(self._run(tick))
        self._ticks[task] = tick
        task.add_done_callback(self._tick_done)

    async def _run(self, tick: Tick) -> None:
        group = tick.group
        try:
            await tick.run()
        finally:
            for state, interval in tick.movers:
                if state.group is group:  # still waiting, and not moved by anyone else
                    self._exit(state)
                    state.interval = interval
                    state.due = tick.started + interval
                    self._enter(state, interval)
            regular = not tick.newcomers
            if regular and not self._closed and self._groups.get(group.interval) is group:
                loop = asyncio.get_running_loop()
                group.arm(max(tick.started + group.interval, loop.time()), self._fire)

    def _tick_done(self, task: asyncio.Task[None]) -> None:
        self._ticks.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            logger.error("a tick of %r failed", self, exc_info=task.exception())

    def _stop_ticks(self, group: Group) -> None:
        """Cancel the ticks still polling for ``group``, which has no waits left: nothing would
        read their answers, and a hook closing now must not find its calls still running."""
        current = asyncio.current_task()
        for task, tick in list(self._ticks.items()):
            if tick.group is group and task is not current:
                task.cancel()

    def _stop(self) -> None:
        """The last wait left: nothing of this schedule stays behind."""
        self._deadlines.close()
        for group in self._groups.values():
            group.disarm()
            self._stop_ticks(group)
        self._groups.clear()
        self._on_empty(self)

    async def aclose(self) -> None:
        """Stop every timer and tick (the loop shuts down); waits still in it stay asleep."""
        self._closed = True
        self._deadlines.close()
        for group in self._groups.values():
            group.disarm()
        ticks = list(self._ticks)
        for task in ticks:
            task.cancel()
        await asyncio.gather(*ticks, return_exceptions=True)
        # Ended, all of them; a tick that had ended just before has its done-callback still
        # queued, and would stay listed until it ran.
        self._ticks.clear()

    def __repr__(self) -> str:
        groups = ", ".join(f"{g.interval:g}s: {len(g.members)} ids" for g in self._groups.values())
        mode = "batch" if self.batched else "each alone"
        return (
            f"<PollSchedule {self.key!r} {mode} waits={len(self)} hooks={len(self._owned)}"
            f" groups={{{groups}}} ticks={list(self._ticks.values())!r}>"
        )

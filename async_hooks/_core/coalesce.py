"""The shared schedule: waits of one batch key on one loop share their polls.

The coalescer owns the schedule. Its waits are grouped by poll interval; each group has one
timer, and each of its *ticks* describes every pending id of the group in chunks of the API's
maximum (``IN_FLIGHT`` chunk calls at a time), whenever its waits started. A wait joins the next
tick of its interval's group; when no group of its interval runs, one starts, its first tick
after ``coalescing_window(interval)`` so that waits started together meet in it. A group left
without members stops its timer.

A tick tells each wait what it saw (poll count, last payload, status) and *wakes* it only when
its job's status changed, the job ended (its verdict is no longer None) or the poll failed: a
job that is still running costs its wait nothing but the tick's bookkeeping. After each tick a
wait on back-off moves to the group of its next interval, and is polled at its tick nearest its
due time (at most half an interval early or late). A newcomer whose deadline comes before its
group's next tick gets an extra tick (after the gathering window) for the waits not yet polled.
Timers run in a fresh context, and each wait logs its own status changes: a tick never speaks in
the context of the wait that happened to arm it.

An id the answer does not list is polled alone; a batch call that fails with a retryable error
(after the pipeline's own retries) fails that poll of each wait in it (a transient poll error,
which never ends a wait); one that fails otherwise is replaced by single polls, so one bad id
cannot fail unrelated waits. A batch operation that keeps failing (``BATCH_FAILURES`` calls in a
row: a server that does not implement it, such as moto's Athena) is given up for ``ALONE_TICKS``
ticks, in which every id is polled alone, and then tried again. Each call goes through the
fetchers of the newest live wait (bound to its hook), never through a hook whose waits ended.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from async_hooks._core.deadlines import Deadlines
from async_hooks._core.groups import Group, Tick, coalescing_window
from async_hooks._core.member import Codec, Member, failure_text
from async_hooks.errors import ServiceError

if TYPE_CHECKING:
    from async_hooks._core.plan import BatchDescribe, PollPlan, PollTiming

__all__ = ["ALONE_TICKS", "BATCH_FAILURES", "IN_FLIGHT", "Coalescer", "coalescing_window"]

logger = logging.getLogger("async_hooks")


#: Chunk calls one tick keeps in flight (each through the pipeline, which also throttles).
IN_FLIGHT = 8
#: Waits told per loop iteration: a chunk of 1,000 (Glue's pages) does not hold the loop at once.
SETTLE_SLICE = 100
#: Batch calls failing in a row (each after the pipeline's retries) before the coalescer polls
#: ids alone, and for how many ticks it does before it tries the batch operation again.
BATCH_FAILURES = 3
ALONE_TICKS = 10

_ABSENT: Any = object()


class Coalescer:
    """The shared schedule of one batch key (connection, kind, identifiers) on one loop."""

    __slots__ = (
        "_alone_ticks",
        "_closed",
        "_codec",
        "_deadlines",
        "_failed_in_a_row",
        "_fetchers",
        "_groups",
        "_ticks",
        "batch_max",
    )

    def __init__(self, batch_max: int) -> None:
        self.batch_max = batch_max
        self._groups: dict[float, Group] = {}
        #: The fetchers of the live waits, each with its count of waits; the newest last.
        self._fetchers: dict[BatchDescribe, int] = {}
        #: The running ticks, each with its group: a group left without waits stops its ticks.
        self._ticks: dict[asyncio.Task[None], Group] = {}
        self._failed_in_a_row = 0
        self._alone_ticks = 0  # ticks left in which the batch operation is not tried
        self._closed = False
        self._codec = Codec()  # its waits' payloads, compressed against one another
        self._deadlines = Deadlines()  # its waits' own deadlines, one timer per bucket

    # ------------------------------------------------------------------ members

    def join(self, plan: PollPlan, timing: PollTiming, deadline: float | None = None) -> Member:
        """Add a wait on ``plan`` (which has a ``batch``): polled from the next tick of its
        interval's group on, expired (``Member.expired``, woken) once ``deadline`` (loop time)
        has passed. The caller must ``leave`` it, however the wait ends."""
        batch = plan.batch
        assert batch is not None, "a shared wait needs a plan with a batch"
        member = Member(plan, timing, self._codec)
        self._fetchers[batch] = self._fetchers.pop(batch, 0) + 1
        member.due = asyncio.get_running_loop().time()
        group = self._enter(member, member.interval)
        if deadline is not None:
            self._deadlines.add(member, deadline)
            if deadline < group.next_tick() and not self._closed:
                self._poll_soon(group)  # its deadline comes first: it cannot wait for the tick
        return member

    def _poll_soon(self, group: Group) -> None:
        """An extra tick, after the gathering window, for the group's waits not yet polled
        (a resumed trigger whose remaining timeout is shorter than the group's next tick)."""
        if group.soon is not None:
            return
        loop = asyncio.get_running_loop()
        group.soon = loop.call_at(
            loop.time() + group.window, self._fire_soon, group, context=contextvars.Context()
        )

    def _fire_soon(self, group: Group) -> None:
        group.soon = None
        self._start_tick(group, newcomers=True)

    def leave(self, member: Member) -> None:
        """Remove a wait at once (ended, failed or cancelled); idempotent."""
        self._deadlines.remove(member)
        if member.group is None:
            return
        self._exit(member)
        batch = member.plan.batch
        assert batch is not None
        count = self._fetchers.get(batch, 0)
        if count <= 1:
            self._fetchers.pop(batch, None)
        else:
            self._fetchers[batch] = count - 1  # in place: its rank among the newest stays

    def _enter(self, member: Member, interval: float) -> Group:
        group = self._groups.get(interval)
        if group is None:
            group = self._groups[interval] = Group(interval)
            if not self._closed:
                group.arm(asyncio.get_running_loop().time() + group.window, self._fire)
        job_id = member.plan.job_id
        first = group.members.get(job_id)
        if first is None:
            group.members[job_id] = member
        else:
            member.twin, first.twin = first.twin, member
        member.group = group
        return group

    def _exit(self, member: Member) -> None:
        group: Group = member.group
        member.group = None
        members = group.members
        job_id = member.plan.job_id
        first = members[job_id]
        if first is member:
            if member.twin is None:
                del members[job_id]
            else:
                members[job_id] = member.twin
        else:
            while first.twin is not member:
                assert first.twin is not None
                first = first.twin
            first.twin = member.twin
        member.twin = None
        if not members and self._groups.get(group.interval) is group:
            del self._groups[group.interval]
            for handle in (group.handle, group.soon):
                if handle is not None:
                    handle.cancel()
            group.handle = group.soon = None
            self._stop_ticks(group)

    def _stop_ticks(self, group: Group) -> None:
        """Cancel the ticks still polling for ``group``, which has no waits left: nothing would
        read their answers, and a hook closing now must not find its calls still running."""
        current = asyncio.current_task()
        for task, polled in list(self._ticks.items()):
            if polled is group and task is not current:
                task.cancel()

    # ------------------------------------------------------------------ ticks

    def _fire(self, group: Group) -> None:
        group.handle = None
        self._start_tick(group)

    def _start_tick(self, group: Group, *, newcomers: bool = False) -> None:
        task = asyncio.get_running_loop().create_task(self._tick(group, newcomers))
        self._ticks[task] = group
        task.add_done_callback(self._tick_done)

    def _tick_done(self, task: asyncio.Task[None]) -> None:
        self._ticks.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            logger.error("a coalescing tick failed", exc_info=task.exception())

    async def _tick(self, group: Group, newcomers: bool = False) -> None:
        """Poll the group's waits that are due (``newcomers``: those never polled yet, in an
        extra tick that does not move the group's schedule)."""
        loop = asyncio.get_running_loop()
        tick = Tick(group, loop.time(), self._alone_ticks > 0)
        if tick.alone:
            self._alone_ticks -= 1
        try:
            # Each wait is polled at the tick nearest its due time (within half an interval):
            # a wait that moved here on back-off, out of phase with the group, is at most half
            # an interval early or late, never a whole interval late.
            horizon = tick.started + max(group.window, group.interval / 2)
            chunks = self._chunks(group, horizon, newcomers)
            workers = min(IN_FLIGHT, math.ceil(len(group.members) / self.batch_max))
            if workers <= 1:
                await self._work(chunks, tick)
            else:
                await asyncio.gather(*(self._work(chunks, tick) for _ in range(workers)))
        finally:
            for member, interval in tick.movers:
                if member.group is group:  # still waiting, and not moved by anyone else
                    self._exit(member)
                    member.interval = interval
                    member.due = tick.started + interval
                    self._enter(member, interval)
            regular = not newcomers
            if regular and not self._closed and self._groups.get(group.interval) is group:
                group.arm(max(tick.started + group.interval, loop.time()), self._fire)

    def _chunks(self, group: Group, horizon: float, newcomers: bool = False) -> Iterator[list[str]]:
        """The group's ids due by ``horizon`` (``newcomers``: never polled), ``batch_max`` at a
        time (read as they go: a wait that left meanwhile is skipped, one that joined waits for
        the next tick)."""
        members = group.members
        chunk: list[str] = []
        for job_id in list(members):
            member = members.get(job_id)
            while member is not None and (member.due > horizon or (newcomers and member.polls)):
                member = member.twin
            if member is None:
                continue
            chunk.append(job_id)
            if len(chunk) == self.batch_max:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    async def _work(self, chunks: Iterator[list[str]], tick: Tick) -> None:
        for chunk in chunks:
            await self._poll_chunk(chunk, tick)

    def _newest(self) -> BatchDescribe | None:
        return next(reversed(self._fetchers), None)

    async def _poll_chunk(self, chunk: list[str], tick: Tick) -> None:
        batch = self._newest()
        if batch is None:
            return  # every wait left
        found: Any = {}
        if not tick.alone:
            try:
                found = await batch.fetch_many(chunk)
            except ServiceError as error:
                gave_up = self._batch_failed()
                if error.retryable and not gave_up:
                    for job_id in chunk:
                        self._failed(tick, job_id, error)
                    return
                found = {}  # a refused or failing batch: poll each job alone instead
            except Exception as error:
                for job_id in chunk:
                    self._failed(tick, job_id, error)
                return
            else:
                self._failed_in_a_row = 0
        alone = []
        for told, job_id in enumerate(chunk, 1):
            item = found.get(job_id, _ABSENT)
            if item is _ABSENT:
                alone.append(job_id)
            else:
                self._saw(tick, job_id, item)
            if told % SETTLE_SLICE == 0 and told < len(chunk):
                # A long answer (Glue's pages of 1,000) lets the loop breathe; a short one is
                # told at once and dropped: kept across loop iterations, while other chunks'
                # answers are parsed, its objects would age into the garbage collector's
                # oldest generation and make its full collections frequent.
                await asyncio.sleep(0)
        found = item = None  # not kept through the single polls below
        if alone:
            await asyncio.gather(*(self._poll_alone(tick, job_id) for job_id in alone))

    async def _poll_alone(self, tick: Tick, job_id: str) -> None:
        batch = self._newest()
        if batch is None or tick.group.members.get(job_id) is None:
            return
        try:
            item = await batch.fetch_one(job_id)
        except Exception as error:
            self._failed(tick, job_id, error)
        else:
            self._saw(tick, job_id, item)

    def _batch_failed(self) -> bool:
        """Count a failed batch call; True when the coalescer now polls alone for a while."""
        self._failed_in_a_row += 1
        if self._failed_in_a_row < BATCH_FAILURES:
            return False
        self._alone_ticks = ALONE_TICKS
        return True

    # ------------------------------------------------------------------ telling the waits

    def _saw(self, tick: Tick, job_id: str, item: Any) -> None:
        """One poll of ``job_id`` answered ``item``: tell each of its waits in the group."""
        member = tick.group.members.get(job_id)
        while member is not None:
            plan = member.plan
            member.polls += 1
            member.failure = None
            try:
                status = plan.status_of(item)
                ended = plan.judge(item, status) is not None
            except Exception as error:  # an unreadable payload ends this wait, as alone
                member.error = error
                member.wake()
            else:
                if status != member.status:  # the wait logs it, in its own context
                    member.status = status
                    member.wake()
                elif ended:
                    member.wake()
                member.keep(item)  # current for the result or a time-out, woken or not
            self._polled(tick, member)
            member = member.twin

    def _failed(self, tick: Tick, job_id: str, error: BaseException) -> None:
        member = tick.group.members.get(job_id)
        failure = failure_text(error)  # one string for every wait on this id
        while member is not None:
            member.polls += 1
            member.error = error
            member.failure = failure
            member.wake()
            self._polled(tick, member)
            member = member.twin

    @staticmethod
    def _polled(tick: Tick, member: Member) -> None:
        member.due = tick.started + member.interval
        timing = member.timing
        if timing.backoff != 1.0:
            interval = timing.next_interval(member.interval)
            if interval != member.interval:
                tick.movers.append((member, interval))

    # ------------------------------------------------------------------ closing

    async def aclose(self) -> None:
        """Stop every timer and tick (the loop shuts down); waits still in it stay asleep."""
        self._closed = True
        self._deadlines.close()
        for group in self._groups.values():
            for handle in (group.handle, group.soon):
                if handle is not None:
                    handle.cancel()
            group.handle = group.soon = None
        ticks = list(self._ticks)
        for task in ticks:
            task.cancel()
        await asyncio.gather(*ticks, return_exceptions=True)
        # Ended, all of them; a tick that had ended just before has its done-callback still
        # queued, and would stay listed until it ran.
        self._ticks.clear()

    def __repr__(self) -> str:
        groups = ", ".join(f"{g.interval:g}s: {len(g.members)}" for g in self._groups.values())
        alone = f" polling alone for {self._alone_ticks} ticks" if self._alone_ticks else ""
        return (
            f"<Coalescer batch_max={self.batch_max} groups={{{groups}}}"
            f" ticks_running={len(self._ticks)}{alone}>"
        )

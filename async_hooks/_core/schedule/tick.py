"""A *tick*: one round of polls of a group's due waits.

With a batch call, the due ids go in chunks of the API's maximum, ``IN_FLIGHT`` chunk calls at
a time; an id the answer does not list is described alone. Without one (or once the server has
shown that it lacks it), each due id is described once, the describes spread over the group's
jitter and as many in flight as the throttle admits. Each call goes through the pipeline (the
shared throttle, retries, the budget), through the fetchers of a hook that has waits here.

A batch call that still fails with a throttle or a transient error after the pipeline's retries
fails that poll of each wait in its chunk (a transient poll error, which never ends a wait):
throttling slows the schedule down, it never fans it out into single calls. ``BatchUnsupported``
(the server does not implement the operation) turns the schedule to single describes for good;
another refusal (a client error: one bad id) is answered by single describes of that chunk only,
so one bad id cannot fail unrelated waits.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from async_hooks._core.outcome import failure_text
from async_hooks._core.plan import BatchUnsupported, Briefs, Deferred
from async_hooks.errors import HookClosedError, ServiceError

if TYPE_CHECKING:
    from async_hooks._core.plan import BatchDescribe
    from async_hooks._core.schedule.group import Group
    from async_hooks._core.schedule.state import WaitState

__all__ = ["IN_FLIGHT", "SETTLE_SLICE", "SINGLE_WORKERS", "Lender", "Tick"]

T = TypeVar("T")

#: Batch calls one tick keeps in flight: each answers up to ``batch_max`` ids, and parsing many
#: pages at once would hold their objects together.
IN_FLIGHT = 8
#: Waits told per loop iteration: a chunk of 1,000 (Glue's pages) does not hold the loop at once.
SETTLE_SLICE = 100
#: Waits one chunk wakes per loop iteration (a status change or an end): each may build its job.
WAKE_SLICE = 10
#: Tasks a tick of single describes runs them on (the throttle admits fewer at once by default).
SINGLE_WORKERS = 1024

_ABSENT: Any = object()


class Lender(Protocol):
    """What a tick needs of its schedule: how to call, and through whose fetchers."""

    batch_max: int
    batched: bool

    def batch_unsupported(self) -> None: ...

    def fetcher(self, skip: set[object], /) -> tuple[object, BatchDescribe | None]: ...

    def serves(self, owner: object, /) -> bool: ...


class _NoFetcher(Exception):
    """Every hook with waits in the schedule has closed: nothing to call through."""


class Tick:
    """One round of polls: which waits it polls, what it tells them, who moves on back-off."""

    __slots__ = ("calls", "due", "group", "movers", "newcomers", "schedule", "started")

    def __init__(self, schedule: Lender, group: Group, started: float, newcomers: bool) -> None:
        self.schedule = schedule
        self.group = group
        self.started = started
        self.due = started + group.interval  # when its group's waits are due again
        self.newcomers = newcomers  # an extra tick for waits not polled yet
        self.movers: list[tuple[WaitState, float]] = []
        self.calls = 0  # calls in flight, for ``repr``

    async def run(self) -> None:
        group = self.group
        # Each wait is polled at the tick nearest its due time (within half an interval): a wait
        # that moved here on back-off, out of phase with the group, is at most half an interval
        # early or late, never a whole interval late.
        horizon = self.started + max(group.window, group.interval / 2)
        schedule = self.schedule
        if schedule.batched:
            batch_max = schedule.batch_max
            chunks = self._chunks(horizon, batch_max)
            workers = min(IN_FLIGHT, math.ceil(len(group.members) / batch_max))
            if workers <= 1:
                await self._work(chunks)
            else:
                await asyncio.gather(*(self._work(chunks) for _ in range(workers)))
        else:
            due = [job_id for chunk in self._chunks(horizon) for job_id in chunk]
            await self._describe_each(due)

    def _chunks(self, horizon: float, size: int = 0) -> Iterator[list[str]]:
        """The group's ids due by ``horizon`` (newcomers only, in an extra tick), ``size`` at a
        time (0: all at once). Read as they go: a wait that left meanwhile is skipped, one that
        joined waits for the next tick."""
        members = self.group.members
        newcomers = self.newcomers
        chunk: list[str] = []
        for job_id in list(members):
            state = members.get(job_id)
            while state is not None and (state.due > horizon or (newcomers and state.polls)):
                state = state.twin
            if state is None:
                continue
            chunk.append(job_id)
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    async def _work(self, chunks: Iterator[list[str]]) -> None:
        for chunk in chunks:
            await self._poll_chunk(chunk)

    async def _poll_chunk(self, chunk: list[str]) -> None:
        found: Any = {}
        if self.schedule.batched:
            try:
                found = await self._through(lambda batch: _many(batch, chunk))
            except _NoFetcher:
                return
            except BatchUnsupported:
                self.schedule.batch_unsupported()  # from now on, each id alone
            except ServiceError as error:
                if error.retryable:
                    self._failed_all(chunk, error)
                    return
                # refused: one bad id must not fail the others; each is described alone
            except Exception as error:
                self._failed_all(chunk, error)
                return
        alone = []
        woken = 0
        # The status path's answer: briefs, a job's ``Deferred`` made only for a wait told of it.
        page = found if type(found) is Briefs else None
        listed = found.briefs if page is not None else found
        for told, job_id in enumerate(chunk, 1):
            item = listed.get(job_id, _ABSENT)
            if item is _ABSENT:
                alone.append(job_id)
            else:
                woken += self._saw(job_id, item, page)
            if (woken >= WAKE_SLICE or told % SETTLE_SLICE == 0) and told < len(chunk):
                # The woken waits run before more are told: each may build its job (botocore's
                # parse of its bytes, ~100 us with full details), so a loop iteration runs at
                # most WAKE_SLICE of them per chunk in flight; a long answer (Glue's pages of
                # 1,000) lets the loop breathe too. What is kept meanwhile is small (briefs on
                # the status path); a botocore-parsed answer with nobody to wake is told at once.
                woken = 0
                await asyncio.sleep(0)
        found = listed = page = item = None  # not kept through the single describes below
        if alone:
            await asyncio.gather(*(self._describe_one(job_id) for job_id in alone))

    async def _describe_each(self, job_ids: list[str]) -> None:
        """Each id described once, the starts spread evenly over the group's jitter (a burst per
        interval is what jitter is there to avoid). The throttle bounds how many run at once;
        ``SINGLE_WORKERS`` only bounds the tasks a tick holds (far above any throttle's
        default), so 100,000 waits do not make 100,000 tasks per tick."""
        loop = asyncio.get_running_loop()
        spread = self.group.jitter * self.group.interval
        count = len(job_ids)
        queue = iter(enumerate(job_ids))

        async def work() -> None:
            for n, job_id in queue:
                delay = self.started + spread * n / count - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                await self._describe_one(job_id)

        workers = min(count, SINGLE_WORKERS)
        if workers == 1:
            await work()
        elif workers > 1:
            await asyncio.gather(*(work() for _ in range(workers)))

    async def _describe_one(self, job_id: str) -> None:
        if self.group.members.get(job_id) is None:
            return  # its waits left
        try:
            item = await self._through(lambda batch: batch.fetch_one(job_id))
        except _NoFetcher:
            return
        except Exception as error:
            self._failed(job_id, error, failure_text(error))
        else:
            self._saw(job_id, item)

    async def _through(self, call: Callable[[BatchDescribe], Awaitable[T]]) -> T:
        """``call`` through the fetchers of a hook with waits here. A hook that closed during
        the call is the only one that fails: the call is made again through another."""
        skip: set[object] = set()
        while True:
            owner, batch = self.schedule.fetcher(skip)
            if batch is None:
                raise _NoFetcher
            self.calls += 1
            try:
                return await call(batch)
            except HookClosedError:
                if self.schedule.serves(owner):
                    raise
                skip.add(owner)
            finally:
                self.calls -= 1

    # ------------------------------------------------------------------ telling the waits

    def _saw(self, job_id: str, item: Any, page: Briefs | None = None) -> int:
        """A poll of ``job_id`` answered ``item`` (its brief, if ``page`` is the status path's
        answer it came in): tell each of its waits in the group whose status changed or whose
        job ended (or whose deadline is near: its payload, for a time-out's result); how many
        it woke. A ``Deferred`` is judged by its brief and handed on
        unbuilt, and made only for a wait it is told to."""
        woken = 0
        state = self.group.members.get(job_id)
        if page is not None:
            read, payload = item, None
        else:
            read, payload = (item.brief if type(item) is Deferred else item), item
        while state is not None:
            plan = state.plan
            try:
                status = plan.status_of(read)
                ended = plan.judge(read, status) is not None
            except Exception as error:  # an unreadable payload ends this wait, as alone
                state.failed(error, failure_text(error))
            else:
                # ``WaitState.saw``, inline: every job of every tick comes here.
                state.polls += 1
                state.failure = None
                if (
                    status != state.status
                    or ended
                    # ``state.keep_from()``, inline: its deadline is near
                    or ((bucket := state.bucket) is not None and self.started >= bucket.keep_from)
                ):
                    if payload is None:
                        assert page is not None
                        payload = page[job_id]
                    woken += state.tell(status, payload, ended)
            self._polled(state)
            state = state.twin
        return woken

    def _failed_all(self, chunk: list[str], error: BaseException) -> None:
        failure = failure_text(error)  # one text for every wait of the chunk
        for job_id in chunk:
            self._failed(job_id, error, failure)

    def _failed(self, job_id: str, error: BaseException, failure: str) -> None:
        state = self.group.members.get(job_id)
        while state is not None:
            state.failed(error, failure)
            self._polled(state)
            state = state.twin

    def _polled(self, state: WaitState) -> None:
        # One float for the group's waits, not one each (a wait on back-off has its own).
        due = self.due
        state.due = due if state.interval == self.group.interval else self.started + state.interval
        timing = state.timing
        if timing.backoff != 1.0:
            interval = timing.next_interval(state.interval)
            if interval != state.interval:
                self.movers.append((state, interval))

    def __repr__(self) -> str:
        kind = "newcomers' tick" if self.newcomers else "tick"
        return (
            f"<Tick ({kind}) of {self.group!r} started at {self.started:.2f}"
            f" calls in flight={self.calls}>"
        )


def _many(batch: BatchDescribe, chunk: list[str]) -> Awaitable[Any]:
    assert batch.fetch_many is not None, "a batched schedule's fetchers have a batch call"
    return batch.fetch_many(chunk)

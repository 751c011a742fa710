"""Poll coalescing: concurrent waits of one kind on one connection share their polls.

Each wait still polls on its own schedule (without jitter: the shared call is the spreading). A
poll that comes due joins a *tick*: the first poll of a tick opens a short window, every poll due
within it joins, and when it closes the ids go out as one batch-describe call per chunk of the
API's maximum; the answers resume the waits a slice at a time. Answers go back to each wait;
an id the answer does not list is polled alone; a batch call that fails with a retryable error
(after the pipeline's own retries) fails that poll of each wait in it (a transient poll error,
which never ends a wait); one that fails otherwise is replaced by single polls, so one bad id
cannot fail unrelated waits. A batch operation that keeps failing (``BATCH_FAILURES`` ticks in
a row: a server that does not implement it, such as moto's Athena) is given up for
``ALONE_TICKS`` ticks, in which every id is polled alone, and then tried again. A wait that is
cancelled leaves its tick at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from async_hooks.errors import ServiceError

__all__ = ["Coalescer", "FetchMany", "FetchOne", "coalescing_window"]

FetchMany = Callable[[list[str]], Awaitable[dict[str, Any]]]
FetchOne = Callable[[str], Awaitable[Any]]


def coalescing_window(poll_interval: float) -> float:
    """How long a tick gathers polls: a tenth of the interval, at most one second. Coalesced
    waits poll without jitter (their shared call is the spreading), so waits started together
    stay in step and meet in one tick; a poll is late by at most this window."""
    return min(poll_interval * 0.1, 1.0)


#: Waits resumed per loop iteration when a tick answers: a tick answering thousands of waits
#: would otherwise hold the loop for every one of them in a single iteration.
SETTLE_SLICE = 100

#: Batch calls failing in a row (each after the pipeline's retries) before the coalescer polls
#: ids alone, and for how many ticks it does before it tries the batch operation again.
BATCH_FAILURES = 3
ALONE_TICKS = 10


class Coalescer:
    """The shared polls of one (connection, kind, identifiers) on one loop.

    Each poll brings its own fetchers (bound to its hook): a tick calls through a hook whose
    wait is still live, never through the hook that happened to start the coalescer, which may
    have closed since (triggers of one triggerer come and go, each with its own hook).
    """

    __slots__ = ("_alone_ticks", "_failed_in_a_row", "_flush", "_pending", "_running", "batch_max")

    def __init__(self, batch_max: int) -> None:
        self.batch_max = batch_max
        self._pending: dict[str, list[_Poll]] = {}
        self._flush: asyncio.TimerHandle | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._failed_in_a_row = 0
        self._alone_ticks = 0  # ticks left in which the batch operation is not tried

    async def describe(
        self, job_id: str, window: float, fetch_many: FetchMany, fetch_one: FetchOne
    ) -> Any:
        """This job's item from the next tick's batch answer."""
        loop = asyncio.get_running_loop()
        poll = _Poll(loop.create_future(), fetch_many, fetch_one)
        self._pending.setdefault(job_id, []).append(poll)
        if self._flush is None:
            self._flush = loop.call_later(window, self._tick)
        return await poll.future

    def _tick(self) -> None:
        self._flush = None
        pending, self._pending = self._pending, {}
        task = asyncio.get_running_loop().create_task(self._answer(pending))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _answer(self, pending: dict[str, list[_Poll]]) -> None:
        live = {job_id: polls for job_id, polls in pending.items() if _live(polls)}
        ids = list(live)
        if self._alone_ticks > 0:
            self._alone_ticks -= 1
            await asyncio.gather(*(self._answer_alone(job_id, live[job_id]) for job_id in ids))
            return
        chunks = [ids[i : i + self.batch_max] for i in range(0, len(ids), self.batch_max)]
        await asyncio.gather(*(self._answer_chunk(chunk, live) for chunk in chunks))

    def _batch_failed(self) -> bool:
        """Count a failed batch call; True when the coalescer now polls alone for a while."""
        self._failed_in_a_row += 1
        if self._failed_in_a_row < BATCH_FAILURES:
            return False
        self._alone_ticks = ALONE_TICKS
        return True

    async def _answer_chunk(self, chunk: list[str], pending: dict[str, list[_Poll]]) -> None:
        fetch_many = _live_poll(pending[chunk[-1]]).fetch_many  # the newest poll's hook
        try:
            found = await fetch_many(chunk)
        except ServiceError as error:
            gave_up = self._batch_failed()
            if error.retryable and not gave_up:
                for job_id in chunk:
                    _settle(pending[job_id], error=error)
                return
            found = {}  # a refused or failing batch: poll each job alone instead
        except Exception as error:
            for job_id in chunk:
                _settle(pending[job_id], error=error)
            return
        else:
            self._failed_in_a_row = 0
        alone = []
        settled = 0
        for job_id in chunk:
            if job_id in found:
                _settle(pending[job_id], result=found[job_id])
                settled += 1
                if settled % SETTLE_SLICE == 0:
                    await asyncio.sleep(0)  # let the waits just answered run, and the loop breathe
            else:
                alone.append(job_id)
        await asyncio.gather(*(self._answer_alone(job_id, pending[job_id]) for job_id in alone))

    async def _answer_alone(self, job_id: str, polls: list[_Poll]) -> None:
        if not _live(polls):
            return
        try:
            item = await _live_poll(polls).fetch_one(job_id)
        except Exception as error:
            _settle(polls, error=error)
        else:
            _settle(polls, result=item)

    async def aclose(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    def __repr__(self) -> str:
        alone = f" polling alone for {self._alone_ticks} ticks" if self._alone_ticks else ""
        return (
            f"<Coalescer batch_max={self.batch_max} pending={len(self._pending)}"
            f" ticks_running={len(self._running)}{alone}>"
        )


class _Poll(NamedTuple):
    future: asyncio.Future[Any]
    fetch_many: FetchMany
    fetch_one: FetchOne


def _live(polls: list[_Poll]) -> bool:
    return any(not poll.future.done() for poll in polls)


def _live_poll(polls: list[_Poll]) -> _Poll:
    return next((poll for poll in reversed(polls) if not poll.future.done()), polls[-1])


def _settle(polls: list[_Poll], *, result: Any = None, error: BaseException | None = None) -> None:
    for poll in polls:
        if poll.future.done():
            continue
        if error is not None:
            poll.future.set_exception(error)
        else:
            poll.future.set_result(result)

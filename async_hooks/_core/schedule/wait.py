"""A wait in a shared schedule, top to bottom: join the schedule of its key, sleep until a tick
tells it something (or its deadline passes), read what it was told in order, end.

What a tick tells a wait (``WaitState.news``) is a status change or an end with its payload, or a
failed poll. The wait reads each in order: a status change is logged once and told to
``on_status``; ``plan.finish`` (what a kind fetches once its job is terminal) runs and the
verdict decides; a failed poll is logged (retryable) or ends the wait with its own copy of the
error. A job that is merely still running never wakes its wait.

Why a ``SharedWait`` is not a coroutine: 100,000 sleeping waits each held a coroutine frame
(about 430 bytes), a future and the future's iterator. The wait is instead the one object its
state already was: awaited, it is its own iterator (a coroutine's ``send``/``throw``/``close``),
and asleep it is what its task waits on (a future's ``add_done_callback``, ``result`` and
``cancel``), which a tick's ``_wake`` calls back. Reading the news runs in the wait's task (its
log lines keep their context) as a short-lived coroutine (``_read``), alive only while it awaits
a ``finish`` step or an ``on_status`` callback.
"""

from __future__ import annotations

import asyncio
import logging
import math
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import TYPE_CHECKING, Any, TypeVar

from async_hooks._core._compat import timeout_at
from async_hooks._core.outcome import Redact, ended, own_copy, poll_failed, timed_out
from async_hooks._core.plan import Deferred
from async_hooks._core.progress import STATUS_LOG_LEVEL, report
from async_hooks._core.schedule.state import WaitState
from async_hooks._result import Later
from async_hooks.errors import ServiceError

if TYPE_CHECKING:
    import contextvars

    from async_hooks._core.plan import PollPlan, PollTiming
    from async_hooks._core.schedule.registry import ScheduleSource
    from async_hooks._core.schedule.state import News
    from async_hooks._result import JobResult, OnStatus

__all__ = ["SharedWait", "wait_shared"]

logger = logging.getLogger("async_hooks")
_T = TypeVar("_T")

#: A wait keeps the payloads the ticks tell it, for its time-out's result, only within this many
#: of its longest poll intervals of its deadline, and at least ``KEEP_SECONDS``: a tick or two
#: come by then even on a busy machine.
KEEP_INTERVALS = 2
KEEP_SECONDS = 30.0


def wait_shared(
    plan: PollPlan,
    job_id: str,
    timing: PollTiming,
    schedules: ScheduleSource,
    owner: object,
    redact: Redact | None,
    on_status: OnStatus | None,
) -> Coroutine[Any, None, JobResult]:
    """A wait on job ``job_id`` of ``plan`` (of hook ``owner``) in the loop's schedule for
    ``plan.batch.key``, which it joins when first awaited (on the loop that awaits it)."""
    return SharedWait(plan, job_id, timing, schedules, owner, redact, on_status)


class SharedWait(WaitState, Coroutine[Any, None, "JobResult"]):
    """One wait: its state in the schedule, the awaitable of its result, and, while it sleeps,
    what its task waits on (see the module's docstring)."""

    __slots__ = (
        "_asyncio_future_blocking",
        "_cancelled",
        "_reading",
        "level",
        "logged",
        "on_status",
        "redact",
        "registry",
        "started",
        "told",
    )

    def __init__(
        self,
        plan: PollPlan,
        job_id: str,
        timing: PollTiming,
        registry: ScheduleSource,
        owner: object,
        redact: Redact | None,
        on_status: OnStatus | None,
    ) -> None:
        super().__init__(plan, job_id, timing, owner)
        self.registry: ScheduleSource | None = registry  # until it joins
        self.redact = redact
        self.on_status = on_status
        self.started = 0.0
        self.level = 0  # its status lines' level (``STATUS_LOG_LEVEL`` in its task, as it joined)
        self.logged: str | None = None  # the last status this wait logged ...
        self.told: str | None = None  # ... and told ``on_status`` (which a failed finish delays)
        #: None until it first sleeps: ``asyncio.ensure_future`` takes it for a coroutine, not
        #: for a future, and wraps it in a task.
        self._asyncio_future_blocking: bool | None = None
        self._cancelled: asyncio.CancelledError | None = None
        self._reading: Coroutine[Any, None, JobResult | None] | None = None

    # ------------------------------------------------------------------ as a coroutine

    def __del__(self) -> None:
        if self.registry is not None:  # never started, nor closed
            # What Python says of a coroutine: ``hook.wait_for_job(...)`` without ``await``
            # is a bug that would otherwise pass in silence (the job is never watched).
            warnings.warn(
                f"the wait for {self.plan.kind} job {self.job_id!r} was never awaited",
                RuntimeWarning,
                stacklevel=2,
            )

    def __await__(self) -> Generator[Any, None, JobResult]:
        return self  # type: ignore[return-value]  # an iterator with a generator's methods

    def __next__(self) -> Any:
        return self.send(None)

    def send(self, value: None) -> Any:
        """Run the wait until it sleeps (returns what its task waits on) or ends (raises
        ``StopIteration`` with its result, or its error)."""
        reading = self._reading
        if reading is None:
            if self.registry is not None:
                self._join()
            return self._next()
        return self._step(reading.send, value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        """An exception thrown into the wait (its task is cancelled, ``asyncio.timeout``): into
        the news it is reading, else it leaves the schedule and raises it."""
        error = typ if val is None else val
        if isinstance(error, type):
            error = error()
        if tb is not None:
            error = error.with_traceback(tb)
        reading = self._reading
        if reading is None:
            self.registry = None  # thrown into before it started: ended, as a coroutine is
            self._waker = None
            self._leave()
            raise error
        return self._step(reading.throw, error)

    def _step(self, resume: Callable[[Any], Any], value: Any) -> Any:
        """One step of the news being read (``send`` or ``throw`` into it): what it yields, else
        how the wait goes on once it is read; an error out of it leaves the schedule."""
        try:
            return resume(value)
        except StopIteration as stop:
            self._reading = None
            return self._after(stop.value)
        except BaseException:
            self._reading = None
            self._leave()
            raise

    def close(self) -> None:
        self.registry = None  # closed before it started: not a forgotten ``await``
        reading, self._reading = self._reading, None
        if reading is not None:
            reading.close()
        self._waker = None
        self._leave()

    def _join(self) -> None:
        source, self.registry = self.registry, None
        assert source is not None
        registry = source._loop_schedules()  # a closed hook refuses here, before it joins
        loop = self._loop = asyncio.get_running_loop()
        self.started = loop.time()
        self.level = STATUS_LOG_LEVEL.get()
        deadline = self._deadline()
        keep_from = math.inf
        if deadline is not None:
            timing = self.timing
            longest = timing.poll_interval if timing.backoff == 1.0 else timing.max_poll_interval
            keep_from = deadline - max(KEEP_INTERVALS * longest, KEEP_SECONDS)
        registry.join(self, deadline, keep_from)

    def _leave(self) -> None:
        if self.schedule is not None:
            self.schedule.leave(self)

    def _next(self) -> Any:
        """Read the news until there is none (sleep: the task waits on this wait), a read
        awaits something (what it awaits goes to the task), or the wait ends."""
        while True:
            if self.news is None and not self.expired:
                self._asyncio_future_blocking = True
                return self
            if self.expired:
                assert self._loop is not None
                error = timed_out(
                    self.plan,
                    self.job_id,
                    self.timing,
                    self.status,
                    self.last_payload(),
                    self.polls,
                    self.failure,
                    self._loop.time() - self.started,
                )
                self._leave()
                raise error
            reading = self._read(self.take_news())
            try:
                yielded = reading.send(None)
            except StopIteration as stop:
                if stop.value is not None:
                    self._leave()
                    raise StopIteration(stop.value) from None
                continue
            except BaseException:
                self._leave()
                raise
            self._reading = reading
            return yielded

    def _after(self, result: JobResult | None) -> Any:
        if result is not None:
            self._leave()
            raise StopIteration(result)
        return self._next()

    # ------------------------------------------------------------------ as a future, asleep

    def get_loop(self) -> asyncio.AbstractEventLoop:
        assert self._loop is not None
        return self._loop

    def add_done_callback(
        self, fn: Callable[[Any], object], *, context: contextvars.Context | None = None
    ) -> None:
        self._waker = fn
        self._context = context

    def remove_done_callback(self, fn: Callable[[Any], object]) -> int:
        if self._waker is not fn:
            return 0
        self._waker = None
        return 1

    def done(self) -> bool:
        return self._waker is None

    def cancelled(self) -> bool:
        return self._cancelled is not None

    def cancel(self, msg: Any = None) -> bool:
        """Its task is cancelled while it sleeps: wake the task, whose ``result()`` raises."""
        if self._waker is None:
            return False  # already woken: the task cancels itself when it runs
        self._cancelled = asyncio.CancelledError() if msg is None else asyncio.CancelledError(msg)
        self._wake()
        return True

    def result(self) -> None:
        cancelled, self._cancelled = self._cancelled, None
        if cancelled is not None:
            raise cancelled

    # ------------------------------------------------------------------ told by a tick

    def tell(self, status: str, payload: Any, ended: bool) -> bool:
        """A status change the wait would only log and keep is taken in here when its log line
        is off (the usual ``async_hooks`` logger, or DEBUG lines): no wake, no trip through
        its task. An end, a wait with ``on_status`` or ``finish`` (which run in its task and
        may change its level), unread news before it, or a line to log: woken as always. The
        same status again is a payload for a wait whose deadline is near: kept, no wake."""
        if status == self.status and not ended:
            if self.news is None:
                self.keep(payload)  # else its news has a fresher one
            return False
        if (
            ended
            or self.news is not None
            or self.on_status is not None
            or self.plan.finish is not None
            or logger.isEnabledFor(self.level)
        ):
            return super().tell(status, payload, ended)
        assert self.schedule is not None
        self.status = self.logged = self.schedule.status(status)
        self.keep(payload)  # a ``Deferred`` one as its bytes, never built
        return False

    # ------------------------------------------------------------------ reading the news

    async def _read(self, news: list[News]) -> JobResult | None:
        """Read ``news`` in order: the result if the wait ends, None if it sleeps on."""
        plan, job_id, on_status = self.plan, self.job_id, self.on_status
        for item in news:
            if isinstance(item, BaseException):
                poll_failed(plan, job_id, own_copy(item), self.polls, self.interval)
                continue
            status, payload = item
            if status != self.logged:
                logger.log(
                    STATUS_LOG_LEVEL.get(),
                    "%s job %s: %s -> %s",
                    plan.kind,
                    job_id,
                    self.logged or "(new)",
                    status,
                )
                self.logged = status
            if type(payload) is Deferred:
                if plan.finish is not None:  # a ``finish`` step reads the whole job
                    payload = payload.full()
                else:
                    verdict = plan.judge(payload.brief, status)
                    lazy = None
                    if on_status is not None and status != self.told:
                        # Told with the response built only if ``on_status`` reads it.
                        lazy = Later(payload.source.build, payload.data())
                        await self._in_time(self._tell(status, verdict, lazy), status, lazy)
                    if verdict is None:  # running on: kept as its bytes, never built
                        self.keep(payload)
                        continue
                    if verdict:  # succeeded: built only if its result is read
                        lazy = lazy or Later(payload.source.build, payload.data())
                        return ended(
                            plan, job_id, status, True, lazy, self.polls, self._elapsed(), None
                        )
                    payload = payload.full()  # failed: its reason
            try:
                if plan.finish is None and (on_status is None or status == self.told):
                    verdict = plan.judge(payload, status)  # nothing to await: no timer
                else:
                    verdict, payload = await self._judged(payload, status)
            except ServiceError as failure:  # ``finish`` failed: the next tick wakes it again
                poll_failed(plan, job_id, failure, self.polls, self.interval)
                continue
            if verdict is not None:
                return ended(
                    plan,
                    job_id,
                    status,
                    verdict,
                    payload,
                    self.polls,
                    self._elapsed(),
                    self.redact,
                )
            self.keep(payload)  # for a time-out's result
        return None

    async def _judged(self, payload: Any, status: str) -> tuple[bool | None, Any]:
        """``finish`` and ``on_status``, within the wait's deadline: the verdict and payload."""
        plan = self.plan
        finished = payload
        if plan.finish is not None:
            finished = await self._in_time(plan.finish(payload, status), status, payload)
        verdict = plan.judge(finished, status)
        if self.on_status is not None and status != self.told:
            await self._in_time(self._tell(status, verdict, finished), status, finished)
        return verdict, finished

    async def _tell(self, status: str, verdict: bool | None, payload: Any) -> None:
        assert self.on_status is not None
        self.told = status
        await report(
            self.on_status,
            self.plan,
            self.job_id,
            status,
            verdict,
            payload,
            self.polls,
            self._elapsed(),
        )

    async def _in_time(self, step: Awaitable[_T], status: str, payload: Any) -> _T:
        """``step`` (``finish``, an ``on_status`` report) within the wait's deadline; past it,
        the wait's time-out with ``payload``, the job as it last stood."""
        plan, deadline = self.plan, self._deadline()
        try:
            async with timeout_at(deadline):
                return await step
        except (TimeoutError, asyncio.TimeoutError):
            assert self._loop is not None
            if deadline is None or self._loop.time() < deadline:
                raise
            error = timed_out(
                plan,
                self.job_id,
                self.timing,
                status,
                payload,
                self.polls,
                self.failure,
                self._elapsed(),
            )
            raise error from None

    def _deadline(self) -> float | None:
        """Its loop time (computed, not kept: a float less for each sleeping wait)."""
        timeout = self.timing.timeout
        return None if timeout is None else self.started + timeout

    def _elapsed(self) -> float:
        assert self._loop is not None
        return self._loop.time() - self.started

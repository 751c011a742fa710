"""One wait's state in a shared schedule: what the ticks saw of its job and have not yet told
it, and how they wake it.

Thousands live at once, so a state is small: a few slots, no payload of a job that is merely
still running, and no future of its own: a sleeping wait's task waits on the state itself
(``wait.py``), and a tick wakes it by calling back the task (``_wake``). A tick *tells* a wait
only what it must look at (``news``): a status change or an end with the payload that came with
it, or a failed poll. The news is read in order, so a wait that was busy (a slow ``on_status``)
still sees every status, and it is dropped as soon as it is read.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from async_hooks._core.plan import Deferred

if TYPE_CHECKING:
    from async_hooks._core.plan import PollPlan, PollTiming
    from async_hooks._core.schedule.payloads import PayloadStore

__all__ = ["Membership", "News", "WaitState"]

#: One thing a wait has not read yet: ``(status, payload)`` for a status change or an end, or
#: the error of a failed poll (one instance shared by a chunk's waits: each wait raises a copy
#: of its own).
News: TypeAlias = "tuple[str, Any] | BaseException"


class Membership(Protocol):
    """What a state needs of its schedule: where payloads are kept, its statuses, how to leave."""

    payloads: PayloadStore

    def leave(self, state: WaitState, /) -> None: ...

    def status(self, status: str, /) -> str: ...


class WaitState:
    """A wait's place in a schedule (its group, its due time) and what the ticks told it."""

    __slots__ = (
        "_context",
        "_loop",
        "_waker",
        "bucket",
        "due",
        "expired",
        "failure",
        "group",
        "interval",
        "job_id",
        "kept",
        "news",
        "owner",
        "place",
        "plan",
        "polls",
        "schedule",
        "status",
        "timing",
        "twin",
    )

    def __init__(self, plan: PollPlan, job_id: str, timing: PollTiming, owner: object) -> None:
        self.schedule: Membership | None = None  # set when it joins one
        self.plan = plan  # shared by the waits of a kind: the job's id is the wait's
        self.job_id = job_id
        self.timing = timing
        self.owner = owner  # the hook whose wait this is: it leaves when that hook closes
        self.interval = timing.poll_interval
        self.due = 0.0  # loop time from which a tick may poll it
        self.group: Any = None  # its ``Group`` (of its interval), while it is in one
        self.twin: WaitState | None = None  # another wait on the same id in the same group
        self.bucket: Any = None  # its deadline's bucket (``Deadlines``), if it has a deadline
        self.place = 0  # its index in that bucket's members
        self.polls = 0
        self.status: str | None = None  # the last status a tick saw
        self.kept: object = None  # near its deadline: the last payload the wait read, packed
        self.failure: str | None = None  # the last poll's error, until a poll succeeds
        self.news: list[News] | None = None
        self.expired = False  # the wait's own deadline passed
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop it joined on
        #: While the wait sleeps: its task's wake-up callback and the task's context.
        self._waker: Callable[[Any], object] | None = None
        self._context: contextvars.Context | None = None

    # ------------------------------------------------------------------ told by a tick

    # A poll that answered counts (``polls``, ``failure`` cleared) in ``Tick._saw``, which
    # tells a wait only a status change or an end (a running job's payload is not kept).

    def tell(self, status: str, payload: Any, ended: bool) -> bool:
        """Queue a status change or an end for the wait, and wake it (True: woken)."""
        if status != self.status:  # one string per status in the schedule, not one per wait
            assert self.schedule is not None
            self.status = status = self.schedule.status(status)
        news = self.news
        if news is None:
            self.news = [(status, payload)]
        else:
            last = news[-1]
            if isinstance(last, tuple) and last[0] == status:
                news[-1] = (status, payload)  # the same end again: its freshest payload
            else:
                news.append((status, payload))
        self._wake()
        return True

    def failed(self, error: BaseException, failure: str) -> None:
        """A poll failed with ``error`` (``failure``: its text for a time-out's message)."""
        self.polls += 1
        self.failure = failure
        news = self.news
        if news is None:
            self.news = [error]
        elif isinstance(news[-1], BaseException):
            news[-1] = error  # failures in a row while the wait was busy: the last one counts
        else:
            news.append(error)
        self._wake()

    def stop(self, error: BaseException) -> None:
        """The wait must end with ``error`` (its own instance): its hook closed."""
        if self.news is None:
            self.news = [error]
        else:
            self.news.append(error)
        self._wake()

    def expire(self) -> None:
        """The wait's deadline timer: wake it to raise ``JobTimeoutError``."""
        self.expired = True
        self._wake()

    def _wake(self) -> None:
        """Call its sleeping task back (as a future that is done would), if it sleeps."""
        waker = self._waker
        if waker is not None:
            self._waker = None
            assert self._loop is not None
            self._loop.call_soon(waker, self, context=self._context)

    # ------------------------------------------------------------------ read by the wait

    def keep_from(self) -> float:
        """Loop time from which it keeps payloads (its deadline near: its deadline's bucket's,
        ``Deadlines``); never without a deadline; always once expired (its bucket, fired, is
        gone, and what it reads until it ends is its time-out's payload)."""
        bucket = self.bucket
        if bucket is not None:
            return float(bucket.keep_from)
        return -math.inf if self.expired else math.inf

    def take_news(self) -> list[News]:
        news, self.news = self.news, None
        return news or []

    def keep(self, payload: Any) -> None:
        """Keep ``payload`` (of the status the wait just read) for a time-out's result (a
        ``Deferred`` one as its bytes), once its deadline is near (``keep_from``; the ticks
        then tell it each payload); until then nothing: a payload for each of thousands of
        sleeping waits, replaced at every status change, held more memory than the waits."""
        assert self.schedule is not None
        loop = self._loop
        if loop is not None and loop.time() < self.keep_from():
            self.kept = None
            return
        self.kept = self.schedule.payloads.pack(payload)

    def last_payload(self) -> Any:
        """The payload of the last status seen: unread news first, else the kept one."""
        for item in reversed(self.news or ()):
            if isinstance(item, tuple):
                payload = item[1]
                return payload.full() if type(payload) is Deferred else payload
        return None if self.schedule is None else self.schedule.payloads.unpack(self.kept)

    def __repr__(self) -> str:
        news = len(self.news) if self.news else 0
        return (
            f"<WaitState {self.plan.kind} {self.job_id} status={self.status}"
            f" polls={self.polls} interval={self.interval:g}s news={news}"
            f"{' sleeping' if self._waker is not None else ''}>"
        )

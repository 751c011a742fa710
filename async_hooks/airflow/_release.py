"""Events released in slices, one slice per trigger-runner cycle.

Airflow's triggerer runner sends every event queued since its last cycle in one message; its
supervisor then persists them one database transaction each (13-25 ms an event measured on two
busy cores) and, while it does, neither heartbeats nor reads the runner. When 5,000 waits end in
one tick, that is one ~100 s ``handle_events``: past ``runner_health_check_threshold`` (30 s by
default) the supervisor logs "TriggerRunner subprocess event loop appears deadlocked", skips its
heartbeat, and the scheduler may hand every trigger to another triggerer.

So a loop's ``WaitForJobTrigger``s take turns: at most ``slice_size()`` events are released into
the runner's queue until the runner has taken them (its queue is empty again, which happens when
it builds its next message to the supervisor); then the next slice goes. Events that do not end
together never wait. The runner's queue is found up the call stack of the trigger's ``run``
(Airflow's ``run_trigger`` iterates it); where it cannot be found (``dag.test()``, another
Airflow) nothing is paced.
"""

from __future__ import annotations

import asyncio
import collections
import sys
import types
import weakref
from typing import Any

__all__ = ["PER_EVENT_SECONDS", "EventGate", "gate", "slice_size"]

#: The most the supervisor spent per event in our measurements (Airflow 3.3.2, PostgreSQL, two
#: loaded cores): select the task instance, set its state, push the XCom, insert a callback row.
PER_EVENT_SECONDS = 0.025
#: Slices one ``handle_events`` may see at worst (one queued behind the message in flight).
_SLICES_PER_BATCH = 2
#: Share of the health threshold one ``handle_events`` may take.
_SHARE = 1 / 3
#: How often a waiting slice checks whether the runner took the last one.
_CHECK_EVERY = 0.05
#: A slice the runner has not taken by then (a trigger cancelled mid-event) no longer holds the
#: next one back.
_GIVE_UP_AFTER = 60.0

#: How far up the call stack ``run_trigger`` may be from the trigger's ``run``.
_FRAMES_UP = 40

_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, EventGate] = (
    weakref.WeakKeyDictionary()
)


def slice_size(threshold: float | None = None) -> int:
    """Events per slice: two slices persist within a third of the runner's health threshold
    (``[triggerer] runner_health_check_threshold``, or the heartbeat threshold where that is
    smaller) at ``PER_EVENT_SECONDS`` each: 200 with Airflow's defaults (30 s)."""
    if threshold is None:
        threshold = _health_threshold()
    budget = threshold * _SHARE / _SLICES_PER_BATCH
    return max(10, int(budget / PER_EVENT_SECONDS))


def _health_threshold() -> float:
    try:
        from airflow.configuration import conf

        values = [
            conf.getfloat("triggerer", "runner_health_check_threshold", fallback=30.0),
            conf.getfloat("triggerer", "triggerer_health_check_threshold", fallback=30.0),
        ]
    except Exception:  # no Airflow configuration here: its defaults
        return 30.0
    positive = [value for value in values if value > 0]
    return min(positive) if positive else 30.0


class EventGate:
    """One loop's turns: ``await turn()`` before yielding an event, ``sent()`` once yielded."""

    __slots__ = ("_queue", "_size", "_waiting", "_watch", "admitted", "sent_count", "since")

    def __init__(self, queue: collections.deque[Any] | None, size: int) -> None:
        self._queue, self._size = queue, size
        self._waiting: collections.deque[asyncio.Future[None]] = collections.deque()
        self._watch: asyncio.Task[None] | None = None
        self.admitted = 0  # in the current slice
        self.sent_count = 0  # of the current slice, in the runner's queue or beyond
        self.since = 0.0  # when the current slice filled (loop time)

    def __repr__(self) -> str:
        return (
            f"<EventGate slice={self._size} admitted={self.admitted} sent={self.sent_count}"
            f" waiting={len(self._waiting)}>"
        )

    async def turn(self) -> None:
        """Return when this trigger's event may be released."""
        if self._queue is None:
            return
        if not self._waiting:
            self._next_if_taken()
            if self.admitted < self._size:
                self._admit()
                return
        future = asyncio.get_running_loop().create_future()
        self._waiting.append(future)
        if self._watch is None or self._watch.done():
            self._watch = asyncio.ensure_future(self._release())
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.sent()  # admitted, but it will never yield: its place is free
            elif future in self._waiting:
                self._waiting.remove(future)
            raise

    def sent(self) -> None:
        """The admitted event is in the runner's queue (or never will be)."""
        self.sent_count += 1

    def _admit(self) -> None:
        self.admitted += 1
        if self.admitted == self._size:
            self.since = asyncio.get_running_loop().time()

    def _next_if_taken(self) -> None:
        """Open the next slice once the runner took every event of a full one (or a slice has
        been stuck so long that a trigger cancelled mid-event must be holding it)."""
        if self.admitted < self._size:
            return
        taken = self.sent_count >= self.admitted and not self._queue
        stuck = asyncio.get_running_loop().time() - self.since > _GIVE_UP_AFTER
        if taken or stuck:
            self.admitted = self.sent_count = 0

    async def _release(self) -> None:
        try:
            await self._release_all()
        finally:
            self._watch = None  # a finished task would hold the loop, the gate being per loop

    async def _release_all(self) -> None:
        while self._waiting:
            await asyncio.sleep(_CHECK_EVERY)
            self._next_if_taken()
            while self._waiting and self.admitted < self._size:
                future = self._waiting.popleft()
                if not future.done():
                    self._admit()
                    future.set_result(None)


def gate() -> EventGate:
    """This loop's gate, made by the first trigger that asks from inside Airflow's runner."""
    loop = asyncio.get_running_loop()
    found = _gates.get(loop)
    if found is None:
        found = _gates[loop] = EventGate(_runner_queue(), slice_size())
    return found


def _runner_queue() -> collections.deque[Any] | None:
    """The trigger runner's outbound event queue, from the frame of Airflow's
    ``TriggerRunner.run_trigger`` that is iterating this trigger's ``run()`` (up the call
    stack: greenback's portal wraps the task's own coroutine, so the task cannot tell);
    ``None`` outside a triggerer."""
    frame: types.FrameType | None = sys._getframe(1)
    for _ in range(_FRAMES_UP):
        if frame is None:
            return None
        if frame.f_code.co_name == "run_trigger":
            runner = frame.f_locals.get("self")
            events = getattr(runner, "events", None)
            if type(runner).__name__ == "TriggerRunner" and isinstance(events, collections.deque):
                return events
        frame = frame.f_back
    return None

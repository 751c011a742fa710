"""Events released in slices: at most one slice on its way to Airflow's supervisor at once.

Airflow's triggerer runner sends every event queued since its last cycle in one message; its
supervisor then persists them one database transaction each (9-31 ms an event measured on two
busy cores) and, while it does, neither heartbeats nor reads the runner. When 5,000 waits end in
one tick, that is one ~100 s ``handle_events``: past ``runner_health_check_threshold`` (30 s by
default) the supervisor logs "TriggerRunner subprocess event loop appears deadlocked", skips its
heartbeat, and the scheduler may hand every trigger to another triggerer.

So a loop's ``WaitForJobTrigger``s take turns: at most a window of events are on their way at
once (released and not yet taken by the runner into its next message to the supervisor); each
message the runner sends makes room for as many more. Events that do not end together never
wait. The window starts at ``slice_size()``, sized for what an event typically costs
(``PER_EVENT_SECONDS``); once the runner has taken three messages of a burst, it is sized for
what this supervisor spends (``PersistCost``: an upper bound read from when the runner takes
events, kept for the next burst), so a fast database gets fewer, larger messages and a slow one
smaller ones, each persisted within the same share of the health threshold. The runner's
queue is found up the call stack of the trigger's ``run`` (Airflow's ``run_trigger`` iterates
it); where it cannot be found (``dag.test()``, another Airflow) nothing is paced.
"""

from __future__ import annotations

import asyncio
import collections
import sys
import types
import weakref
from typing import Any

from async_hooks.airflow._persist_cost import PersistCost

__all__ = ["PER_EVENT_SECONDS", "EventGate", "gate", "slice_size"]

#: What the supervisor typically spends per event until this one's cost is measured (select the
#: task instance, set its state, push the XCom, insert a callback row): the median over 198
#: bursts we measured was 14.6 ms (Airflow 3.3.2, PostgreSQL, two loaded cores; 8.8-20.6 ms for
#: nine in ten, the dearest 24-31 ms). Until 2026-12-08 it was the most (25 ms). Airflow's runner
#: queues an event only once its "Trigger fired event" line is written, and the supervisor
#: drains those lines only between two persists, so a window held back events that the runner
#: would have sent together: at the benchmark's 20 s threshold, a first window of 400 split
#: 2,000 events ending together into 7-8 messages where Airflow's own trigger made 3-5, each
#: more costing a runner cycle, and the end phase took 1.11-1.25x the floor's; with 666 (this
#: value) 0.99-1.12x, 800 1.00-1.06x, none 0.94-1.04x (``window-typical-2000.md``).
PER_EVENT_SECONDS = 0.015
#: Share of the health threshold one ``handle_events`` may take at ``PER_EVENT_SECONDS``. Half:
#: the supervisor answers a message before it persists its events (``handle_requests``, then
#: ``handle_events``, then its heartbeat, in one iteration of its loop), so it heartbeats between
#: two messages' events; but it judges the runner alive by the age of the runner's last message,
#: which one persist ages by its own length and the runner's one-second cycle. The other half is
#: the margin for a dearer event: a first window persists inside the threshold at up to twice
#: the typical cost (30 ms an event), and from the fourth message of a burst on the window
#: follows the cost measured. (A third, until 2026-12-06, cut 2,000 events ending
#: together into 9 messages where Airflow's own triggers made 4.)
_SHARE = 1 / 2
#: The least a measured event may cost: a transaction and its round trips to the database
#: (about three times that on two busy cores); bounds the window however cheap events look.
LEAST_PER_EVENT_SECONDS = 0.004
#: A take of fewer events than this (or than half a smaller window) says more of the runner's
#: one-second cycle than of the supervisor: it does not size the window.
_LEAST_MEASURED = 50
#: How often waiting events look whether the runner took some into a message.
_CHECK_EVERY = 0.05
#: A window that has not moved for this long (a trigger cancelled mid-event) is cleared.
_GIVE_UP_AFTER = 60.0

#: How far up the call stack ``run_trigger`` may be from the trigger's ``run``.
_FRAMES_UP = 40

_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, EventGate] = (
    weakref.WeakKeyDictionary()
)


def slice_size(threshold: float | None = None) -> int:
    """Events on their way at most until the supervisor's cost is measured: one message of
    them persists within ``budget()`` at ``PER_EVENT_SECONDS`` each: 1,000 with Airflow's
    defaults (30 s)."""
    return window(budget(threshold), PER_EVENT_SECONDS)


def budget(threshold: float | None = None) -> float:
    """Seconds one message's events may take to persist: half the runner's health threshold
    (``[triggerer] runner_health_check_threshold``, or the heartbeat threshold where that is
    smaller)."""
    if threshold is None:
        threshold = _health_threshold()
    return threshold * _SHARE


def window(seconds: float, per_event: float) -> int:
    """Events that persist within ``seconds`` at ``per_event`` each (at least 10)."""
    return max(10, int(seconds / max(per_event, LEAST_PER_EVENT_SECONDS)))


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
    """One loop's window of events on their way to the supervisor: ``await turn()`` before
    yielding an event, ``sent()`` once it is yielded (then in the runner's queue).

    An event is on its way from its turn until the runner takes it from its queue into a
    message. At most ``size`` are on their way at once, so no message carries more; each
    message the runner sends makes room for as many more, which go into the next one. With a
    ``budget`` (seconds a message may take to persist), the size follows the supervisor's
    measured cost per event once a burst has shown it."""

    __slots__ = (
        "_budget",
        "_cost",
        "_queue",
        "_size",
        "_waiting",
        "_watch",
        "admitted",
        "sent_count",
        "since",
    )

    def __init__(
        self, queue: collections.deque[Any] | None, size: int, budget: float | None = None
    ) -> None:
        self._queue, self._size, self._budget = queue, size, budget
        self._cost = PersistCost()
        self._waiting: collections.deque[asyncio.Future[None]] = collections.deque()
        self._watch: asyncio.Task[None] | None = None
        self.admitted = 0  # events given their turn
        self.sent_count = 0  # of those, yielded: in the runner's queue or beyond
        self.since = 0.0  # when the window last moved (loop time)

    def __repr__(self) -> str:
        return (
            f"<EventGate window={self._size} on_their_way={self._on_their_way()}"
            f" waiting={len(self._waiting)} cost={self._cost!r}>"
        )

    @property
    def size(self) -> int:
        """Events on their way at most, now."""
        return self._size

    async def turn(self) -> None:
        """Return when this trigger's event may be released."""
        if self._queue is None:
            return
        if not self._waiting and self._room() > 0:
            self._admit()
            return
        future = asyncio.get_running_loop().create_future()
        self._waiting.append(future)
        if self._watch is None or self._watch.done():
            self.since = asyncio.get_running_loop().time()
            self._watch = asyncio.ensure_future(self._release())
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.admitted -= 1  # admitted, but it will never yield: its place is free
            elif future in self._waiting:
                self._waiting.remove(future)
            raise

    def sent(self) -> None:
        """The admitted event is in the runner's queue (or never will be)."""
        self.sent_count += 1

    def _on_their_way(self) -> int:
        """Events admitted and not yet yielded, and those in the runner's queue (any
        trigger's: the message carries them all)."""
        return self.admitted - self.sent_count + len(self._queue or ())

    def _room(self) -> int:
        return self._size - self._on_their_way()

    def _admit(self) -> None:
        self.admitted += 1

    async def _release(self) -> None:
        try:
            await self._release_all()
        finally:
            self._watch = None  # a finished task would hold the loop, the gate being per loop

    def _measure(self, now: float) -> None:
        """Look at the runner's queue; size the window by the supervisor's cost once known."""
        queued = len(self._queue or ())
        least = min(_LEAST_MEASURED, max(1, self._size // 2))
        self._cost.look(now, queued, self.sent_count, least)
        if self._budget is not None and self._cost.per_event is not None:
            self._size = window(self._budget, self._cost.per_event)

    async def _release_all(self) -> None:
        loop = asyncio.get_running_loop()
        self._cost.restart(len(self._queue or ()), self.sent_count)
        while self._waiting:
            await asyncio.sleep(_CHECK_EVERY)
            self._measure(loop.time())
            room = self._room()
            if room <= 0 and loop.time() - self.since > _GIVE_UP_AFTER:
                # Admitted events that never yielded (a trigger cancelled mid-event, its
                # generator not yet closed) must not hold the window for good.
                self.sent_count = self.admitted
                self._cost.restart(len(self._queue or ()), self.sent_count)
                room = self._room()
            if room > 0:
                self.since = loop.time()
            while self._waiting and room > 0:
                future = self._waiting.popleft()
                if not future.done():
                    self._admit()
                    future.set_result(None)
                    room -= 1


def gate() -> EventGate:
    """This loop's gate, made by the first trigger that asks from inside Airflow's runner."""
    loop = asyncio.get_running_loop()
    found = _gates.get(loop)
    if found is None:
        seconds = budget()
        found = _gates[loop] = EventGate(
            _runner_queue(), window(seconds, PER_EVENT_SECONDS), seconds
        )
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

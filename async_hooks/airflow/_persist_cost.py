"""What Airflow's supervisor spends persisting one event, read from when its runner takes events.

The runner takes every queued event into a message once per cycle and sends the next message
only after the supervisor has answered this one; the supervisor answers a message once it has
persisted the previous message's events (a database transaction each), refreshed its triggers
and heartbeat. So the time from one take to the next is what the events of the take before
cost, plus that fixed work, or the runner's own cycle (about a second) when the supervisor kept
up: always at least the per-event cost, and close to it while the supervisor is behind, which
is when a window of events on their way matters. A small take's bound is loose (its time is
mostly that fixed work and the cycle), a large one's tight; each is an upper bound, so the least
of the last few is one too, and the tightest.
"""

from __future__ import annotations

import collections

__all__ = ["PersistCost"]

#: The takes' bounds the cost is the least of: a few, so that a supervisor grown slower since
#: is followed within a burst.
BOUNDS_KEPT = 4


class PersistCost:
    """Seconds per event: the least of the upper bounds the last takes of the runner's queue
    gave (``BOUNDS_KEPT``), kept across bursts until newer takes replace them.

    ``look()`` once every few tens of milliseconds with the queue's length and how many events
    went into it since the start: a take shows as a queue shorter than what entered it. Events
    other triggers queued (not counted as entered) only make a take look smaller, so the bound
    only grows looser, never wrong."""

    __slots__ = ("_bounds", "_entered", "_looked", "_queued", "_takes", "per_event")

    def __init__(self) -> None:
        self._queued = 0
        self._entered = 0
        self._looked: float | None = None  # the last look's time
        # (the look before it, the look that saw it, its events) per take: the take happened
        # in between, however late a held loop made the second look
        self._takes: collections.deque[tuple[float, float, int]] = collections.deque(maxlen=3)
        self._bounds: collections.deque[float] = collections.deque(maxlen=BOUNDS_KEPT)
        self.per_event: float | None = None

    def __repr__(self) -> str:
        per_event = "unknown" if self.per_event is None else f"{self.per_event * 1000:.1f} ms"
        return f"<PersistCost per_event={per_event} takes_seen={len(self._takes)}>"

    def restart(self, queued: int, entered: int) -> None:
        """Watch from here (earlier takes are of another burst); the cost measured stays."""
        self._queued, self._entered = queued, entered
        self._looked = None
        self._takes.clear()

    def look(self, now: float, queued: int, entered: int, least: int) -> None:
        """One look at the queue: ``queued`` events in it, ``entered`` the events that went into
        it so far. A take of fewer than ``least`` events measures nothing: the runner's cycle,
        not the supervisor, spaces small ones."""
        taken = self._queued + (entered - self._entered) - queued
        before, self._looked = self._looked, now
        self._queued, self._entered = queued, entered
        if taken <= 0 or before is None:
            return
        self._takes.append((before, now, taken))
        if len(self._takes) == self._takes.maxlen:
            (_, _, measured), (after, _, _), (_, by, _) = self._takes
            if measured >= least:
                # From the earliest the next take can have been to the latest the one after
                # it was: never shorter than the time between them.
                self._bounds.append((by - after) / measured)
                self.per_event = min(self._bounds)

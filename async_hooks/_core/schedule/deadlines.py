"""The deadlines of a schedule's waits: one timer per ``RESOLUTION`` of deadlines.

A timer per wait (``loop.call_at``) costs a ``TimerHandle``, a bound method and a heap entry:
about 250 bytes for each of 100,000 waits, most of which never time out. Waits whose deadlines
fall in one bucket share one timer instead, in a list (a pointer each: a set costs about 80
bytes a member), and a wait that ends leaves its bucket at once, its place taken by the
bucket's last member (a bucket left empty cancels its timer), so nothing outlives its wait.
A wait expires at the end of its bucket: never before its deadline, at most ``RESOLUTION``
after it. A bucket holds at most ``BUCKET_MAX`` waits (a full one is followed by another, with
a timer of its own): a wait's place in it stays one of CPython's cached small ints, where a
place of 257 or more is an int object of 28 bytes a wait.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from async_hooks._core.schedule.state import WaitState

__all__ = ["RESOLUTION", "Deadlines"]

#: Seconds of deadlines one timer covers.
RESOLUTION = 0.05
#: Waits one bucket holds (places 0-255: CPython's cached ints cost nothing a wait).
BUCKET_MAX = 256


class _Bucket:
    __slots__ = ("deadlines", "handle", "keep_from", "members", "slot")

    def __init__(self, deadlines: Deadlines, slot: int) -> None:
        self.deadlines = deadlines
        self.slot = slot
        #: From when its waits keep payloads for a time-out's result: the earliest of theirs (a
        #: float a bucket, not a wait: 24 bytes each of 100,000 waits).
        self.keep_from = math.inf
        self.members: list[WaitState] = []
        self.handle: asyncio.TimerHandle | None = None

    def fire(self) -> None:
        """The timer's callback: a bound method, not ``(Deadlines._fire, (bucket,))``, whose
        tuple of 48 bytes, made while thousands of waits join, pinned a pymalloc pool apiece
        among the blocks they freed (100,000 waits: 4.5 MiB of RSS)."""
        self.deadlines._fire(self)


class Deadlines:
    """Expires (``WaitState.expire``) the waits whose deadlines passed."""

    __slots__ = ("_buckets", "_full")

    def __init__(self) -> None:
        self._buckets: dict[int, _Bucket] = {}  # the bucket each slot's deadlines go in now
        self._full: set[_Bucket] = set()  # buckets that were filled, still holding waits

    def add(self, member: WaitState, deadline: float, keep_from: float = math.inf) -> None:
        """Expire ``member`` once ``deadline`` (loop time) has passed, unless it leaves first;
        its bucket's ``keep_from`` is at most ``keep_from``."""
        slot = math.ceil(deadline / RESOLUTION)
        bucket = self._buckets.get(slot)
        if bucket is None or len(bucket.members) >= BUCKET_MAX:
            if bucket is not None:
                self._full.add(bucket)
            bucket = self._buckets[slot] = _Bucket(self, slot)
            bucket.handle = asyncio.get_running_loop().call_at(
                slot * RESOLUTION, bucket.fire, context=contextvars.Context()
            )
        if keep_from < bucket.keep_from:
            bucket.keep_from = keep_from
        member.bucket = bucket
        member.place = len(bucket.members)
        bucket.members.append(member)

    def remove(self, member: WaitState) -> None:
        """``member`` no longer needs its deadline (it ended); idempotent."""
        bucket: _Bucket | None = member.bucket
        if bucket is None:
            return
        member.bucket = None
        members, place = bucket.members, member.place
        last = members.pop()
        if last is not member:  # the last member takes the leaver's place
            members[place] = last
            last.place = place
        if not members:
            self._forget(bucket)
            if bucket.handle is not None:
                bucket.handle.cancel()

    def _forget(self, bucket: _Bucket) -> None:
        if self._buckets.get(bucket.slot) is bucket:
            del self._buckets[bucket.slot]
        else:
            self._full.discard(bucket)

    def _fire(self, bucket: _Bucket) -> None:
        self._forget(bucket)
        members, bucket.members = bucket.members, []
        for member in members:
            member.bucket = None
            member.expire()

    def close(self) -> None:
        """Cancel every timer (the loop shuts down)."""
        for bucket in (*self._buckets.values(), *self._full):
            if bucket.handle is not None:
                bucket.handle.cancel()
        self._buckets.clear()
        self._full.clear()

    def __len__(self) -> int:
        """The timers armed: one a bucket."""
        return len(self._buckets) + len(self._full)

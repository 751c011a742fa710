"""The deadlines of a schedule's waits: one timer per ``RESOLUTION`` of deadlines.

A timer per wait (``loop.call_at``) costs a ``TimerHandle``, a bound method and a heap entry:
about 250 bytes for each of 100,000 waits, most of which never time out. Waits whose deadlines
fall in one bucket share one timer instead, in a list (a pointer each: a set costs about 80
bytes a member), and a wait that ends leaves its bucket at once, its place taken by the
bucket's last member (a bucket left empty cancels its timer), so nothing outlives its wait.
A wait expires at the end of its bucket: never before its deadline, at most ``RESOLUTION``
after it.
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


class _Bucket:
    __slots__ = ("handle", "members", "slot")

    def __init__(self, slot: int) -> None:
        self.slot = slot
        self.members: list[WaitState] = []
        self.handle: asyncio.TimerHandle | None = None


class Deadlines:
    """Expires (``WaitState.expire``) the waits whose deadlines passed."""

    __slots__ = ("_buckets",)

    def __init__(self) -> None:
        self._buckets: dict[int, _Bucket] = {}

    def add(self, member: WaitState, deadline: float) -> None:
        """Expire ``member`` once ``deadline`` (loop time) has passed, unless it leaves first."""
        slot = math.ceil(deadline / RESOLUTION)
        bucket = self._buckets.get(slot)
        if bucket is None:
            bucket = self._buckets[slot] = _Bucket(slot)
            bucket.handle = asyncio.get_running_loop().call_at(
                slot * RESOLUTION, self._fire, bucket, context=contextvars.Context()
            )
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
        if not members and self._buckets.get(bucket.slot) is bucket:
            del self._buckets[bucket.slot]
            if bucket.handle is not None:
                bucket.handle.cancel()

    def _fire(self, bucket: _Bucket) -> None:
        if self._buckets.get(bucket.slot) is bucket:
            del self._buckets[bucket.slot]
        members, bucket.members = bucket.members, []
        for member in members:
            member.bucket = None
            member.expire()

    def close(self) -> None:
        """Cancel every timer (the loop shuts down)."""
        for bucket in self._buckets.values():
            if bucket.handle is not None:
                bucket.handle.cancel()
        self._buckets.clear()

    def __len__(self) -> int:
        return len(self._buckets)

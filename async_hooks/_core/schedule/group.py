"""A *group*: the waits of one schedule that share a poll interval, and the timer of their
next tick."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from async_hooks._core.schedule.state import WaitState

__all__ = ["Group", "coalescing_window"]


def coalescing_window(poll_interval: float) -> float:
    """How long a new group gathers waits before its first tick: a tenth of the interval, at
    most one second. Waits started together meet in that tick and stay in step after it."""
    return min(poll_interval * 0.1, 1.0)


class Group:
    """The waits of one interval (by job id; waits on one id are chained by ``twin``), and the
    timer of their next tick."""

    __slots__ = ("handle", "interval", "jitter", "members", "next_at", "soon", "window")

    def __init__(self, interval: float, jitter: float) -> None:
        self.interval = interval
        self.jitter = jitter  # spreads a tick's single describes (kinds without a batch call)
        self.window = coalescing_window(interval)
        self.members: dict[str, WaitState] = {}
        self.handle: asyncio.TimerHandle | None = None
        self.next_at = 0.0  # loop time of its next tick (when ``handle`` was armed)
        self.soon: asyncio.TimerHandle | None = None  # an extra tick for newcomers, if any

    def next_tick(self) -> float:
        """When its next regular tick starts (a running tick re-arms one interval on)."""
        return self.next_at if self.handle is not None else self.next_at + self.interval

    def arm(self, when: float, callback: Callable[[Group], None]) -> None:
        # A fresh context: the tick must not run in (nor keep alive) the context of the wait
        # that happened to arm it (Airflow routes log lines by the trigger in the context).
        self.next_at = when
        self.handle = asyncio.get_running_loop().call_at(
            when, callback, self, context=contextvars.Context()
        )

    def arm_soon(self, callback: Callable[[Group], None]) -> None:
        """An extra tick, after the gathering window, for the waits not yet polled (once)."""
        if self.soon is None:
            loop = asyncio.get_running_loop()
            self.soon = loop.call_at(
                loop.time() + self.window, callback, self, context=contextvars.Context()
            )

    def disarm(self) -> None:
        for handle in (self.handle, self.soon):
            if handle is not None:
                handle.cancel()
        self.handle = self.soon = None

    def __repr__(self) -> str:
        armed = f" next tick at {self.next_at:.2f}" if self.handle is not None else " tick running"
        return f"<Group {self.interval:g}s waits={len(self.members)}{armed}>"

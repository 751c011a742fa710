"""The parts of a shared schedule: a *group* (the waits of one poll interval and the timer of
their next tick) and a *tick* (one round of polls of a group)."""

from __future__ import annotations

import asyncio
import contextvars
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from async_hooks._core.member import Member

__all__ = ["Group", "Tick", "coalescing_window"]


def coalescing_window(poll_interval: float) -> float:
    """How long a new group gathers waits before its first tick: a tenth of the interval, at
    most one second. Waits started together meet in that tick and stay in step after it."""
    return min(poll_interval * 0.1, 1.0)


class Group:
    """The waits of one interval, and the timer of their next tick."""

    __slots__ = ("handle", "interval", "members", "next_at", "soon", "window")

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.window = coalescing_window(interval)
        self.members: dict[str, Member] = {}
        self.handle: asyncio.TimerHandle | None = None
        self.next_at = 0.0  # loop time of its next tick (when ``handle`` was armed)
        self.soon: asyncio.TimerHandle | None = None  # an extra tick for newcomers, if any

    def next_tick(self) -> float:
        """When its next regular tick starts (a running tick re-arms one interval on)."""
        return self.next_at if self.handle is not None else self.next_at + self.interval

    def arm(self, when: float, callback: Any) -> None:
        # A fresh context: the tick must not run in (nor keep alive) the context of the wait
        # that happened to arm it (Airflow routes log lines by the trigger in the context).
        self.next_at = when
        self.handle = asyncio.get_running_loop().call_at(
            when, callback, self, context=contextvars.Context()
        )


class Tick:
    """One tick's shared state: its start, whether it polls alone, the waits that move on."""

    __slots__ = ("alone", "group", "movers", "started")

    def __init__(self, group: Group, started: float, alone: bool) -> None:
        self.group = group
        self.started = started
        self.alone = alone
        self.movers: list[tuple[Member, float]] = []

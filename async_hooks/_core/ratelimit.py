"""The throttle's rate limiter: an ``aiolimiter.AsyncLimiter`` whose rate can change.

A module of its own so that aiolimiter is imported only when a throttle first needs a rate
(a ``rate_limit`` setting, or the first decrease under sustained throttling).
"""

from __future__ import annotations

from aiolimiter import AsyncLimiter

__all__ = ["AdjustableRateLimiter"]


class AdjustableRateLimiter(AsyncLimiter):
    """An ``AsyncLimiter`` whose rate can change while tasks wait on it.

    aiolimiter fixes the rate at construction; changing it means updating the derived
    ``_rate_per_sec`` too. ``tests/test_upstream_pins.py`` pins the upstream code this relies on.
    The burst is one second's calls (at least one call).
    """

    __slots__ = ()

    def __init__(self, rate: float) -> None:
        capacity = max(1.0, rate)
        super().__init__(capacity, capacity / rate)

    @property
    def rate(self) -> float:
        return self.max_rate / self.time_period

    def set_rate(self, rate: float, *, drain: bool = False) -> None:
        """Change the rate; ``drain`` fills the bucket so the new pace starts now, not bursting."""
        self._leak()
        capacity = max(1.0, rate)
        self.max_rate = capacity
        self.time_period = capacity / rate
        self._rate_per_sec = rate
        self._level = capacity if drain else min(self._level, capacity)
        self._wake_next()

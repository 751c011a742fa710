"""The adaptive throttle: one per (provider, scope, limits) on each event loop.

Concurrency is an ``anyio.CapacityLimiter`` (its ``total_tokens`` can change while tasks wait);
rate is an ``aiolimiter.AsyncLimiter`` whose rate we adjust. Both shrink together when the
provider throttles *sustainedly* and grow back on success, like botocore's adaptive (CUBIC) mode,
but shared by every caller on the loop instead of kept per client.

A throttle nobody has used for a while is dropped by its loop's state (``LoopState``) and built
afresh when needed again: see ``AdaptiveThrottle.idle``.

anyio, aiolimiter and tenacity are imported when a throttle first needs them (its limiter, its
rate, its retry strategy), not with this module: ``import async_hooks`` stays cheap.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from async_hooks._core.budget import RetryBudget

if TYPE_CHECKING:
    from anyio import CapacityLimiter
    from tenacity import AsyncRetrying

    from async_hooks._core.policy import RetryPolicy
    from async_hooks._core.ratelimit import AdjustableRateLimiter

__all__ = ["AdaptiveThrottle", "Ticket"]

#: CUBIC's multiplicative decrease and scaling constant (botocore uses the same values).
BETA = 0.7
CUBIC_C = 0.4
#: Outcomes older than this (seconds) no longer count towards a decision or the measured rate.
WINDOW = 1.0
MIN_RATE = 0.5
#: "Sustained": at least this many throttled answers, making up at least this share of the
#: answers to requests sent since the last decrease. One throttled answer in a hundred is noise.
SUSTAINED_COUNT = 2
SUSTAINED_SHARE = 0.1
#: Grow the rate limit only when the change is worth re-arming aiolimiter for.
RATE_STEP = 0.02


class _AnyioNotLoaded(Exception):
    """Stands for ``anyio.WouldBlock`` until a throttle imports anyio; never raised."""


#: ``anyio.WouldBlock``, bound when the first throttle imports anyio (no throttle, no acquire).
_WouldBlock: type[Exception] = _AnyioNotLoaded


def _capacity_limiter(total_tokens: int) -> CapacityLimiter:
    global _WouldBlock
    import anyio

    _WouldBlock = anyio.WouldBlock
    return anyio.CapacityLimiter(total_tokens)


def _rate_limiter(rate: float) -> AdjustableRateLimiter:
    from async_hooks._core.ratelimit import AdjustableRateLimiter

    return AdjustableRateLimiter(rate)


def __getattr__(name: str) -> Any:
    """``_AdjustableRateLimiter`` (its old home, which ``tests/test_upstream_pins.py`` uses),
    loaded with aiolimiter only when asked for."""
    if name == "_AdjustableRateLimiter":
        from async_hooks._core.ratelimit import AdjustableRateLimiter

        return AdjustableRateLimiter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Ticket:
    """One admitted request: the borrower identity for the capacity limiter, and its generation."""

    __slots__ = ("generation",)

    def __init__(self, generation: int) -> None:
        self.generation = generation


class AdaptiveThrottle:
    """Admission control shared by every hook on one loop for one scope.

    ``acquire`` waits for a concurrency slot and then for the rate limiter; ``record_*`` feed
    back what the provider answered. A decrease happens only when throttling is sustained among
    requests sent after the previous decrease (a *generation*), so one burst of stale answers
    counts once.

    ``last_used`` is the loop time of its last release (or of its creation): with nothing in
    flight or queued, a throttle unused for ``LoopState.throttle_idle`` (10 minutes) is
    forgotten, and the next call builds a fresh one. What it learnt is stale by then: its
    measurements cover the last second, the provider's buckets have long refilled, and its
    CUBIC curve would lift the rate past the old limit at the first success anyway. A provider
    that still throttles is learnt again within a window (``WINDOW``).
    """

    __slots__ = (
        "_e_throttled",
        "_e_total",
        "_generation",
        "_grow_credit",
        "_k",
        "_last_decrease",
        "_outcomes",
        "_rate",
        "_retrying",
        "_slots",
        "_w_max",
        "_w_successes",
        "budget",
        "last_used",
        "max_concurrency",
        "rate_limit",
        "scope",
    )

    def __init__(
        self,
        scope: str,
        *,
        max_concurrency: int,
        rate_limit: float | None,
        budget: RetryBudget | None,
    ) -> None:
        self.scope = scope
        self.max_concurrency = max_concurrency
        self.rate_limit = rate_limit
        self.budget = budget
        self._slots = _capacity_limiter(max_concurrency)
        self._rate = _rate_limiter(rate_limit) if rate_limit else None
        self._outcomes: deque[tuple[float, int, bool]] = deque()
        self._w_successes = 0
        self._e_total = 0
        self._e_throttled = 0
        self._generation = 0
        self._last_decrease = -math.inf
        self._w_max = 0.0
        self._k = 0.0
        self._grow_credit = 0
        self._retrying: dict[tuple[RetryPolicy, bool], AsyncRetrying] = {}
        self.last_used = _loop_time()

    def retrying(self, policy: RetryPolicy, *, idempotent: bool) -> AsyncRetrying:
        """The tenacity prototype for calls in this scope (``.copy()`` it per call); built
        (and tenacity imported) when a call of this scope first needs a retry."""
        key = (policy, idempotent)
        prototype = self._retrying.get(key)
        if prototype is None:
            from async_hooks._core.retry import build_retrying

            prototype = self._retrying[key] = build_retrying(
                policy, self.budget, idempotent=idempotent
            )
        return prototype

    @property
    def concurrency(self) -> int:
        """The current concurrency limit (shrinks under throttling)."""
        return int(self._slots.total_tokens)

    @property
    def rate(self) -> float | None:
        """The current rate limit in calls per second, or ``None`` while unlimited."""
        return self._rate.rate if self._rate is not None else None

    @property
    def in_flight(self) -> int:
        return self._slots.borrowed_tokens

    @property
    def idle(self) -> bool:
        """Nothing in flight and nobody queued: only then may the throttle be forgotten."""
        slots = self._slots
        return slots.borrowed_tokens == 0 and slots.statistics().tasks_waiting == 0

    async def acquire(self) -> Ticket:
        """A slot, then the rate limiter's permission. A free slot (nobody queued before this
        call, a token left) is taken at once, without anyio's checkpoint: no trip round the
        event loop for a call that does not wait. Otherwise the call queues in FIFO order."""
        ticket = Ticket(self._generation)
        slots = self._slots
        try:
            slots.acquire_on_behalf_of_nowait(ticket)
        except _WouldBlock:
            await slots.acquire_on_behalf_of(ticket)
        if self._rate is not None:
            try:
                await self._rate.acquire()
            except BaseException:
                self.release(ticket)
                raise
        return ticket

    def release(self, ticket: Ticket) -> None:
        """Give the slot back. Every use ends here, so here is where ``last_used`` is kept."""
        self._slots.release_on_behalf_of(ticket)
        self.last_used = asyncio.get_running_loop().time()

    def record_success(self, ticket: Ticket) -> None:
        now = self._record(ticket, throttled=False)
        if self.budget is not None:
            self.budget.refund()
        self._grow(now)

    def record_throttled(self, ticket: Ticket) -> None:
        now = self._record(ticket, throttled=True)
        e_total, e_throttled = self._e_total, self._e_throttled
        if e_throttled >= SUSTAINED_COUNT and e_throttled >= SUSTAINED_SHARE * e_total:
            self._decrease(now)

    def _record(self, ticket: Ticket, *, throttled: bool) -> float:
        now = asyncio.get_running_loop().time()
        outcomes = self._outcomes
        current = ticket.generation == self._generation
        outcomes.append((now, ticket.generation, throttled))
        if not throttled:
            self._w_successes += 1
        if current:
            self._e_total += 1
            self._e_throttled += throttled
        horizon = now - WINDOW
        while outcomes and outcomes[0][0] < horizon:
            _, generation, was_throttled = outcomes.popleft()
            if not was_throttled:
                self._w_successes -= 1
            if generation == self._generation:
                self._e_total -= 1
                self._e_throttled -= was_throttled
        return now

    def _decrease(self, now: float) -> None:
        # The success rate of the last window is the best estimate of what the provider allows;
        # with no success at all, all we know is that the sending rate was too much.
        answers = self._w_successes or len(self._outcomes)
        measured = max(answers / WINDOW, MIN_RATE)
        current = self._rate.rate if self._rate is not None else math.inf
        self._w_max = min(current, measured)
        new_rate = max(MIN_RATE, self._w_max * BETA)
        self._k = (self._w_max * (1 - BETA) / CUBIC_C) ** (1 / 3)
        self._last_decrease = now
        self._generation += 1
        self._e_total = self._e_throttled = 0
        self._grow_credit = 0
        if self._rate is None:
            self._rate = _rate_limiter(new_rate)
        self._rate.set_rate(new_rate, drain=True)
        self._slots.total_tokens = max(1, int(self._slots.total_tokens * BETA))

    def _grow(self, now: float) -> None:
        if self._rate is None:
            return
        since = now - self._last_decrease
        target = CUBIC_C * (since - self._k) ** 3 + self._w_max
        if self.rate_limit is not None:
            target = min(target, self.rate_limit)
        if target > self._rate.rate * (1 + RATE_STEP):
            self._rate.set_rate(target)
        limit = int(self._slots.total_tokens)
        if limit < self.max_concurrency and since > WINDOW:
            self._grow_credit += 1
            if self._grow_credit >= limit:
                self._grow_credit = 0
                self._slots.total_tokens = limit + 1

    def __repr__(self) -> str:
        rate = f"{self.rate:.2f}/s" if self._rate is not None else "unlimited"
        return (
            f"<AdaptiveThrottle {self.scope} concurrency={self.concurrency}/{self.max_concurrency}"
            f" in_flight={self.in_flight} rate={rate} budget={self.budget!r}"
            f" last_used={self.last_used:.1f}>"
        )


def _loop_time() -> float:
    """The running loop's clock (a throttle built outside a loop: the monotonic clock that
    asyncio's loops use)."""
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()

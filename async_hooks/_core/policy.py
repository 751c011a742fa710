"""Retry policy: how many attempts, how long to back off, how much of the budget to spend; and
the one rule of what may be retried (``is_retryable``), read by the call pipeline's fast path
and by the tenacity strategy (``_core/retry.py``) alike."""

from __future__ import annotations

from dataclasses import dataclass

from async_hooks._core.values import is_finite_number
from async_hooks.errors import HookConfigError, ServiceError

__all__ = ["RetryPolicy", "is_retryable"]


def is_retryable(error: BaseException, *, idempotent: bool) -> bool:
    """Whether another attempt is allowed: a retryable category, and safe for this request."""
    if not isinstance(error, ServiceError) or not error.retryable:
        return False
    return idempotent or not error.may_have_acted


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retry settings for every call a hook makes.

    ``max_attempts`` counts every request, the first included. Back-off is exponential with full
    jitter between 0 and ``initial_backoff * 2**retry`` (capped at ``max_backoff``). A provider's
    ``Retry-After`` is a minimum delay, capped at ``max_retry_after`` independently of
    ``max_backoff``. ``budget`` is the capacity of the retry token bucket shared by every call in
    a throttle scope (AWS standard mode: 500); ``None`` disables the budget.
    """

    max_attempts: int = 5
    initial_backoff: float = 0.2
    max_backoff: float = 20.0
    max_retry_after: float = 60.0
    budget: int | None = 500

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise HookConfigError("RetryPolicy.max_attempts must be an int")
        if self.max_attempts < 1:
            raise HookConfigError("RetryPolicy.max_attempts must be at least 1 (the first request)")
        for name in ("initial_backoff", "max_backoff", "max_retry_after"):
            value = getattr(self, name)
            if not is_finite_number(value) or value < 0:
                raise HookConfigError(f"RetryPolicy.{name} must be a finite number >= 0")
        if self.budget is not None and (
            isinstance(self.budget, bool) or not isinstance(self.budget, int) or self.budget < 0
        ):
            raise HookConfigError("RetryPolicy.budget must be an int >= 0 or None")

    @classmethod
    def none(cls) -> RetryPolicy:
        """One attempt, no retries."""
        return cls(max_attempts=1)

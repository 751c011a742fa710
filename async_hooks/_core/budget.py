"""The retry budget: a token bucket that stops retries from storming a sick service."""

from __future__ import annotations

__all__ = ["RetryBudget"]

RETRY_COST = 5
TIMEOUT_RETRY_COST = 10
SUCCESS_REFUND = 1


class RetryBudget:
    """AWS standard mode's retry quota, shared by every call in one throttle scope.

    A transient retry costs 5 tokens, a time-out retry 10, a success returns 1. When the bucket
    cannot pay, the call fails at once with its last error instead of retrying.
    """

    __slots__ = ("_tokens", "capacity")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._tokens = capacity

    @property
    def tokens(self) -> int:
        return self._tokens

    def withdraw(self, *, timeout: bool) -> bool:
        cost = TIMEOUT_RETRY_COST if timeout else RETRY_COST
        if self._tokens < cost:
            return False
        self._tokens -= cost
        return True

    def refund(self) -> None:
        if self._tokens < self.capacity:
            self._tokens = min(self.capacity, self._tokens + SUCCESS_REFUND)

    def __repr__(self) -> str:
        return f"<RetryBudget tokens={self._tokens}/{self.capacity}>"

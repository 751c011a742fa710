"""Retry strategies on tenacity: small composable pieces, assembled once per throttle scope.

Imported (with tenacity) only when a call first needs a retry: the pipeline runs the first
attempt itself and hands tenacity the rest (``_core/hook.py``).

The decision reads only :class:`ServiceError` attributes (its category, ``retry_after``,
``may_have_acted``), so it is the same for every provider. ``CancelledError`` is never retried:
tenacity catches ``BaseException`` in an attempt, and our predicate refuses anything that is not
a retryable ``ServiceError``, so a cancellation re-raises at once; a cancellation during the
back-off sleep propagates out of ``asyncio.sleep`` directly.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt, wait_random_exponential
from tenacity.retry import retry_base
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from async_hooks._core.policy import is_retryable
from async_hooks.errors import ServiceError, ThrottledError, TransientError

if TYPE_CHECKING:
    from async_hooks._core.budget import RetryBudget
    from async_hooks._core.policy import RetryPolicy

__all__ = ["build_retrying", "is_retryable"]

logger = logging.getLogger("async_hooks")


def _failure(retry_state: RetryCallState) -> BaseException | None:
    outcome = retry_state.outcome
    if outcome is None or not outcome.failed:
        return None
    return outcome.exception()


class retry_if_service_allows(retry_base):
    """Retry a retryable ``ServiceError``; never a cancellation, a client error or a result."""

    def __init__(self, *, idempotent: bool) -> None:
        self.idempotent = idempotent

    def __call__(self, retry_state: RetryCallState) -> bool:
        error = _failure(retry_state)
        return error is not None and is_retryable(error, idempotent=self.idempotent)


class wait_jitter_or_retry_after(wait_base):
    """Full-jitter exponential back-off, raised to the provider's ``Retry-After`` if larger."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._jitter = wait_random_exponential(
            multiplier=policy.initial_backoff, max=policy.max_backoff
        )
        self._max_retry_after = policy.max_retry_after

    def __call__(self, retry_state: RetryCallState) -> float:
        delay: float = self._jitter(retry_state)
        error = _failure(retry_state)
        if isinstance(error, ServiceError) and error.retry_after is not None:
            delay = max(delay, min(error.retry_after, self._max_retry_after))
        return delay


class stop_when_budget_empty(stop_base):
    """Stop when the scope's retry budget cannot pay for this retry.

    Evaluated last (after the attempt limit), so tokens are spent only on retries that happen.
    Throttled answers are paced by the throttle instead and cost nothing.
    """

    def __init__(self, budget: RetryBudget) -> None:
        self.budget = budget

    def __call__(self, retry_state: RetryCallState) -> bool:
        error = _failure(retry_state)
        if isinstance(error, ThrottledError):
            return False
        timeout = isinstance(error, TransientError) and error.is_timeout
        if self.budget.withdraw(timeout=timeout):
            return False
        logger.warning("retry budget exhausted: failing fast (%s)", type(error).__name__)
        return True


def _log_retry(retry_state: RetryCallState) -> None:
    """``before_sleep``: count the retry on the hook and log attempt and delay."""
    hook, _throttle, service, operation = retry_state.args[:4]
    error = _failure(retry_state)
    hook._stats.retried(service, operation)
    sleep = retry_state.upcoming_sleep
    logger.info(
        "%s %s %s: %s on attempt %d, retrying in %.2fs",
        hook.provider,
        service,
        operation,
        _describe(error),
        retry_state.attempt_number,
        sleep,
    )


def _describe(error: BaseException | None) -> str:
    if isinstance(error, ServiceError):
        detail = error.code or (str(error.status) if error.status else "")
        return f"{type(error).__name__}({detail})" if detail else type(error).__name__
    return type(error).__name__


def build_retrying(
    policy: RetryPolicy, budget: RetryBudget | None, *, idempotent: bool
) -> AsyncRetrying:
    """A prototype; call ``.copy()`` per call (tenacity keeps per-run state on the object)."""
    stop: Any = stop_after_attempt(policy.max_attempts)
    if budget is not None:
        stop = stop | stop_when_budget_empty(budget)
    return AsyncRetrying(
        stop=stop,
        wait=wait_jitter_or_retry_after(policy),
        retry=retry_if_service_allows(idempotent=idempotent),
        before_sleep=_log_retry,
        reraise=True,
    )

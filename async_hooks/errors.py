"""The exceptions every hook raises (a public leaf module: it imports nothing of async_hooks).

The hierarchy::

    HookError                       root: catch this to catch everything async_hooks raises
    ├── HookConfigError             bad settings, malformed connection URI, unknown conn_id
    ├── HookClosedError             the hook was closed on this event loop
    ├── SyncInAsyncError            a blocking facade called from a thread running an event loop
    ├── ServiceError                the provider answered with an error, or could not be reached
    │   ├── ThrottledError          the provider said "slow down" (HTTP 429, AWS Throttling...)
    │   ├── TransientError          5xx, time-outs, connection resets: worth another try
    │   ├── NotFoundError           404, NoSuchKey, ResourceNotFoundException...
    │   ├── PermissionDeniedError   401/403, AccessDenied
    │   └── HttpError               a non-2xx answer (also an aiohttp.ClientResponseError)
    └── JobError                    a wait ended without success
        ├── JobFailedError          the job reached a failure state (``.reason`` is the provider's)
        └── JobTimeoutError         the wait outlived its ``timeout`` (also a ``TimeoutError``)

Each provider maps its SDK's errors in exactly one place and keeps the SDK error as ``__cause__``;
provider subclasses also inherit the SDK's own exception type (``botocore``'s ``ClientError``,
``aiohttp.ClientResponseError``), so existing ``except`` clauses keep working.

The retry pipeline reads only what is on :class:`ServiceError`: its category (the subclass),
``retry_after`` and ``may_have_acted``. No provider knowledge is needed to decide a retry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from async_hooks._result import JobResult

__all__ = [
    "HookClosedError",
    "HookConfigError",
    "HookError",
    "JobError",
    "JobFailedError",
    "JobTimeoutError",
    "NotFoundError",
    "PermissionDeniedError",
    "ServiceError",
    "SyncInAsyncError",
    "ThrottledError",
    "TransientError",
]


class HookError(Exception):
    """Root of every exception async_hooks raises."""


class HookConfigError(HookError, ValueError):
    """A setting, connection URI or ``conn_id`` is wrong; the message names which."""


class HookClosedError(HookError, RuntimeError):
    """The hook was closed on this event loop; enter ``async with hook:`` again to reopen it."""


class SyncInAsyncError(HookError, RuntimeError):
    """A blocking facade was called from a thread whose event loop it would block."""


class ServiceError(HookError):
    """The provider answered with an error or could not be reached.

    ``status`` is the HTTP status when there was an answer, ``code`` the provider's error code
    (the status as a string for plain HTTP). ``retry_after`` is the delay the provider asked for;
    ``may_have_acted`` is False when the request cannot have been processed (429, 503, connection
    refused), which makes even a non-idempotent request safe to retry.
    """

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        operation: str,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        may_have_acted: bool = True,
    ) -> None:
        # Not super(): provider subclasses also inherit SDK exceptions whose __init__ takes other
        # arguments (aiohttp's ClientResponseError, botocore's ClientError).
        Exception.__init__(self, message)
        self.message = message
        self.provider = provider
        self.operation = operation
        self.status = status
        self.code = code
        self.retry_after = retry_after
        self.may_have_acted = may_have_acted

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_service_error,
            (type(self), self.message, self.__dict__.copy()),
        )


def _rebuild_service_error(
    cls: type[ServiceError], message: str, state: dict[str, Any]
) -> ServiceError:
    """Unpickle without calling ``__init__`` (subclasses with SDK bases take other arguments)."""
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class ThrottledError(ServiceError):
    """The provider asked us to slow down; the throttle shrinks and the call is retried."""

    retryable = True

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("may_have_acted", False)
        super().__init__(message, **kwargs)


class TransientError(ServiceError):
    """A failure that another attempt may not see: 5xx, time-outs, resets.

    ``is_timeout`` marks read and connect time-outs, which cost more of the retry budget.
    """

    retryable = True
    is_timeout: bool = False

    def __init__(self, message: str, *, is_timeout: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.is_timeout = is_timeout


class NotFoundError(ServiceError):
    """The resource does not exist (404, NoSuchKey, ResourceNotFoundException)."""


class PermissionDeniedError(ServiceError):
    """The credentials are not allowed to do this (401, 403, AccessDenied)."""


class JobError(HookError):
    """A wait ended without success. ``result`` holds what the last poll saw."""

    def __init__(self, message: str, *, result: JobResult | None = None) -> None:
        super().__init__(message)
        self.result = result

    @property
    def kind(self) -> str | None:
        return self.result.kind if self.result else None

    @property
    def job_id(self) -> str | None:
        return self.result.job_id if self.result else None


class JobFailedError(JobError):
    """The job reached one of its kind's failure states; ``reason`` is the provider's own text."""

    def __init__(self, message: str, *, result: JobResult, reason: str | None) -> None:
        super().__init__(message, result=result)
        self.reason = reason


class JobTimeoutError(JobError, TimeoutError):
    """The job was still running when the wait's ``timeout`` passed."""

    def __init__(
        self,
        message: str,
        *,
        result: JobResult | None,
        last_status: str | None,
        last_error: str | None = None,
    ) -> None:
        super().__init__(message, result=result)
        self.last_status = last_status
        #: The last poll's error (type and text) when no poll succeeded after it, else None.
        self.last_error = last_error

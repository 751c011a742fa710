"""The AWS hook's one mapping from botocore errors to async_hooks errors.

Answers (``ClientError``): botocore standard mode's throttling codes -> ``ThrottledError``; its
transient codes and 500/502/503/504 -> ``TransientError``; not-found codes and 404 ->
``NotFoundError``; access-denied codes, 401 and 403 -> ``PermissionDeniedError``; any other ->
``ServiceError``. Every one of them is also a ``botocore.exceptions.ClientError`` carrying the
original ``.response`` (its message masked) and botocore's ``.operation_name`` (``DescribeJobs``),
so ``except ClientError`` code keeps working.
No answer (connection errors, time-outs) -> ``TransientError`` that is also the class botocore
raised (``EndpointConnectionError``, ``ReadTimeoutError``, ...), not a ``ClientError``: existing
``except EndpointConnectionError`` code keeps working and ``except ClientError`` code does not
mistake a broken connection for an answer. A host that does not resolve (``mars-north-9``) ->
``HookConfigError`` naming it: no retry makes it exist. Bad parameters, unknown services and
missing regions -> ``HookConfigError``.
"""

from __future__ import annotations

import copy
from typing import Any

from botocore import exceptions as boto
from botocore.retries.standard import ThrottledRetryableChecker, TransientRetryableChecker

from async_hooks._core.redact import Redactor
from async_hooks._core.resolution import unresolvable_host
from async_hooks.errors import (
    HookConfigError,
    NotFoundError,
    PermissionDeniedError,
    ServiceError,
    ThrottledError,
    TransientError,
)

__all__ = [
    "AwsConnectionError",
    "AwsNotFoundError",
    "connection_error_class",
    "map_botocore_error",
    "without_answer",
]

PROVIDER = "aws"
# botocore's own lists, so they stay in step with the SDK (14 throttling codes in 1.43).
THROTTLING_CODES = frozenset(ThrottledRetryableChecker._THROTTLED_ERROR_CODES)
TRANSIENT_CODES = frozenset(TransientRetryableChecker._TRANSIENT_ERROR_CODES) | {
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "InternalServerException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
}
TRANSIENT_STATUSES = frozenset(TransientRetryableChecker._TRANSIENT_STATUS_CODES)
NOT_FOUND_CODES = frozenset(
    {
        "NoSuchKey",
        "NoSuchBucket",
        "NotFound",
        "404",
        "ResourceNotFoundException",
        "ResourceNotFound",
        "EntityNotFoundException",
        "ExecutionDoesNotExist",
        "StateMachineDoesNotExist",
        "ClusterNotFoundException",
        "NoSuchEntity",
    }
)
PERMISSION_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "403",
    }
)


class _AwsAnswerError(ServiceError, boto.ClientError):  # type: ignore[misc]
    """Base of errors carrying an AWS answer: a ``ServiceError`` and a ``ClientError``."""

    def __init__(
        self,
        message: str,
        *,
        response: dict[str, Any],
        operation_name: str | None = None,
        is_timeout: bool = False,
        **kwargs: Any,
    ) -> None:
        ServiceError.__init__(self, message, provider=PROVIDER, **kwargs)
        self.response = response
        self.operation_name = operation_name or _pascal(kwargs["operation"])
        self.is_timeout = is_timeout  # read only on the transient subclasses


class AwsServiceError(_AwsAnswerError):
    """Any other AWS error answer (validation, conflicts...): not retried."""


class AwsThrottledError(_AwsAnswerError, ThrottledError):
    """One of botocore's throttling codes."""


class AwsTransientError(_AwsAnswerError, TransientError):
    """RequestTimeout, internal errors, 500/502/503/504."""


class AwsNotFoundError(_AwsAnswerError, NotFoundError):
    """NoSuchKey, ResourceNotFoundException, 404..."""


class AwsPermissionDeniedError(_AwsAnswerError, PermissionDeniedError):
    """AccessDenied, 401, 403, bad or expired credentials."""


class AwsConnectionError(TransientError):
    """No answer: the endpoint could not be reached, the connection broke, or it timed out.

    Raised as a subclass that is also the botocore exception behind it
    (:func:`connection_error_class`); ``kwargs`` are that exception's, secrets masked.
    """

    def __init__(self, message: str, *, kwargs: dict[str, Any] | None = None, **rest: Any):
        TransientError.__init__(self, message, provider=PROVIDER, **rest)
        self.kwargs = dict(kwargs or {})


_FACES: dict[type[BaseException], type[AwsConnectionError]] = {}


def connection_error_class(botocore_class: type[BaseException]) -> type[AwsConnectionError]:
    """``AwsConnectionError`` that is also ``botocore_class`` (made once, kept in this module
    under ``Aws<Name>`` so that pickling finds it)."""
    face = _FACES.get(botocore_class)
    if face is None:
        name = f"Aws{botocore_class.__name__}"
        face = type(
            name,
            (AwsConnectionError, botocore_class),
            {"__module__": __name__, "__qualname__": name, "__doc__": AwsConnectionError.__doc__},
        )
        _FACES[botocore_class] = face
        globals()[name] = face
    return face


def __getattr__(name: str) -> Any:
    """Rebuild a connection error class on first use (an unpickling process)."""
    botocore_class = (
        getattr(boto, name.removeprefix("Aws"), None) if name.startswith("Aws") else None
    )
    if isinstance(botocore_class, type) and issubclass(botocore_class, boto.BotoCoreError):
        return connection_error_class(botocore_class)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _pascal(operation: str) -> str:
    """botocore's operation name for a snake_case method name (``describe_jobs``)."""
    if not operation or operation[0].isupper():
        return operation
    return "".join(part[:1].upper() + part[1:] for part in operation.split("_"))


def without_answer(
    cls: type[_AwsAnswerError], message: str, *, code: str, operation: str, **kwargs: Any
) -> _AwsAnswerError:
    """An AWS error that had no answer, shaped as botocore's ``ClientError`` would be."""
    response = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {}}
    return cls(message, response=response, operation=operation, code=code, **kwargs)


def _category(code: str, status: int | None) -> type[_AwsAnswerError]:
    if code in THROTTLING_CODES or status == 429:
        return AwsThrottledError
    if code in TRANSIENT_CODES or status in TRANSIENT_STATUSES:
        return AwsTransientError
    if code in NOT_FOUND_CODES or status == 404:
        return AwsNotFoundError
    if code in PERMISSION_CODES or status in (401, 403):
        return AwsPermissionDeniedError
    return AwsServiceError


def map_botocore_error(
    error: BaseException, *, service: str, operation: str, redact: Redactor
) -> BaseException:
    """Map an error raised by aiobotocore; unknown errors pass through unchanged."""
    where = f"{service}.{operation}"
    if isinstance(error, boto.ClientError):
        response: dict[str, Any] = copy.deepcopy(error.response or {})
        details = response.get("Error") or {}
        code = str(details.get("Code") or "")
        status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        text = redact(str(details.get("Message") or ""))
        if isinstance(details, dict) and "Message" in details:
            details["Message"] = text
        cls = _category(code, status)
        retry_after = _retry_after(response)
        return cls(
            f"{where} failed: {code or status}: {text}".rstrip(": "),
            response=response,
            operation=operation,
            operation_name=getattr(error, "operation_name", None),
            status=status,
            code=code or None,
            retry_after=retry_after,
            may_have_acted=cls is not AwsThrottledError and status != 503,
        )
    if isinstance(error, (boto.ConnectionError, boto.HTTPClientError, TimeoutError, OSError)):
        host = unresolvable_host(error)
        if host is not None:
            return HookConfigError(
                f"{where}: the host {host!r} does not resolve: check region_name and endpoint_url"
            )
        return _no_answer(error, where, operation, redact)
    if isinstance(error, boto.ParamValidationError):
        return HookConfigError(f"{where}: {redact(str(error))}")
    if isinstance(error, boto.NoRegionError):
        return HookConfigError(f"{where}: no region: pass region_name= or set AWS_DEFAULT_REGION")
    if isinstance(error, boto.UnknownServiceError):
        return HookConfigError(f"unknown AWS service {service!r}")
    if isinstance(error, (boto.NoCredentialsError, boto.PartialCredentialsError)):
        return HookConfigError(f"{where}: {type(error).__name__}: {error}")
    if isinstance(error, boto.BotoCoreError):
        name = type(error).__name__
        return without_answer(
            AwsServiceError,
            f"{where}: {name}: {redact(_text(error))}",
            code=name,
            operation=operation,
        )
    return error


def _no_answer(
    error: BaseException, where: str, operation: str, redact: Redactor
) -> AwsConnectionError:
    """A connection failure or time-out, as the botocore class it was (or would have been)."""
    if isinstance(error, boto.BotoCoreError):
        face: type[BaseException] = type(error)
    elif isinstance(error, TimeoutError):
        face = boto.ReadTimeoutError  # what aiobotocore raises for an asyncio time-out
    else:
        face = boto.HTTPClientError  # ... and for any other error of the HTTP layer
    kwargs = {
        key: redact(value) if isinstance(value, str) else value
        for key, value in (getattr(error, "kwargs", None) or {}).items()
    }
    return connection_error_class(face)(
        f"{where}: {type(error).__name__}: {redact(_text(error))}",
        kwargs=kwargs,
        operation=operation,
        code=type(error).__name__,
        is_timeout=isinstance(
            error, (boto.ConnectTimeoutError, boto.ReadTimeoutError, TimeoutError)
        ),
        may_have_acted=not isinstance(
            error, (boto.ConnectTimeoutError, boto.EndpointConnectionError)
        ),
    )


def _text(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:  # a half-built SDK error must not hide the real one
        return ""


def _retry_after(response: dict[str, Any]) -> float | None:
    from async_hooks._core.retry_after import parse_retry_after

    headers = (response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    return parse_retry_after(headers.get("retry-after"))

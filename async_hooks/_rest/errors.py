"""The HTTP hook's one mapping from answers and aiohttp errors to async_hooks errors.

Status -> category: 429 throttled; 408, 500, 502, 503, 504 transient; 404, 410 not found;
401, 403 permission denied; any other non-2xx a plain ``HttpError``. 408, 429 and 503 mean the
server did not act, so even a POST may be retried. Errors without an answer: connection refused,
DNS and connect time-outs (the request never left) and resets, disconnects, cut bodies and read
time-outs (it may have been processed) are transient; TLS failures and bad URLs are not, and a
host name that does not exist is a ``HookConfigError`` naming it (a temporary resolver failure
stays transient).
"""

from __future__ import annotations

import asyncio

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from async_hooks._core.redact import MASK, Redactor, is_sensitive
from async_hooks._core.resolution import unresolvable_host
from async_hooks._core.retry_after import parse_retry_after
from async_hooks.errors import (
    HookConfigError,
    NotFoundError,
    PermissionDeniedError,
    ServiceError,
    ThrottledError,
    TransientError,
)

__all__ = [
    "HttpConnectionError",
    "HttpError",
    "ResponseDecodeError",
    "error_for_response",
    "map_aiohttp_error",
]

PROVIDER = "http"
_EXCERPT = 300


class HttpError(ServiceError, aiohttp.ClientResponseError):  # type: ignore[misc]
    """A non-2xx answer left after retries. Also an ``aiohttp.ClientResponseError``.

    ``code`` is the status as a string (aiohttp's deprecated int ``code`` is replaced, without
    its warning); ``body`` holds the answer's bytes; ``request_info`` carries no credentials.
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        status: int,
        headers: CIMultiDictProxy[str] | None = None,
        body: bytes = b"",
        request_info: aiohttp.RequestInfo | None = None,
        retry_after: float | None = None,
        may_have_acted: bool = True,
        provider: str = PROVIDER,
    ) -> None:
        ServiceError.__init__(
            self,
            message,
            provider=provider,
            operation=operation,
            status=status,
            code=str(status),
            retry_after=retry_after,
            may_have_acted=may_have_acted,
        )
        self.headers = headers
        self.history: tuple[aiohttp.ClientResponse, ...] = ()
        self.body = body
        if request_info is not None:
            self.request_info = request_info

    @property  # type: ignore[override]
    def code(self) -> str:
        return str(self.status)

    @code.setter
    def code(self, value: object) -> None:
        """``status`` is the one source of truth; assignments here are ignored."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, message={self.message!r})"


class HttpThrottledError(HttpError, ThrottledError):  # type: ignore[misc]
    """429: the server asks for fewer requests."""


class HttpTransientError(HttpError, TransientError):  # type: ignore[misc]
    """408, 500, 502, 503, 504."""


class HttpNotFoundError(HttpError, NotFoundError):  # type: ignore[misc]
    """404, 410."""


class HttpPermissionDeniedError(HttpError, PermissionDeniedError):  # type: ignore[misc]
    """401, 403."""


class HttpConnectionError(TransientError, aiohttp.ClientConnectionError):
    """No answer: refused, reset, disconnected, timed out. Also an aiohttp connection error."""


class HttpTlsError(ServiceError, aiohttp.ClientConnectionError):
    """The TLS handshake or certificate check failed: retrying will not help."""


class ResponseDecodeError(ServiceError, ValueError):
    """A 2xx answer whose body is not what was asked for (not JSON, not text)."""


_BY_STATUS: dict[int, type[HttpError]] = {
    429: HttpThrottledError,
    408: HttpTransientError,
    500: HttpTransientError,
    502: HttpTransientError,
    503: HttpTransientError,
    504: HttpTransientError,
    404: HttpNotFoundError,
    410: HttpNotFoundError,
    401: HttpPermissionDeniedError,
    403: HttpPermissionDeniedError,
}
_NOT_ACTED = frozenset({408, 429, 503})


def _safe_url(url: URL | str) -> str:
    """Scheme, host, port and path: no query (it may carry a key) and no user info."""
    parsed = URL(str(url))
    try:
        return str(parsed.with_query(None).with_fragment(None).with_user(None))
    except ValueError:
        return parsed.path


def safe_request_info(
    method: str, url: URL, headers: CIMultiDictProxy[str] | CIMultiDict[str]
) -> aiohttp.RequestInfo:
    """aiohttp's ``RequestInfo`` with secret-looking headers masked."""
    masked = CIMultiDict(
        (name, MASK if is_sensitive(name) or name.lower() == "cookie" else value)
        for name, value in headers.items()
    )
    return aiohttp.RequestInfo(url, method, CIMultiDictProxy(masked), url)


def error_for_response(
    *,
    method: str,
    url: URL,
    status: int,
    reason: str | None,
    headers: CIMultiDictProxy[str],
    body: bytes,
    request_headers: CIMultiDictProxy[str] | CIMultiDict[str],
    redact: Redactor,
    provider: str = PROVIDER,
) -> HttpError:
    """The error for a non-2xx answer."""
    cls = _BY_STATUS.get(status, HttpError)
    excerpt = body[:_EXCERPT].decode("utf-8", "replace").strip()
    message = f"{method} {_safe_url(url)} answered {status} {reason or ''}".rstrip()
    if excerpt:
        message += f": {excerpt}"
    return cls(
        redact(message),
        operation=method,
        status=status,
        headers=headers,
        body=body,
        request_info=safe_request_info(method, url, request_headers),
        retry_after=parse_retry_after(headers.get("Retry-After")),
        may_have_acted=status not in _NOT_ACTED,
        provider=provider,
    )


def map_aiohttp_error(
    error: BaseException,
    *,
    method: str,
    url: URL,
    redact: Redactor,
    provider: str = PROVIDER,
) -> BaseException:
    """Map an error raised while talking to the server; unknown errors pass through."""
    where = f"{method} {_safe_url(url)}"
    detail = redact(_detail(error))
    if isinstance(error, aiohttp.ClientResponseError) and not isinstance(error, HttpError):
        status = getattr(error, "status", 0) or 0
        if status >= 400:  # an SDK's raise_for_status(): an answer, mapped like one
            headers = getattr(error, "headers", None)
            return error_for_response(
                method=method,
                url=url,
                status=status,
                reason=getattr(error, "message", None),
                headers=CIMultiDictProxy(CIMultiDict(headers or {})),
                body=b"",
                request_headers=CIMultiDict(),
                redact=redact,
                provider=provider,
            )
    if isinstance(error, aiohttp.InvalidURL):
        return HookConfigError(f"{where}: invalid URL")
    if isinstance(error, (aiohttp.ClientSSLError, aiohttp.ServerFingerprintMismatch)):
        return HttpTlsError(f"{where} failed TLS: {detail}", provider=provider, operation=method)
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return _connection(
            f"{where} timed out connecting", method, provider, timeout=True, acted=False
        )
    if isinstance(error, (aiohttp.ServerTimeoutError, asyncio.TimeoutError, TimeoutError)):
        return _connection(f"{where} timed out", method, provider, timeout=True, acted=True)
    if isinstance(error, aiohttp.ClientConnectorError):
        host = unresolvable_host(error)
        if host is not None:
            return HookConfigError(f"{where}: the host {host!r} does not resolve")
        return _connection(f"{where} could not connect: {detail}", method, provider, acted=False)
    if isinstance(
        error,
        (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, aiohttp.ClientOSError),
    ):
        return _connection(f"{where} lost the connection: {detail}", method, provider, acted=True)
    if isinstance(error, aiohttp.ClientResponseError):
        status = getattr(error, "status", None) or None
        return ServiceError(
            f"{where} failed: {detail}",
            provider=provider,
            operation=method,
            status=status,
            code=str(status) if status else None,
        )
    if isinstance(error, aiohttp.ClientError):
        return ServiceError(f"{where} failed: {detail}", provider=provider, operation=method)
    if isinstance(error, OSError):
        return _connection(f"{where} failed: {detail}", method, provider, acted=True)
    return error


def _connection(
    message: str, method: str, provider: str, *, acted: bool, timeout: bool = False
) -> HttpConnectionError:
    return HttpConnectionError(
        message,
        provider=provider,
        operation=method,
        is_timeout=timeout,
        may_have_acted=acted,
    )


def _detail(error: BaseException) -> str:
    try:
        text = str(error)
    except Exception:
        text = ""
    name = type(error).__name__
    return f"{name}: {text}" if text else name


def decode_error(
    what: str, method: str, url: URL, error: Exception, provider: str = PROVIDER
) -> ResponseDecodeError:
    return ResponseDecodeError(
        f"{method} {_safe_url(url)}: the body is not {what} ({type(error).__name__})",
        provider=provider,
        operation=method,
    )

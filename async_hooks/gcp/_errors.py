"""The GCP hook's one mapping from gcloud-aio and aiohttp errors to async_hooks errors.

Google's APIs are REST: an answer maps as the HTTP hook maps it (404 not found, 401/403
permission denied, 429 throttled, 408/5xx transient), with ``provider="gcp"``; the errors are
also ``HttpError`` and ``aiohttp.ClientResponseError``, as gcloud-aio's own were. A token that
cannot be obtained is a ``PermissionDeniedError``.
"""

from __future__ import annotations

from yarl import URL

from async_hooks._core.redact import Redactor
from async_hooks._rest.errors import HttpError, HttpPermissionDeniedError, map_aiohttp_error
from async_hooks.errors import PermissionDeniedError

__all__ = ["map_gcp_error", "map_token_error"]

PROVIDER = "gcp"


def map_gcp_error(
    error: BaseException, *, service: str, operation: str, redact: Redactor
) -> BaseException:
    return map_aiohttp_error(
        error, method=operation, url=URL(f"https://{service}"), redact=redact, provider=PROVIDER
    )


def map_token_error(error: Exception, *, redact: Redactor) -> BaseException:
    """An access token could not be obtained: unreachable token endpoint (transient), or a
    refused or unreadable grant (permission denied)."""
    mapped = map_aiohttp_error(
        error, method="POST", url=URL("https://oauth2/token"), redact=redact, provider=PROVIDER
    )
    if isinstance(mapped, HttpError) and not mapped.retryable:
        # A refused grant (400 invalid_grant, 401): the credentials, not the request, are wrong.
        return HttpPermissionDeniedError(
            mapped.message,
            operation="token",
            status=mapped.status or 0,
            headers=mapped.headers,  # type: ignore[arg-type]
            provider=PROVIDER,
        )
    if mapped is not error:
        return mapped
    return PermissionDeniedError(
        f"no access token: {type(error).__name__}", provider=PROVIDER, operation="token"
    )

"""The GCP hook's one mapping from gcloud-aio and aiohttp errors to async_hooks errors.

Google's APIs are REST: an answer maps as the HTTP hook maps it (404 not found, 401/403
permission denied, 429 throttled, 408/5xx transient), with ``provider="gcp"``; the errors are
also ``HttpError`` and ``aiohttp.ClientResponseError``, as gcloud-aio's own were. A token that
cannot be obtained is a ``PermissionDeniedError``, unless no request could be made: no
credentials at all (off Google's machines the metadata server does not resolve) or a key that
cannot sign are a ``HookConfigError`` naming ``service_file``.
"""

from __future__ import annotations

from contextvars import ContextVar

import aiohttp
from yarl import URL

from async_hooks._core.redact import Redactor
from async_hooks._core.resolution import unresolvable_host
from async_hooks._rest.errors import HttpError, HttpPermissionDeniedError, map_aiohttp_error
from async_hooks.errors import HookConfigError, HookError, PermissionDeniedError, ServiceError

__all__ = ["STORAGE_TARGET", "map_gcp_error", "map_token_error"]

PROVIDER = "gcp"


#: The object a Cloud Storage call is about (``gs://bucket/name``), set around each call by
#: ``_storage.py``: its errors name the bucket and the object, not only the API.
STORAGE_TARGET: ContextVar[str | None] = ContextVar("async_hooks_gcs_target", default=None)


def map_gcp_error(
    error: BaseException, *, service: str, operation: str, redact: Redactor
) -> BaseException:
    """The error as the HTTP hook maps it, naming the host the request really went to (an
    emulator's, a private endpoint's) and, for Cloud Storage, the object."""
    url = _request_url(error) or URL(f"https://{service}")
    mapped = map_aiohttp_error(error, method=operation, url=url, redact=redact, provider=PROVIDER)
    target = STORAGE_TARGET.get() if service == "storage" else None
    if target is not None and mapped is not error:
        _name_target(mapped, operation, redact(target))
    return mapped


def _name_target(error: BaseException, operation: str, target: str) -> None:
    """``download https://host/...: ...`` -> ``download gs://b/o via https://host/...: ...``."""
    text = str(error)
    if not text.startswith(f"{operation} "):
        return
    text = f"{operation} {target} via {text[len(operation) + 1 :]}"
    error.args = (text, *error.args[1:])
    if isinstance(error, ServiceError):
        error.message = text


def _request_url(error: BaseException) -> URL | None:
    """The URL the failed request went to, as far as the error tells: the whole URL of an
    answer, the scheme, host and port of a connection that failed."""
    info = getattr(error, "request_info", None)  # ClientResponseError
    url = getattr(info, "real_url", None)
    if isinstance(url, URL) and url.host:
        return url
    key = getattr(error, "_conn_key", None)  # ClientConnectorError
    host = getattr(key, "host", None)
    if isinstance(host, str) and host:
        scheme = "https" if getattr(key, "is_ssl", False) else "http"
        return URL.build(scheme=scheme, host=host, port=getattr(key, "port", None))
    return None


#: Where a token comes from when the credentials do not say (service accounts, users).
_DEFAULT_TOKEN_URL = URL("https://oauth2.googleapis.com/token")

#: Found nowhere else: gcloud-aio then asks the GCE metadata server, a host that exists only
#: on Google's machines (``GCE_METADATA_HOST`` moves it).
NO_CREDENTIALS = (
    "no Google credentials: pass service_file or set GOOGLE_APPLICATION_CREDENTIALS"
    " (the metadata server {host!r}, which only Google's machines have, does not resolve)"
)


def _token_url(error: BaseException) -> URL:
    """The token endpoint the failed request went to, as far as the error tells."""
    return _request_url(error) or _DEFAULT_TOKEN_URL


def _metadata_host() -> str | None:
    from gcloud.aio.auth.token import GCE_METADATA_BASE

    return URL(GCE_METADATA_BASE).host


def _metadata_unreachable(error: BaseException) -> bool:
    """The metadata server's name does not resolve (any resolver failure: off Google's
    machines it is no name at all, and a network without DNS answers "try again")."""
    host = _metadata_host()
    if unresolvable_host(error) == host:
        return True
    dns = isinstance(error, aiohttp.ClientConnectorDNSError)
    return dns and _token_url(error).host == host


#: Fields gcloud-aio reads from the credentials (a KeyError naming another one is the answer's).
_CREDENTIAL_FIELDS = frozenset(
    {"client_email", "private_key", "client_id", "client_secret", "refresh_token", "token_uri"}
)


def _config_error(error: Exception) -> HookConfigError | None:
    """A failure before any request: the credentials themselves cannot make a grant."""
    if type(error).__module__.split(".")[0] == "jwt":  # PyJWT: the key cannot sign
        return HookConfigError(
            f"service_file: its private_key cannot sign a token ({type(error).__name__}):"
            " the key file is damaged or not a service-account key"
        )
    field = error.args[0] if isinstance(error, KeyError) and error.args else None
    if isinstance(field, str) and field in _CREDENTIAL_FIELDS:
        return HookConfigError(f"service_file lacks the field {field!r}")
    return None


def map_token_error(error: Exception, *, redact: Redactor) -> BaseException:
    """An access token could not be obtained: no credentials, or credentials that cannot sign
    (configuration), an unreachable token endpoint (transient), or a refused or unreadable
    grant (permission denied)."""
    if isinstance(error, HookError):
        return error
    if _metadata_unreachable(error):
        return HookConfigError(NO_CREDENTIALS.format(host=_metadata_host()))
    config = _config_error(error)
    if config is not None:
        return config
    mapped = map_aiohttp_error(
        error, method="POST", url=_token_url(error), redact=redact, provider=PROVIDER
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

"""Where an ``AsyncHttpHook`` request goes: the base URL from an Airflow connection, and each
request's URL, checked (scheme, host, no credentials, no control characters)."""

from __future__ import annotations

import ipaddress

from yarl import URL

from async_hooks._core.urls import CONTROL_CHARACTERS, absolute_http_url
from async_hooks.errors import HookConfigError

__all__ = ["base_url_from", "check_base_url", "check_url", "checked_url"]


def checked_url(base_url: URL | None, path: str) -> URL:
    """``path`` as an absolute URL: joined to ``base_url`` (checked once, in ``__init__``) when
    relative, fully checked when absolute."""
    if not isinstance(path, str):
        raise HookConfigError(f"path must be a str, not {type(path).__name__}")
    if CONTROL_CHARACTERS.search(path):
        raise HookConfigError("path has a line break or another control character")
    if path.startswith(("http://", "https://")):
        return check_url(path)
    if base_url is None:
        raise HookConfigError(
            "path is relative and the hook has no base_url (or conn_id) to join it to"
        )
    base = str(base_url).rstrip("/")
    try:
        joined = URL(f"{base}/{path.lstrip('/')}", encoded=False)
        str(joined)  # yarl builds the text lazily: force it here, inside the try
    except (TypeError, ValueError):
        raise HookConfigError("path does not make a valid URL with base_url") from None
    # Scheme, host, port and the absence of credentials are base_url's, checked once in
    # __init__: text appended after a URL's authority (``/``, then the path) cannot change
    # it. Only an absolute URL in ``path`` needs the full check.
    return joined


def base_url_from(
    conn_type: str | None, host: str | None, port: int | None, schema: str | None
) -> str | None:
    """Airflow's http connection: ``http://user:pass@host:port`` -> ``http://host:port``."""
    if not host:
        return None
    if "://" in host:
        base = host
    else:
        conn_type = (conn_type or "").lower()  # Airflow keeps a JSON conn_type's case
        if schema in ("http", "https"):
            scheme = schema
        elif conn_type in ("http", "https"):
            scheme = conn_type
        else:
            scheme = "http"
        base = f"{scheme}://{_bracketed(host)}"
    if port is not None:
        base = f"{base.rstrip('/')}:{port}"
    if schema and schema not in ("http", "https"):
        base = f"{base.rstrip('/')}/{schema}"
    return base


def _bracketed(host: str) -> str:
    """An IPv6 host in brackets: Airflow's parser hands ``::1`` over without them."""
    if ":" in host and not host.startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return host
        return f"[{host}]"
    return host


def check_base_url(base_url: str | None) -> URL | None:
    return None if base_url is None else absolute_http_url("base_url", base_url)


def check_url(url: URL | str) -> URL:
    return absolute_http_url("URL", url)

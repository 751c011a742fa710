"""One check for every URL setting: absolute http(s), a host, a valid port, no credentials."""

from __future__ import annotations

from yarl import URL

from async_hooks._core.errors import HookConfigError

__all__ = ["absolute_http_url"]


def absolute_http_url(setting: str, value: object) -> URL:
    """``value`` as a URL, or a ``HookConfigError`` naming ``setting`` and what is wrong.

    Credentials in a URL would end up in logs and reprs: they belong in the hook's settings.
    """
    if not isinstance(value, (str, URL)):
        raise HookConfigError(f"{setting} must be a str, not {type(value).__name__}")
    try:
        url = URL(value) if isinstance(value, str) else value
    except (TypeError, ValueError):
        raise HookConfigError(f"{setting} is not a valid URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise HookConfigError(
            f"{setting} must be an absolute http(s) URL with a host, got scheme {url.scheme!r}"
        )
    try:
        url.port  # noqa: B018 - validates the port
    except ValueError:
        raise HookConfigError(f"{setting} has an invalid port") from None
    if url.user or url.password:
        raise HookConfigError(f"{setting}: put credentials in the hook's settings, not the URL")
    return url

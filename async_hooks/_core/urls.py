"""One check for every URL setting: absolute http(s), a host, a valid port, no credentials.

Messages name the setting and what is wrong, never the URL: it may carry credentials, and a
broken one cannot be shown safely.
"""

from __future__ import annotations

import re

from yarl import URL

from async_hooks.errors import HookConfigError

__all__ = ["CONTROL_CHARACTERS", "absolute_http_url"]

#: What a host may hold once yarl has IDNA-encoded it: RFC 3986's unreserved and sub-delims
#: characters, percent-escapes, and ``:`` for IPv6 addresses. Spaces, control characters and
#: anything else would only fail later, at the resolver.
_HOST = re.compile(r"[A-Za-z0-9._~%!$&'()*+,;=:-]+")
#: yarl drops CR, LF and TAB anywhere in a URL without a word; a URL setting holding any
#: control character is a mistake, refused rather than silently rewritten.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def absolute_http_url(setting: str, value: object) -> URL:
    """``value`` as a URL, or a ``HookConfigError`` naming ``setting`` and what is wrong.

    Credentials in a URL would end up in logs and reprs: they belong in the hook's settings.
    """
    if not isinstance(value, (str, URL)):
        raise HookConfigError(f"{setting} must be a str, not {type(value).__name__}")
    if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
        raise HookConfigError(f"{setting} has a line break or another control character")
    # yarl parses lazily: the host (IDNA), the port and the text are computed on first use,
    # and each can raise. Everything is forced here, inside the try.
    try:
        url = URL(value) if isinstance(value, str) else value
        scheme, raw_host = url.scheme, url.raw_host
    except (TypeError, ValueError) as error:  # UnicodeError is a ValueError
        raise HookConfigError(f"{setting} is not a valid URL{_why(error)}") from None
    if scheme not in ("http", "https") or not raw_host:
        raise HookConfigError(_not_http(setting, scheme, bool(raw_host)))
    try:
        host = url.host
    except (TypeError, ValueError):
        raise HookConfigError(f"{setting} has a host that is not a valid IDNA name") from None
    if not host or not _HOST.fullmatch(raw_host):
        raise HookConfigError(f"{setting} has a host with characters a host name cannot hold")
    try:
        url.port  # noqa: B018 - validates the port
    except (TypeError, ValueError):
        raise HookConfigError(f"{setting} has an invalid port (must be 0..65535)") from None
    try:
        has_credentials = bool(url.raw_user or url.raw_password)
        str(url)
        url.origin()
    except (TypeError, ValueError):
        raise HookConfigError(f"{setting} is not a valid URL") from None
    if has_credentials:
        raise HookConfigError(f"{setting}: put credentials in the hook's settings, not the URL")
    return url


def _not_http(setting: str, scheme: str, has_host: bool) -> str:
    """What is wrong with a URL that is not an absolute http(s) URL with a host, never quoting
    it (it may hold a credential): a scheme is shown only when it is a plain word before ``//``
    (``ftp``); ``host:8080/x`` or ``user:pass@host`` read as a scheme and are not."""
    if scheme in ("http", "https"):
        return f"{setting} has no host: write it as {scheme}://HOST/..."
    if not scheme:
        return f"{setting} has no scheme: write it as https://HOST/... (or http://)"
    if has_host and scheme.isascii() and scheme.isalnum():
        return f"{setting} must be an http(s) URL, not {scheme!r}: https://HOST/..."
    return f"{setting} must start with https:// or http:// (no scheme was found before its host)"


def _why(error: BaseException) -> str:
    """A fixed reason for yarl's complaint (its own text may quote the URL)."""
    text = str(error)
    if isinstance(error, UnicodeError) or "idna" in text.lower():
        return ": its host is not a valid IDNA name"
    if "IPv6" in text:
        return ": invalid IPv6 host"
    if text.startswith(("Port", "port")):
        return ": invalid port (must be 0..65535)"
    return ""

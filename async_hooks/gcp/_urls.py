"""Where a Google REST call goes: the real API's host and path, or, with the hook's
``api_root``, that root's scheme and host (and any path prefix) before the real API's path, so
that one local server can stand in for every Google API the hook calls."""

from __future__ import annotations

from collections.abc import Mapping

from yarl import URL

__all__ = ["google_url", "is_google_host", "rebase"]


def google_url(
    api_root: str | None, host: str, path: str, query: Mapping[str, str] | None = None
) -> URL:
    """``https://{host}{path}``, or ``{api_root}{path}``; ``path`` is percent-encoded."""
    root = api_root if api_root is not None else f"https://{host}"
    url = URL(f"{root}{path}", encoded=True)
    return url.with_query(dict(query)) if query else url


def is_google_host(host: str | None) -> bool:
    return bool(host) and (host == "googleapis.com" or str(host).endswith(".googleapis.com"))


def rebase(api_root: str | None, url: URL) -> URL:
    """A full URL on a ``*.googleapis.com`` host, moved under ``api_root`` (if set); any other
    URL as it is (it already names its server)."""
    if api_root is None or not is_google_host(url.host):
        return url
    moved = URL(f"{api_root}{url.raw_path}", encoded=True)
    return moved.with_query(url.query) if url.raw_query_string else moved

"""A complete answer, read inside the pipeline so that body errors are retried too."""

from __future__ import annotations

import json as jsonlib
from typing import Any

from multidict import CIMultiDictProxy
from yarl import URL

from async_hooks._rest.errors import PROVIDER, decode_error

__all__ = ["HttpResponse"]


class HttpResponse:
    """A complete 2xx answer: ``status``, ``headers``, ``body`` bytes, ``text()``, ``json()``."""

    __slots__ = ("_method", "_provider", "body", "headers", "status", "url")

    def __init__(
        self,
        status: int,
        headers: CIMultiDictProxy[str],
        body: bytes,
        url: URL,
        method: str,
        provider: str = PROVIDER,
    ) -> None:
        self.status: int = status
        self.headers: CIMultiDictProxy[str] = headers
        self.body: bytes = body
        self.url: URL = url
        self._method = method
        self._provider = provider

    def text(self, encoding: str | None = None) -> str:
        """The body decoded with ``encoding``, else the answer's charset, else UTF-8."""
        charset = encoding or _charset(self.headers.get("Content-Type", "")) or "utf-8"
        try:
            return self.body.decode(charset)
        except (LookupError, UnicodeDecodeError) as error:
            raise decode_error(
                f"{charset} text", self._method, self.url, error, self._provider
            ) from error

    def json(self) -> Any:
        """The body parsed as JSON; a body that is not JSON raises a ``ServiceError``
        (also a ``ValueError``) naming the request."""
        try:
            return jsonlib.loads(self.body)
        except (ValueError, RecursionError) as error:
            raise decode_error("JSON", self._method, self.url, error, self._provider) from error

    def __repr__(self) -> str:
        return f"<HttpResponse {self.status} {len(self.body)} bytes>"


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip('"')
    return None

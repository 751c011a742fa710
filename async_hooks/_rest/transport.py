"""One HTTP exchange on an aiohttp session: the answer read whole, errors mapped.

Shared by every REST-speaking provider (the HTTP hook, Google's APIs), so the mapping of
answers and aiohttp errors stays in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from async_hooks._core.redact import Redactor
from async_hooks._rest.errors import PROVIDER, error_for_response, map_aiohttp_error
from async_hooks._rest.response import HttpResponse

__all__ = ["exchange"]


async def exchange(
    session: aiohttp.ClientSession,
    method: str,
    url: URL,
    *,
    headers: CIMultiDictProxy[str],
    redact: Redactor,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    data: Any = None,
    provider: str = PROVIDER,
) -> HttpResponse:
    """Send one request; return the complete 2xx answer or raise the mapped error."""
    try:
        async with session.request(
            method, url, params=params, json=json, data=data, headers=headers
        ) as answer:
            body = await answer.read()
            status, reason, answer_headers = answer.status, answer.reason, answer.headers
    except Exception as error:
        mapped = map_aiohttp_error(error, method=method, url=url, redact=redact, provider=provider)
        if mapped is error:
            raise
        raise mapped from error
    if 200 <= status < 300:
        return HttpResponse(status, answer_headers, body, url, method, provider)
    raise error_for_response(
        method=method,
        url=url,
        status=status,
        reason=reason,
        headers=answer_headers,
        body=body,
        request_headers=headers,
        redact=redact,
        provider=provider,
    )

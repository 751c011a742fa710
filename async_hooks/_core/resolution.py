"""Tell a host name that does not exist from a resolver that is merely unwell.

A name the resolver says does not exist (``EAI_NONAME``, ``EAI_NODATA``) will not start to exist
on the next attempt: a region such as ``mars-north-9`` or a typo in a host is a configuration
error, and retrying it until a wait's timeout only hides it. A temporary failure (``EAI_AGAIN``,
``EAI_FAIL``), a refused connection or a reset stays transient.
"""

from __future__ import annotations

import socket

__all__ = ["unresolvable_host"]

_NAME_DOES_NOT_EXIST = frozenset(
    code
    for code in (
        getattr(socket, "EAI_NONAME", None),
        getattr(socket, "EAI_NODATA", None),
        getattr(socket, "EAI_ADDRFAMILY", None),
    )
    if code is not None
)


def unresolvable_host(error: BaseException) -> str | None:
    """The host named in ``error`` when its chain holds a "no such name" resolver answer.

    Walks what SDKs wrap a resolver error in: ``__cause__``/``__context__``, aiohttp's
    ``os_error``, botocore's ``kwargs["error"]``. Returns ``"(unknown host)"`` when the answer
    is there but no layer named the host.
    """
    host: str | None = None
    seen: set[int] = set()
    stack: list[BaseException] = [error]
    found = False
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        host = host or _host_of(current)
        if isinstance(current, socket.gaierror) and current.errno in _NAME_DOES_NOT_EXIST:
            found = True
        kwargs = getattr(current, "kwargs", None)
        linked = [
            current.__cause__,
            current.__context__,
            getattr(current, "os_error", None),
            kwargs.get("error") if isinstance(kwargs, dict) else None,
        ]
        stack.extend(e for e in linked if isinstance(e, BaseException))
    if not found:
        return None
    return host or "(unknown host)"


def _host_of(error: BaseException) -> str | None:
    host = getattr(error, "host", None)  # aiohttp's ClientConnectorError
    if isinstance(host, str) and host:
        return host
    kwargs = getattr(error, "kwargs", None)  # botocore: endpoint_url=
    url = kwargs.get("endpoint_url") if isinstance(kwargs, dict) else None
    if isinstance(url, str) and url:
        from urllib.parse import urlsplit

        return urlsplit(url).hostname or None
    return None

"""A fault-injecting HTTP proxy: between a hook and a real server, it throttles, fails, resets
and delays requests from a seeded random source, and forwards the rest."""

from __future__ import annotations

import asyncio
import random
import socket
import struct
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

__all__ = ["FaultPlan", "FaultProxy", "fault_proxy_app"]

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "content-encoding",
    }
)


@dataclass(frozen=True)
class FaultPlan:
    """Which faults to inject, as shares of requests (0..1), drawn from ``random.Random(seed)``.

    ``script`` forces the faults of the first requests in order (``"429"``, ``"503"`` or any
    status, ``"reset"``, ``"ok"``) before the random draw takes over.
    ``retry_after`` is the ``Retry-After`` header sent with 429s (``None``: no header).
    """

    seed: int = 0
    throttle: float = 0.0
    retry_after: str | None = None
    server_error: float = 0.0
    server_error_status: int = 503
    reset: float = 0.0
    latency: tuple[float, float] = (0.0, 0.0)
    script: tuple[str, ...] = field(default_factory=tuple)


class FaultProxy:
    """Live state of one proxy: its plan and what it has done (``counts``: requests, each
    fault, ``forwarded``, and ``op:<Operation>`` per forwarded AWS JSON-protocol call)."""

    def __init__(self, upstream: str, plan: FaultPlan) -> None:
        self.upstream: str = upstream.rstrip("/")
        self.plan: FaultPlan = plan
        self.random: random.Random = random.Random(plan.seed)
        self.counts: Counter[str] = Counter()
        self._script = list(plan.script)

    def choose(self) -> str:
        self.counts["requests"] += 1
        if self._script:
            return self._script.pop(0)
        draw = self.random.random()
        plan = self.plan
        if draw < plan.throttle:
            return "429"
        draw -= plan.throttle
        if draw < plan.server_error:
            return str(plan.server_error_status)
        draw -= plan.server_error
        if draw < plan.reset:
            return "reset"
        return "ok"


def _reset(request: web.Request) -> None:
    """Close the connection with a TCP RST (SO_LINGER 0), as a crashed peer would."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def fault_proxy_app(proxy: FaultProxy) -> web.Application:
    """The proxy's aiohttp app: each request forwarded to ``proxy.upstream`` or answered with
    the fault its plan picks (``FaultProxy`` counts both)."""
    app = web.Application()
    session_key = web.AppKey("session", aiohttp.ClientSession)

    async def open_session(app: web.Application) -> None:
        app[session_key] = aiohttp.ClientSession(auto_decompress=False)

    async def close_session(app: web.Application) -> None:
        await app[session_key].close()

    async def handle(request: web.Request) -> web.StreamResponse:
        fault = proxy.choose()
        low, high = proxy.plan.latency
        if high > 0:
            await asyncio.sleep(proxy.random.uniform(low, high))
        if fault == "reset":
            proxy.counts["reset"] += 1
            _reset(request)
            raise asyncio.CancelledError  # nothing more to say on a dead connection
        if fault != "ok":
            status = int(fault)
            proxy.counts[fault] += 1
            headers = {}
            if status == 429 and proxy.plan.retry_after is not None:
                headers["Retry-After"] = proxy.plan.retry_after
            return web.json_response({"injected": status}, status=status, headers=headers)
        proxy.counts["forwarded"] += 1
        target = request.headers.get("X-Amz-Target")  # AWS JSON protocols name the operation
        if target:
            proxy.counts["op:" + target.rsplit(".", 1)[-1]] += 1
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with app[session_key].request(
            request.method,
            proxy.upstream + request.rel_url.path_qs,
            headers=headers,
            data=body or None,
            allow_redirects=False,
        ) as answer:
            payload = await answer.read()
            out = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
            return web.Response(status=answer.status, body=payload, headers=out)

    app.on_startup.append(open_session)
    app.on_cleanup.append(close_session)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app

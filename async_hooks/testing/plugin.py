"""pytest fixtures that start real servers on 127.0.0.1 (registered as a ``pytest11`` plugin)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from aiohttp import web

from async_hooks.testing._server import ThreadedServer
from async_hooks.testing.fault_proxy import FaultPlan, FaultProxy, fault_proxy_app
from async_hooks.testing.jobserver import JobBoard, job_server_app

__all__ = ["JobServer", "fault_proxy", "job_server", "threaded_server"]


@pytest.fixture
def threaded_server() -> Iterator[Callable[[web.Application], ThreadedServer]]:
    """``threaded_server(app)`` serves an aiohttp app on its own thread; stopped after the test."""
    started: list[ThreadedServer] = []

    def serve(app: web.Application) -> ThreadedServer:
        server = ThreadedServer(app).start()
        started.append(server)
        return server

    yield serve
    for server in reversed(started):
        server.close()


@pytest.fixture
def fault_proxy(
    threaded_server: Callable[[web.Application], ThreadedServer],
) -> Callable[..., tuple[str, FaultProxy]]:
    """``url, proxy = fault_proxy(upstream_url, FaultPlan(...))``: a proxy in front of upstream."""

    def start(upstream: str, plan: FaultPlan | None = None) -> tuple[str, FaultProxy]:
        proxy = FaultProxy(upstream, plan or FaultPlan())
        server = threaded_server(fault_proxy_app(proxy))
        return server.url, proxy

    return start


@dataclass
class JobServer:
    """A running job service: ``url``, its ``board`` (state and counters), ``server``."""

    url: str
    board: JobBoard
    server: ThreadedServer

    def create(self, polls: int = 2, outcome: str = "SUCCEEDED", reason: str | None = None) -> str:
        """Create a job from the test's thread (safely, on the server's loop)."""
        job_id: str = self.server.call(lambda: self.board.create(polls, outcome, reason))
        return job_id


@pytest.fixture
def job_server(
    threaded_server: Callable[[web.Application], ThreadedServer],
) -> Callable[..., JobServer]:
    """``job_server(rate_limit=None, retry_after=None, latency=0.0)`` starts a job service."""

    def start(
        rate_limit: float | None = None, retry_after: str | None = None, latency: float = 0.0
    ) -> JobServer:
        board = JobBoard(rate_limit=rate_limit, retry_after=retry_after, latency=latency)
        server = threaded_server(job_server_app(board))
        return JobServer(server.url, board, server)

    return start

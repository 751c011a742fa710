"""A small REST job service: jobs that run for a number of polls, then succeed or fail.

Used by the demo and the tests. It records what a fair server would see: requests, the most
requests in flight at once, arrival and answer times; and it can enforce a rate limit with 429s.
The server runs on its own thread: ``until`` waits, from a test's loop, for its state to get
somewhere.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["JobBoard", "job_server_app", "until"]


async def until(condition: Callable[[], object], *, timeout: float = 30.0) -> None:
    """Return as soon as ``condition()`` is true; checked every few milliseconds, for up to
    ``timeout`` seconds (generous: a deadline for a server that never gets there, not a
    window), then ``TimeoutError``.

    For a test waiting on state that another thread changes: a server's counters
    (``lambda: board.requests >= 1``), a log record, an event set elsewhere.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not reached within {timeout:g}s: {condition!r}")
        await asyncio.sleep(0.005)


@dataclass
class _Job:
    id: str
    polls_left: int
    outcome: str
    reason: str | None
    polls: int = 0


@dataclass
class JobBoard:
    """The job server's state. ``rate_limit`` (requests/s, burst of one second's worth) makes
    it answer 429 beyond the limit, with ``Retry-After`` when ``retry_after`` is set.

    ``arrivals`` and ``answered``: the server loop's ``time()`` (``time.monotonic``) when each
    request arrived and when its answer was ready, each in the order it happened (for one wait
    polling alone, ``answered[i]`` is the answer to ``arrivals[i]``)."""

    rate_limit: float | None = None
    retry_after: str | None = None
    latency: float = 0.0
    jobs: dict[str, _Job] = field(default_factory=dict)
    requests: int = 0
    throttled: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    arrivals: list[float] = field(default_factory=list)
    answered: list[float] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _tokens: float = 0.0
    _refilled: float = 0.0

    def create(self, polls: int = 2, outcome: str = "SUCCEEDED", reason: str | None = None) -> str:
        job_id = f"job-{next(self._ids)}"
        self.jobs[job_id] = _Job(job_id, polls, outcome, reason)
        return job_id

    def _admit(self, now: float) -> bool:
        if self.rate_limit is None:
            return True
        if not self._refilled:
            self._tokens, self._refilled = self.rate_limit, now
        self._tokens = min(self.rate_limit, self._tokens + (now - self._refilled) * self.rate_limit)
        self._refilled = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def view(self, job: _Job) -> dict[str, Any]:
        job.polls += 1
        if job.polls == 1:
            status = "PENDING"
        elif job.polls_left > 0:
            status = "RUNNING"
        else:
            status = job.outcome
        if job.polls > 1:
            job.polls_left -= 1
        body: dict[str, Any] = {"id": job.id, "status": status, "polls": job.polls}
        if status == job.outcome and job.reason:
            body["reason"] = job.reason
        return body


def job_server_app(board: JobBoard) -> web.Application:
    @web.middleware
    async def account(request: web.Request, handler: Any) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        now = loop.time()
        board.requests += 1
        board.arrivals.append(now)
        if not board._admit(now):
            board.throttled += 1
            headers = {"Retry-After": board.retry_after} if board.retry_after else {}
            board.answered.append(loop.time())
            return web.json_response({"message": "slow down"}, status=429, headers=headers)
        board.in_flight += 1
        board.max_in_flight = max(board.max_in_flight, board.in_flight)
        try:
            if board.latency:
                await asyncio.sleep(board.latency)
            response: web.StreamResponse = await handler(request)
            return response
        finally:
            board.in_flight -= 1
            board.answered.append(loop.time())

    async def create(request: web.Request) -> web.Response:
        spec = await request.json() if request.can_read_body else {}
        job_id = board.create(
            int(spec.get("polls", 2)), str(spec.get("outcome", "SUCCEEDED")), spec.get("reason")
        )
        return web.json_response({"id": job_id, "status": "PENDING"}, status=201)

    async def describe(request: web.Request) -> web.Response:
        job = board.jobs.get(request.match_info["job_id"])
        if job is None:
            return web.json_response({"message": "no such job"}, status=404)
        return web.json_response(board.view(job))

    async def ping(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application(middlewares=[account])
    app.router.add_post("/jobs", create)
    app.router.add_get("/jobs/{job_id}", describe)
    app.router.add_get("/ping", ping)
    return app

"""The Google scale row (issue 19): N BigQuery waits polled every POLL seconds against a
BigQuery-shaped REST server that takes LATENCY seconds to answer each request, each job DONE
JOB_S seconds after its first poll.

``python -m benchmarks.gcp_scale N POLL`` starts the server in a process of its own, runs the
waits (``AsyncGcpHook.wait_for_job("bigquery", ...)`` through ``api_root``, with a service
account made on the spot whose token comes from the same server) and prints one JSON row on
stdout; ``python -m benchmarks.gcp_scale serve --port P`` is that server.

The server is the test kit's scripted Google API (``async_hooks.testing.gcp``: its token
endpoint, its bearer check and BigQuery's real ``jobs.get`` path), with a middleware that adds
the latency to every request, counts the requests in flight, stamps each job's polls with the
server's clock and keeps each job's scripted answer on that clock (RUNNING until JOB_S seconds
after its first poll, then DONE). ``GET /__stats`` returns the stamps and the peak.

What the row reports: the interval the waits achieved between two polls of one job, from the
server's own stamps (each job's mean interval, then the median and the 95th percentile of those
over the jobs) against the POLL asked for; the most requests the server had in flight at once;
and that every wait succeeded. BigQuery has no batch describe: each poll is one ``jobs.get``,
so holding N jobs at POLL seconds takes N / POLL requests/s, N x LATENCY / POLL in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from benchmarks.servers import free_port, get, process

LATENCY = 0.1
JOB_S = 40.0
PROJECT = "bench-project"
WARM_UP = "warm-up"  # a job that is DONE at once, polled before the measured waits
WAIT_TIMEOUT = 300.0
ROW_TIMEOUT = 420.0


def job_ids(count: int) -> list[str]:
    return [f"bq-{i:05d}" for i in range(count)]


def _job(job_id: str, done: bool) -> dict[str, Any]:
    reference = {"projectId": PROJECT, "jobId": job_id, "location": "US"}
    status: dict[str, Any] = {"state": "DONE" if done else "RUNNING"}
    return {
        "kind": "bigquery#job",
        "id": f"{PROJECT}:US.{job_id}",
        "jobReference": reference,
        "status": status,
        "statistics": {"creationTime": "1764090000000", "startTime": "1764090001000"},
    }


# ---------------------------------------------------------------------------- the server


def server_app(latency: float = LATENCY, job_s: float = JOB_S) -> Any:
    from aiohttp import web

    from async_hooks.testing.gcp import FakeGoogleApi, fake_google_api_app

    api = FakeGoogleApi()
    app = fake_google_api_app(api)
    polls: dict[str, list[float]] = {}  # job id -> the server's monotonic time of each poll
    state = {"in_flight": 0, "peak": 0, "requests": 0}

    @web.middleware
    async def clocked(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path == "/__stats":
            return web.json_response(
                {**state, "polls": polls, "token_requests": api.token_requests}
            )
        state["requests"] += 1
        state["in_flight"] += 1
        state["peak"] = max(state["peak"], state["in_flight"])
        try:
            job_id = request.match_info.get("job_id")
            if job_id is not None:
                now = time.monotonic()
                if job_id == WARM_UP:
                    api.jobs[job_id] = [_job(job_id, True)]
                else:
                    stamps = polls.setdefault(job_id, [])
                    stamps.append(now)
                    api.jobs[job_id] = [_job(job_id, now - stamps[0] >= job_s)]
            if latency:
                await asyncio.sleep(latency)
            response: web.StreamResponse = await handler(request)
            return response
        finally:
            state["in_flight"] -= 1

    app.middlewares.append(clocked)
    return app


@contextmanager
def server() -> Iterator[str]:
    """The server in its own process."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "benchmarks.gcp_scale", "serve", "--port", str(port)]
    with process(args, f"{url}/__stats"):
        yield url


# ---------------------------------------------------------------------------- the waits


async def _waits(url: str, count: int, poll: float) -> dict[str, Any]:
    from async_hooks import AsyncGcpHook
    from async_hooks.testing.gcp import make_service_account

    account = make_service_account(f"{url}/token", project=PROJECT)
    async with AsyncGcpHook(service_file=account, api_root=url) as hook:
        # The token and the session, before the clock starts.
        await hook.wait_for_job("bigquery", WARM_UP, poll_interval=poll, timeout=60)
        started = time.monotonic()
        waits = [
            hook.wait_for_job("bigquery", job, poll_interval=poll, timeout=WAIT_TIMEOUT)
            for job in job_ids(count)
        ]
        results = await asyncio.wait_for(
            asyncio.gather(*waits, return_exceptions=True), ROW_TIMEOUT
        )
        wall = time.monotonic() - started
        stats = hook.stats()
    ok = [r for r in results if not isinstance(r, BaseException) and r.succeeded]
    failed = [r for r in results if isinstance(r, BaseException)]
    return {
        "wall_s": wall,
        "succeeded": len(ok),
        "errors": sorted({type(e).__name__ for e in failed}),
        "client_calls": stats["calls"],
        "client_retries": stats["retries"],
    }


def _quantile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def _intervals(polls: dict[str, list[float]]) -> dict[str, Any]:
    """Each job's mean interval between two polls, then their median and p95 over the jobs."""
    means = [(s[-1] - s[0]) / (len(s) - 1) for s in polls.values() if len(s) > 1]
    gaps = [b - a for s in polls.values() for a, b in itertools.pairwise(s)]
    counts = [len(s) for s in polls.values()]
    return {
        "interval_median_s": statistics.median(means) if means else None,
        "interval_p95_s": _quantile(means, 0.95) if means else None,
        "interval_max_s": max(gaps, default=None),
        "polls_per_job_median": statistics.median(counts) if counts else 0,
        "job_polls": sum(counts),
        "jobs_polled": len(polls),
    }


def run(url: str, count: int, poll: float) -> dict[str, Any]:
    row = asyncio.run(_waits(url, count, poll))
    served = get(f"{url}/__stats")
    row.update(_intervals(served["polls"]))
    row.update(
        n=count,
        poll_s=poll,
        latency_s=LATENCY,
        job_s=JOB_S,
        peak_in_flight=served["peak"],
        server_requests=served["requests"],
        token_requests=served["token_requests"],
        all_succeeded=row["succeeded"] == count,
    )
    median = row["interval_median_s"]
    row["interval_vs_asked"] = median / poll if median is not None else None
    return row


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        from aiohttp import web

        parser = argparse.ArgumentParser(prog="benchmarks.gcp_scale serve")
        parser.add_argument("--port", type=int, required=True)
        args = parser.parse_args(sys.argv[2:])
        web.run_app(server_app(), host="127.0.0.1", port=args.port, print=None, access_log=None)
        return
    count, poll = int(sys.argv[1]), float(sys.argv[2])
    with server() as url:
        print(json.dumps(run(url, count, poll)))


if __name__ == "__main__":
    main()

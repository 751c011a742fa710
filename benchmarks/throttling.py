"""The throttling row (issue 19): N AWS Batch waits polled every POLL seconds against a
Batch-shaped endpoint that throttles 90 % of its calls for THROTTLE_S seconds, then answers
normally; each job succeeds a few seconds after the throttling ends.

``python -m benchmarks.throttling N POLL [THROTTLE_S]`` starts the endpoint in a process of
its own, runs the waits and prints one JSON row on stdout (THROTTLE_S, 60 by default, shortens
the window for a smoke test); ``python -m benchmarks.throttling serve --port P --jobs N
[--throttle-s S]`` is that endpoint.

The endpoint is the test kit's ``AwsEndpoint`` (Batch's real REST-JSON protocol, read from
botocore's model) with one scripted ``DescribeJobs`` answer: during the throttling window,
HTTP 429 ``TooManyRequestsException`` (the ``x-amzn-ErrorType`` header and the
``{"message": ...}`` body AWS sends) to 90 % of the calls, chosen by a seeded generator per
call, in the order the calls arrive, so every run sees the same answers in the same order.
Seeded rather than "every 10th call passes": with ``max_attempts`` 5 a batch call then always
reaches a passing call within two calls, so a storm of throttled calls in a row, which real
throttling brings, would never be seen. The job items are the scale row's lean JobDetails
(``benchmarks/endpoint.py``). ``POST /__start`` starts the clock (the window and the jobs' ends)
when the waits start; ``GET /__stats`` lists every DescribeJobs call as ``[seconds since the
start, ids in it, throttled, jobs still pending]``.

What the row reports:

- *batch* and *single* describes. Every poll is a DescribeJobs call, so they differ only by
  their shape: a *single* describe is a call with one id while more than one job is pending (a
  job is pending until the endpoint has answered it SUCCEEDED); a call with one id when only
  that job is left is a batch call of the one pending job. There must be no single describe:
  under throttling the shared schedule must keep its batch call, not fan out to one call per
  job (which multiplies the requests a throttled API receives).
- requests per tick: DescribeJobs requests (attempts, throttled or not) per tick, a tick
  counted as the waits count their polls (each tick polls every pending wait once, so the most
  polls any wait counted is the number of ticks); and the most requests the endpoint saw in one
  poll interval (windows of POLL seconds from the first call). Both should stay within the
  retry policy's ``max_attempts`` x the calls an unthrottled tick makes (ceil(N / 100)).
- the shared throttle's rate (``async_hooks._core.loopstate.current_state().throttles``, the
  Batch scope's ``AdaptiveThrottle``): before the waits (unlimited until a throttled answer),
  the lowest during the throttling window (sampled every 0.1 s) and after the waits.
- that every wait succeeded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from benchmarks.servers import free_port, get, post, process

REGION = "us-east-1"
#: The throttling window (seconds from the waits' start) and the share of calls it throttles.
THROTTLE_S = 60.0
THROTTLED_SHARE = 0.9
SEED = 19  # the number: the same answers in the same order on every run
#: Job i succeeds END_BASE_S + (i % END_SPREAD) seconds after the throttling ends.
END_BASE_S, END_SPREAD = 2.0, 5
BATCH_MAX = 100  # DescribeJobs takes at most 100 ids
WAIT_TIMEOUT = 300.0  # each wait's own timeout; the row as a whole stops after ROW_TIMEOUT
ROW_TIMEOUT = 420.0
SAMPLE_S = 0.1


def job_ids(count: int) -> list[str]:
    return [f"throttled-{i:04d}" for i in range(count)]


# ---------------------------------------------------------------------------- the endpoint


def endpoint_app(count: int, throttle_s: float = THROTTLE_S) -> Any:
    """The Batch-shaped endpoint: ``AwsEndpoint("batch")`` with a clocked, throttling
    DescribeJobs, and ``/__start`` and ``/__stats`` for the benchmark."""
    from aiohttp import web

    from async_hooks.testing.aws_endpoint import AwsEndpoint
    from benchmarks.endpoint import LEAN_RUNNING, LEAN_SUCCEEDED

    ends = {job: throttle_s + END_BASE_S + i % END_SPREAD for i, job in enumerate(job_ids(count))}
    throttled = AwsEndpoint.error("TooManyRequestsException", "Too Many Requests", 429)
    state: dict[str, Any] = {"start": None, "rng": random.Random(SEED)}
    pending = set(ends)
    calls: list[list[Any]] = []

    def describe_jobs(params: dict[str, Any]) -> Any:
        ids = list(params.get("jobs") or [])
        start = state["start"]
        if start is None:  # the warm-up call, before the clock starts
            return {"jobs": []}
        now = time.monotonic() - start
        record = [round(now, 4), len(ids), False, len(pending)]
        calls.append(record)
        if now < throttle_s and state["rng"].random() < THROTTLED_SHARE:
            record[2] = True
            return throttled
        items = []
        for job in ids:
            done = now >= ends.get(job, math.inf)
            template = LEAN_SUCCEEDED if done else LEAN_RUNNING
            items.append(json.loads(json.dumps(job)[1:-1].join(template)))
            if done:
                pending.discard(job)
        return {"jobs": items}

    endpoint = AwsEndpoint("batch")
    endpoint.script("batch", "DescribeJobs", then=describe_jobs)
    app = endpoint.app()

    @web.middleware
    async def control(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path == "/__stats":
            return web.json_response({"calls": calls, "pending": len(pending)})
        if request.path == "/__start":
            state["start"] = time.monotonic()
            return web.json_response({})
        response: web.StreamResponse = await handler(request)
        return response

    app.middlewares.append(control)
    return app


@contextmanager
def endpoint(count: int, throttle_s: float = THROTTLE_S) -> Iterator[str]:
    """The endpoint in its own process."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "benchmarks.throttling", "serve", "--port", str(port)]
    args += ["--jobs", str(count), "--throttle-s", str(throttle_s)]
    with process(args, f"{url}/__stats"):
        yield url


# ---------------------------------------------------------------------------- the waits


def _batch_throttles() -> list[Any]:
    """The loop's throttles of the Batch scope (every throttle if none names it)."""
    from async_hooks._core.loopstate import current_state

    throttles = list(current_state().throttles.values())
    batch = [t for t in throttles if "batch" in str(getattr(t, "scope", ""))]
    return batch or throttles


def _rate() -> float | None:
    """The Batch throttle's rate limit (None: unlimited, as before any throttled answer)."""
    rates = [getattr(t, "rate", None) for t in _batch_throttles()]
    known = [r for r in rates if r is not None]
    return min(known) if known else None


def _concurrency() -> int | None:
    limits = [getattr(t, "concurrency", None) for t in _batch_throttles()]
    known = [c for c in limits if c is not None]
    return min(known) if known else None


async def _waits(url: str, count: int, poll: float, throttle_s: float) -> dict[str, Any]:
    from async_hooks import AsyncAwsHook

    ids = job_ids(count)
    async with AsyncAwsHook(endpoint_url=url, region_name=REGION) as hook:
        await hook.call("batch", "describe_jobs", jobs=["warm-up"])  # models loaded, throttle made
        max_attempts = hook.retry_policy.max_attempts
        rate_before, concurrency_before = _rate(), _concurrency()
        samples: list[tuple[float, float | None, int | None]] = []
        done = asyncio.Event()

        async def sample(started: float) -> None:
            while not done.is_set():
                samples.append((time.monotonic() - started, _rate(), _concurrency()))
                await asyncio.sleep(SAMPLE_S)

        post(f"{url}/__start")
        started = time.monotonic()
        sampler = asyncio.create_task(sample(started))
        waits = [
            hook.wait_for_job("batch", job, poll_interval=poll, timeout=WAIT_TIMEOUT) for job in ids
        ]
        try:
            results = await asyncio.wait_for(
                asyncio.gather(*waits, return_exceptions=True), ROW_TIMEOUT
            )
        finally:
            done.set()
            await sampler
        wall = time.monotonic() - started
        rate_after, concurrency_after = _rate(), _concurrency()
        operations = hook.stats()["operations"]
    ok = [r for r in results if not isinstance(r, BaseException) and r.succeeded]
    failed = [r for r in results if isinstance(r, BaseException)]
    polls = [r.polls for r in ok]
    during = [s for s in samples if s[0] < throttle_s]
    rates = [r for _, r, _ in during if r is not None]
    limits = [c for _, _, c in during if c is not None]
    return {
        "wall_s": wall,
        "succeeded": len(ok),
        "errors": sorted({type(e).__name__ for e in failed}),
        "ticks": max(polls, default=0),
        "max_attempts": max_attempts,
        "rate_before": rate_before,
        "rate_lowest_during": min(rates, default=None),
        "rate_after": rate_after,
        "concurrency_before": concurrency_before,
        "concurrency_lowest_during": min(limits, default=None),
        "concurrency_after": concurrency_after,
        "client_operations": {
            name: {k: v for k, v in figures.items() if isinstance(v, int | float)}
            for name, figures in operations.items()
        },
    }


def _served(
    calls: list[list[Any]], count: int, poll: float, ticks: int, throttle_s: float
) -> dict[str, Any]:
    """The endpoint's figures: calls by shape and phase, requests per tick and per interval."""
    singles = [c for c in calls if c[1] == 1 and c[3] > 1]
    batches = [c for c in calls if not (c[1] == 1 and c[3] > 1)]
    during = [c for c in calls if c[0] < throttle_s]
    after = [c for c in calls if c[0] >= throttle_s]
    per_interval: dict[int, int] = {}
    if calls:
        first = calls[0][0]
        for c in calls:
            window = int((c[0] - first) // poll)
            per_interval[window] = per_interval.get(window, 0) + 1
    return {
        "requests": len(calls),
        "batch_calls": len(batches),
        "single_calls": len(singles),
        "throttled_answers": sum(1 for c in calls if c[2]),
        "requests_during": len(during),
        "throttled_share_during": sum(1 for c in during if c[2]) / max(len(during), 1),
        "singles_during": sum(1 for c in singles if c[0] < throttle_s),
        "requests_after": len(after),
        "singles_after": sum(1 for c in singles if c[0] >= throttle_s),
        "unthrottled_calls_per_tick": math.ceil(count / BATCH_MAX),
        "requests_per_tick": len(calls) / max(ticks, 1),
        "max_requests_per_interval": max(per_interval.values(), default=0),
        "intervals_seen": len(per_interval),
    }


def run(url: str, count: int, poll: float, throttle_s: float = THROTTLE_S) -> dict[str, Any]:
    row = asyncio.run(_waits(url, count, poll, throttle_s))
    served = get(f"{url}/__stats")
    row.update(_served(served["calls"], count, poll, row["ticks"], throttle_s))
    bound = row["max_attempts"] * row["unthrottled_calls_per_tick"]
    row.update(
        n=count,
        poll_s=poll,
        throttle_s=throttle_s,
        throttled_share=THROTTLED_SHARE,
        seed=SEED,
        requests_per_tick_bound=bound,
        jobs_pending_at_end=served["pending"],
        ok=(
            row["succeeded"] == count
            and row["single_calls"] == 0
            and row["requests_per_tick"] <= bound
            and row["max_requests_per_interval"] <= bound
        ),
    )
    return row


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        from aiohttp import web

        parser = argparse.ArgumentParser(prog="benchmarks.throttling serve")
        parser.add_argument("--port", type=int, required=True)
        parser.add_argument("--jobs", type=int, required=True)
        parser.add_argument("--throttle-s", type=float, default=THROTTLE_S)
        args = parser.parse_args(sys.argv[2:])
        app = endpoint_app(args.jobs, args.throttle_s)
        web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)
        return
    count, poll = int(sys.argv[1]), float(sys.argv[2])
    throttle_s = float(sys.argv[3]) if len(sys.argv) > 3 else THROTTLE_S
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    with endpoint(count, throttle_s) as url:
        print(json.dumps(run(url, count, poll, throttle_s)))


if __name__ == "__main__":
    main()

"""The scale row: N concurrent AWS Batch waits in one process, each polled every POLL seconds,
against the minimal endpoint (``benchmarks/endpoint.py``, whose jobs succeed on their K-th
describe). ``python -m benchmarks.scale APPROACH N URL POLL [lean|full]``, one JSON row on
stdout; ``full`` asks for full job details (1.6-2 KB a job instead of ~400 bytes), which is what
botocore's parse costs most on.

What it measures: what holding N waits costs the client when the API's batch describe is used
to the full, i.e. the per-wait overhead once API calls are no longer the problem (a real
endpoint's latency is left out: the server costs next to nothing). Any id is a job, so there is
no launch step; the client is built and its models loaded by one warm-up call first, and only
the waiting is measured: wall time, CPU (``process_time``), peak RSS growth, event-loop lag.

Approaches: ``hooks``, async_hooks' ``wait_for_job("batch", ...)`` with its default coalescing;
``aiobotocore_batched``, what a careful engineer writes by hand on one raw aiobotocore client:
the waits register futures in a dict, one loop describes every pending id each POLL seconds in
chunks of 100 (DescribeJobs' maximum), 10 chunk calls in flight, and settles the finished ones.
On both sides each wait is awaited in a caller coroutine of its own that checks how it ended
(as an operator or a trigger does): the row compares what each side adds to that.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from async_hooks.testing.memory import RssSampler, current_rss
from benchmarks.servers import get, post
from benchmarks.waits import Lag

REGION = "us-east-1"
APPROACHES = ("aiobotocore_batched", "hooks")
CHUNK = 100  # DescribeJobs takes at most 100 ids
IN_FLIGHT = 10
TERMINAL = frozenset({"SUCCEEDED", "FAILED"})
STALL = 0.5  # a loop wake this late counts as a stall (``stalls`` in the row)


def job_ids(count: int, prefix: str) -> list[str]:
    return [f"{prefix}-{i:06d}" for i in range(count)]


def api_calls(hook: Any) -> int:
    """The calls a hook made, as waits.py counts them."""
    return sum(s["calls"] for s in hook.stats()["operations"].values())


async def measured(url: str, count: int, waiting: Callable[[], Awaitable[int]]) -> dict[str, Any]:
    """Run ``waiting`` (which returns the job polls it made) with the figures taken around it."""
    post(f"{url}/reset")  # fresh job lifecycles and counters: the warm-up call is not counted
    lag = Lag()
    monitor = asyncio.create_task(lag.run())
    idle = current_rss()
    cpu = time.process_time()
    started = time.perf_counter()
    with RssSampler() as rss:
        polls = await waiting()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    lag_figures = lag.summary(stall=STALL)
    await monitor
    served = get(f"{url}/stats")
    return {
        "n": count,
        "wall_s": wall,
        "cpu_s": cpu,
        "rss_per_wait_kib": max(0, rss.peak - idle) / 1024 / count,
        "job_polls": polls,
        "cpu_per_poll_ms": cpu * 1000 / max(polls, 1),
        **lag_figures,
        "server_calls": served["describe_calls"],
        "server_ids": served["ids_described"],
    }


async def _hooks(url: str, ids: list[str], poll: float) -> dict[str, Any]:
    from async_hooks import AsyncAwsHook

    async with AsyncAwsHook(endpoint_url=url, region_name=REGION) as hook:
        await hook.call("batch", "describe_jobs", jobs=["warm-up"])
        before = api_calls(hook)

        async def one(job: str) -> int:
            # As a trigger does, the result is handed on and let go: the row measures the
            # waits, not N results held at the end (the baseline holds none either).
            result = await hook.wait_for_job("batch", job, poll_interval=poll, timeout=3600)
            assert result.succeeded
            return result.polls

        async def waiting() -> int:
            return sum(await asyncio.gather(*(one(job) for job in ids)))

        row = await measured(url, len(ids), waiting)
        row["calls"] = api_calls(hook) - before
    return row


class Batcher:
    """The hand-written shared poller: ``wait`` registers a future, ``run`` polls them all."""

    def __init__(self, client: Any, poll: float) -> None:
        self.client, self.poll = client, poll
        self.pending: dict[str, asyncio.Future[str]] = {}
        self.calls = self.polls = self.registered = 0

    async def wait(self, job_id: str) -> str:
        future = self.pending[job_id] = asyncio.get_running_loop().create_future()
        self.registered += 1
        return await future

    async def _describe(self, chunk: list[str], gate: asyncio.Semaphore) -> None:
        async with gate:
            try:
                answer = await self.client.describe_jobs(jobs=chunk)
            except Exception:  # these ids stay pending for the next round
                return
            finally:
                self.calls += 1
                self.polls += len(chunk)
        for job in answer["jobs"]:
            if job["status"] in TERMINAL:
                future = self.pending.pop(job["jobId"], None)
                if future is not None and not future.done():
                    future.set_result(job["status"])

    async def run(self, count: int) -> None:
        """Poll until ``count`` waits have registered and all of them have ended."""
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(IN_FLIGHT)
        while True:
            started = loop.time()
            ids = list(self.pending)
            chunks = [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
            await asyncio.gather(*(self._describe(chunk, gate) for chunk in chunks))
            if not self.pending and self.registered >= count:
                return
            await asyncio.sleep(max(0.0, started + self.poll - loop.time()) if ids else 0.01)


async def _batched(url: str, ids: list[str], poll: float) -> dict[str, Any]:
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    config = AioConfig(max_pool_connections=IN_FLIGHT, retries={"mode": "standard"})
    async with get_session().create_client(
        "batch", endpoint_url=url, region_name=REGION, config=config
    ) as client:
        await client.describe_jobs(jobs=["warm-up"])
        batcher = Batcher(client, poll)

        async def one(job: str) -> None:
            # Each wait's outcome is checked where it is awaited, as ``_hooks`` checks its
            # result: both sides hold one caller coroutine per wait beside their own.
            status = await batcher.wait(job)
            assert status == "SUCCEEDED"

        async def waiting() -> int:
            waits = asyncio.gather(*(one(job) for job in ids))
            await asyncio.gather(batcher.run(len(ids)), waits)
            return batcher.polls

        row = await measured(url, len(ids), waiting)
        row["calls"] = batcher.calls
    return row


def run(approach: str, count: int, url: str, poll: float, detail: str = "lean") -> dict[str, Any]:
    ids = job_ids(count, f"{approach}-{detail}")
    body = _hooks if approach == "hooks" else _batched
    row = asyncio.run(body(url, ids, poll))
    row.update(
        approach=approach,
        detail=detail,
        poll_s=poll,
        polls_per_call=row["job_polls"] / max(row["calls"], 1),
    )
    return row


if __name__ == "__main__":
    approach, count, url, poll = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    detail = sys.argv[5] if len(sys.argv) > 5 else "lean"
    if approach not in APPROACHES or detail not in ("lean", "full"):
        raise SystemExit(f"approach must be one of {', '.join(APPROACHES)}; detail lean or full")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    print(json.dumps(run(approach, count, url, poll, detail)))

"""Where a wait's memory goes: ``python -m benchmarks.wait_memory [N] [lean|full]`` starts the
minimal endpoint, holds N Batch waits on each side of the scale row (``scale.py``: async_hooks'
``wait_for_job`` and the hand-batched aiobotocore loop, each wait awaited by a caller coroutine
that checks how it ended), and prints tracemalloc's allocations a wait, by source line, once
every wait has been polled (a snapshot 5 s after they start, polled every 2 s; jobs end on their
6th describe). It explains the scale row's RSS per wait; it is not a row of its own.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import tracemalloc
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks import scale, servers

POLL = 2.0
SCALE_POLLS = 6  # as the scale row: jobs end on their 6th describe
SETTLE = 5.0  # seconds after the waits start: every wait polled, none ended
TOP = 12


async def _hooks(url: str) -> tuple[Callable[[str], Awaitable[Any]], Any]:
    from async_hooks import AsyncAwsHook

    hook = AsyncAwsHook(endpoint_url=url, region_name=scale.REGION)
    await hook.call("batch", "describe_jobs", jobs=["warm-up"])

    async def one(job: str) -> int:
        result = await hook.wait_for_job("batch", job, poll_interval=POLL, timeout=3600)
        assert result.succeeded
        return result.polls

    return one, hook


async def _batched(url: str, count: int) -> tuple[Callable[[str], Awaitable[Any]], Any]:
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    config = AioConfig(max_pool_connections=scale.IN_FLIGHT)
    made = get_session().create_client(
        "batch", endpoint_url=url, region_name=scale.REGION, config=config
    )
    client = await made.__aenter__()
    await client.describe_jobs(jobs=["warm-up"])
    batcher = scale.Batcher(client, POLL)
    runner = asyncio.ensure_future(batcher.run(count))

    async def one(job: str) -> None:
        status = await batcher.wait(job)
        assert status == "SUCCEEDED"

    async def close() -> None:
        await runner
        await made.__aexit__(None, None, None)

    return one, close


async def measure(url: str, approach: str, count: int, detail: str) -> None:
    if approach == "hooks":
        one, hook = await _hooks(url)
    else:
        one, close = await _batched(url, count)
    gc.collect()
    tracemalloc.start(1)
    before = tracemalloc.take_snapshot()
    waits = [asyncio.ensure_future(one(job)) for job in scale.job_ids(count, f"m-{detail}")]
    await asyncio.sleep(SETTLE)
    gc.collect()
    stats = tracemalloc.take_snapshot().compare_to(before, "lineno")
    tracemalloc.stop()
    total = sum(stat.size_diff for stat in stats)
    print(f"\n{approach}: {total / count:,.0f} bytes a wait ({count:,} waits, {detail} details)")
    for stat in stats[:TOP]:
        where = stat.traceback[0]
        print(f"  {stat.size_diff / count:7.1f}  {stat.count_diff / count:5.2f} objects  {where}")
    await asyncio.gather(*waits)
    if approach == "hooks":
        await hook.close()
    else:
        await close()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    detail = sys.argv[2] if len(sys.argv) > 2 else "lean"
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    with servers.endpoint(batch_polls=SCALE_POLLS) as url:
        for approach in ("aiobotocore_batched", "hooks"):
            servers.post(f"{url}/reset")
            asyncio.run(measure(url, approach, count, detail))


if __name__ == "__main__":
    main()

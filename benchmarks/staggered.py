"""The staggered row: N AWS Batch waits whose starts are spread uniformly over SPREAD seconds
(as an Airflow executor starts deferring tasks over several seconds), each polled every POLL
seconds, against the minimal endpoint (jobs end on their K-th describe).
``python -m benchmarks.staggered APPROACH N URL POLL SPREAD``, one JSON row on stdout.

What it measures: whether waits that did not start together still share their polls, as API
calls per job poll (1.0 is a call per poll; 1/100 would be DescribeJobs used to the full).
``coalesced`` is async_hooks' default; ``alone`` (``coalesce=False``) is the reference.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

from benchmarks.scale import REGION, api_calls, job_ids
from benchmarks.servers import get, post

APPROACHES = ("coalesced", "alone")


async def _waits(url: str, ids: list[str], poll: float, spread: float, coalesce: bool) -> Any:
    from async_hooks import AsyncAwsHook

    async with AsyncAwsHook(endpoint_url=url, region_name=REGION) as hook:
        await hook.call("batch", "describe_jobs", jobs=["warm-up"])
        post(f"{url}/reset")
        before = api_calls(hook)

        async def wait(index: int, job: str) -> int:
            await asyncio.sleep(index * spread / len(ids))
            result = await hook.wait_for_job(
                "batch", job, poll_interval=poll, coalesce=coalesce, timeout=600
            )
            assert result.succeeded
            return result.polls

        started = time.perf_counter()
        polls = sum(await asyncio.gather(*(wait(i, job) for i, job in enumerate(ids))))
        wall = time.perf_counter() - started
        calls = api_calls(hook) - before
    served = get(f"{url}/stats")
    return {
        "wall_s": wall,
        "job_polls": polls,
        "calls": calls,
        "calls_per_poll": calls / max(polls, 1),
        "server_calls": served["describe_calls"],
    }


def run(approach: str, count: int, url: str, poll: float, spread: float) -> dict[str, Any]:
    ids = job_ids(count, f"staggered-{approach}")
    row = asyncio.run(_waits(url, ids, poll, spread, approach == "coalesced"))
    row.update(approach=approach, n=count, poll_s=poll, spread_s=spread)
    return dict(row)


if __name__ == "__main__":
    approach, count, url = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    poll, spread = float(sys.argv[4]), float(sys.argv[5])
    if approach not in APPROACHES:
        raise SystemExit(f"approach must be one of {', '.join(APPROACHES)}")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    print(json.dumps(run(approach, count, url, poll, spread)))

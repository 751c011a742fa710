"""One row of the concurrent-waits benchmark, in a process of its own so that its memory and
threads are its own: ``python -m benchmarks.waits APPROACH N MOTO_URL [POLL_INTERVAL]``, JSON
on stdout.

N ECS tasks on moto (each advances one state per describe, so a task ends after a few polls),
in clusters of at most 100 (moto scans a cluster's tasks on every describe: one cluster of 10,000
would measure moto), then N concurrent waits by one approach. Only the waiting is measured.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from async_hooks.testing.memory import RssSampler, current_rss
from benchmarks.servers import post

POLL_INTERVAL = 0.25
REGION = "us-east-1"
APPROACHES = ("threads", "pool32", "aiobotocore", "hooks", "hooks_coalesced")


async def _launch(url: str, count: int) -> list[tuple[str, str]]:
    """(cluster, task id) pairs, in clusters of 100 (see the module docstring)."""
    from async_hooks import AsyncAwsHook
    from async_hooks.testing.aws_jobs import launch_ecs

    async with AsyncAwsHook(endpoint_url=url, region_name=REGION, max_concurrency=20) as hook:
        sets = await launch_ecs(hook, count, "bench", per_cluster=100)
    return [(jobs.identifiers["cluster"], job) for jobs in sets for job in jobs.ids]


class Lag:
    """Event-loop lag: how late a 10 ms sleeper wakes (``stop`` gives the p99 in seconds;
    ``summary`` the p99, the worst, and how many wakes were at least ``stall`` late)."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = asyncio.Event()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            expected = loop.time() + 0.01
            await asyncio.sleep(0.01)
            self.samples.append(max(0.0, loop.time() - expected))

    def stop(self) -> float:
        self._stop.set()
        if len(self.samples) < 2:
            return self.samples[0] if self.samples else 0.0
        return statistics.quantiles(self.samples, n=100, method="inclusive")[98]

    def summary(self, stall: float) -> dict[str, float]:
        p99 = self.stop()
        return {
            "lag_p99_ms": round(p99 * 1000, 1),
            "lag_max_ms": round(max(self.samples, default=0.0) * 1000, 1),
            "stalls": sum(1 for s in self.samples if s >= stall),
        }


Tasks = list[tuple[str, str]]


def _blocking(url: str, tasks: Tasks, workers: int | None) -> dict[str, Any]:
    import boto3
    from botocore.config import Config

    pool = min(len(tasks) if workers is None else workers, 100)
    client = boto3.session.Session().client(
        "ecs",
        endpoint_url=url,
        region_name=REGION,
        config=Config(max_pool_connections=pool, retries={"mode": "standard"}),
    )
    calls = 0
    peak_threads = threading.active_count()
    lock = threading.Lock()

    def wait(cluster_and_task: tuple[str, str]) -> str:
        nonlocal calls, peak_threads
        cluster, task = cluster_and_task
        while True:
            answer = client.describe_tasks(cluster=cluster, tasks=[task])
            with lock:
                calls += 1
                peak_threads = max(peak_threads, threading.active_count())
            status = answer["tasks"][0]["lastStatus"]
            if status == "STOPPED":
                return str(status)
            time.sleep(POLL_INTERVAL)

    if workers is None:
        threads = [threading.Thread(target=wait, args=(task,)) for task in tasks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        with ThreadPoolExecutor(workers) as executor:
            list(executor.map(wait, tasks))
    return {"calls": calls, "threads": peak_threads, "lag_p99_ms": None}


async def _aiobotocore(url: str, tasks: Tasks) -> dict[str, Any]:
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    calls = 0
    lag = Lag()
    monitor = asyncio.create_task(lag.run())
    config = AioConfig(max_pool_connections=100, retries={"mode": "standard"})
    async with get_session().create_client(
        "ecs", endpoint_url=url, region_name=REGION, config=config
    ) as client:

        async def wait(cluster: str, task: str) -> None:
            nonlocal calls
            while True:
                answer = await client.describe_tasks(cluster=cluster, tasks=[task])
                calls += 1
                if answer["tasks"][0]["lastStatus"] == "STOPPED":
                    return
                await asyncio.sleep(POLL_INTERVAL)

        await asyncio.gather(*(wait(cluster, task) for cluster, task in tasks))
    p99 = lag.stop()
    await monitor
    return {"calls": calls, "threads": threading.active_count(), "lag_p99_ms": p99 * 1000}


async def _hooks(url: str, tasks: Tasks, coalesce: bool) -> dict[str, Any]:
    from async_hooks import AsyncAwsHook

    lag = Lag()
    monitor = asyncio.create_task(lag.run())
    async with AsyncAwsHook(endpoint_url=url, region_name=REGION) as hook:
        results = await asyncio.gather(
            *(
                hook.wait_for_job(
                    "ecs",
                    task,
                    cluster=cluster,
                    poll_interval=POLL_INTERVAL,
                    coalesce=coalesce,
                    timeout=3600,
                )
                for cluster, task in tasks
            )
        )
        operations = hook.stats()["operations"]
    p99 = lag.stop()
    await monitor
    assert all(r.succeeded for r in results)
    calls = sum(s["calls"] for s in operations.values())
    return {"calls": calls, "threads": threading.active_count(), "lag_p99_ms": p99 * 1000}


def run(approach: str, count: int, url: str) -> dict[str, Any]:
    post(f"{url}/moto-api/reset")
    post(
        f"{url}/moto-api/state-manager/set-transition",
        {"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1}},
    )
    tasks = asyncio.run(_launch(url, count))
    idle = current_rss()
    cpu = time.process_time()
    started = time.perf_counter()
    with RssSampler() as rss:
        if approach == "threads":
            row = _blocking(url, tasks, None)
        elif approach == "pool32":
            row = _blocking(url, tasks, 32)
        elif approach == "aiobotocore":
            row = asyncio.run(_aiobotocore(url, tasks))
        else:
            row = asyncio.run(_hooks(url, tasks, approach == "hooks_coalesced"))
    row.update(
        approach=approach,
        n=count,
        wall_s=time.perf_counter() - started,
        cpu_s=time.process_time() - cpu,
        rss_per_wait_kib=max(0, rss.peak - idle) / 1024 / count,
        calls_per_wait=row["calls"] / count,
    )
    return row


if __name__ == "__main__":
    approach, count, url = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if len(sys.argv) > 4:
        POLL_INTERVAL = float(sys.argv[4])
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    print(json.dumps(run(approach, count, url)))

"""A throttled burst: 300 calls at concurrency 50 against an endpoint that allows 20/s."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks.servers import get, post

CALLS = 300
CONCURRENCY = 50
KEYS = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}


def _botocore(url: str, mode: str) -> dict[str, Any]:
    import boto3
    from botocore.config import Config

    client = boto3.session.Session().client(
        "ecs",
        endpoint_url=url,
        region_name="us-east-1",
        config=Config(max_pool_connections=CONCURRENCY, retries={"mode": mode, "max_attempts": 5}),
        **KEYS,
    )
    ok = 0
    lock = threading.Lock()

    def one(_: int) -> None:
        nonlocal ok
        try:
            client.list_clusters()
        except Exception:
            return
        with lock:
            ok += 1

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(one, range(CALLS)))
    return {"succeeded": ok}


async def _hooks(url: str) -> dict[str, Any]:
    from async_hooks import AsyncAwsHook

    async with AsyncAwsHook(
        endpoint_url=url, region_name="us-east-1", max_concurrency=CONCURRENCY, **KEYS
    ) as hook:
        results = await asyncio.gather(
            *(hook.call("ecs", "list_clusters") for _ in range(CALLS)), return_exceptions=True
        )
    return {"succeeded": sum(1 for r in results if not isinstance(r, BaseException))}


def run(url: str) -> list[dict[str, Any]]:
    rows = []
    for name in ("async_hooks", "botocore standard", "botocore adaptive"):
        post(f"{url}/reset")
        time.sleep(1.1)  # let the bucket refill
        post(f"{url}/reset")
        started = time.perf_counter()
        row = asyncio.run(_hooks(url)) if name == "async_hooks" else _botocore(url, name[9:])
        row["wall_s"] = time.perf_counter() - started
        served = get(f"{url}/stats")
        row.update(
            approach=name, throttled_answers=served["throttled"], requests=served["requests"]
        )
        rows.append(row)
    return rows

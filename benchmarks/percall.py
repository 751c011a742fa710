"""Per-call cost against the minimal endpoint: what a call through the pipeline adds."""

from __future__ import annotations

import asyncio
import time
from typing import Any

REGION = "us-east-1"


async def _timed(calls: int, call: Any) -> float:
    """Microseconds per call, sequential, after a warm-up."""
    for _ in range(20):
        await call()
    started = time.perf_counter()
    for _ in range(calls):
        await call()
    return (time.perf_counter() - started) / calls * 1e6


async def measure(url: str, quick: bool) -> dict[str, Any]:
    import aiohttp
    from aiobotocore.session import get_session

    from async_hooks import AsyncAwsHook, AsyncHttpHook

    n = 500 if quick else 2000
    keys = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
    results: dict[str, Any] = {}
    session = get_session()
    async with session.create_client("ecs", endpoint_url=url, region_name=REGION, **keys) as raw:
        results["aiobotocore_cached_us"] = await _timed(n, lambda: raw.list_clusters())
    async with AsyncAwsHook(endpoint_url=url, region_name=REGION, **keys) as hook:
        results["hook_call_us"] = await _timed(n, lambda: hook.call("ecs", "list_clusters"))

    async def new_client_per_call() -> None:
        async with get_session().create_client(
            "ecs", endpoint_url=url, region_name=REGION, **keys
        ) as client:
            await client.list_clusters()

    results["new_session_per_call_us"] = await _timed(10 if quick else 30, new_client_per_call)
    async with aiohttp.ClientSession() as http:

        async def raw_get() -> None:
            async with http.get(f"{url}/ping") as answer:
                await answer.read()

        results["aiohttp_raw_us"] = await _timed(n * 2, raw_get)
    async with AsyncHttpHook(url) as http_hook:
        results["http_hook_us"] = await _timed(n * 2, lambda: http_hook.request("GET", "/ping"))
    results["hook_vs_aiobotocore"] = results["hook_call_us"] / results["aiobotocore_cached_us"]
    results["new_session_vs_hook"] = results["new_session_per_call_us"] / results["hook_call_us"]
    results["http_hook_vs_aiohttp"] = results["http_hook_us"] / results["aiohttp_raw_us"]
    return results


def run(url: str, quick: bool) -> dict[str, Any]:
    return asyncio.run(measure(url, quick))

"""Per-call cost against the minimal endpoint: what a call through the pipeline adds.

Every contender stays open for the whole run and is timed in short blocks, round after round
(raw aiobotocore, ``hook.call``, raw aiohttp, ``hook.request``, a new session per call), every
other round in reverse order: a busy machine slows whichever block it lands on, so each ratio is
the median of the ratios within a round (blocks measured a fraction of a second apart), and each
time is the median of its rounds. A block of cached calls starts after a full garbage
collection (it must not pay for the new clients' garbage); the new-client block pays for its own
(``NATURAL_GC``). ``*_cpu`` ratios compare this process's CPU time per call (the client's own
work, which a machine busy with other processes disturbs less).
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

REGION = "us-east-1"
#: Timed with the collector as it comes: a new client per call leaves ~100k objects of
#: garbage, and a program making one per call pays the full collections that triggers (about
#: one every third call, a third of its cost), as the calls of its block do.
NATURAL_GC = frozenset({"new_session_per_call_us"})
#: (result key, numerator, denominator): each ratio is the median of its per-round ratios.
RATIOS = (
    ("hook_vs_aiobotocore", "hook_call_us", "aiobotocore_cached_us"),
    ("new_session_vs_hook", "new_session_per_call_us", "hook_call_us"),
    ("http_hook_vs_aiohttp", "http_hook_us", "aiohttp_raw_us"),
)


async def _timed(
    calls: int, call: Callable[[], Awaitable[Any]], *, fresh: bool = True
) -> tuple[float, float]:
    """Microseconds per call, sequential: wall clock and this process's CPU time.

    A ``fresh`` block starts after a full collection, so that it does not pay for another
    block's garbage: a full collection costs ~90 ms here, most of a block of cached calls.
    """
    if fresh:
        gc.collect()
    cpu, started = time.process_time(), time.perf_counter()
    for _ in range(calls):
        await call()
    wall = time.perf_counter() - started
    return wall / calls * 1e6, (time.process_time() - cpu) / calls * 1e6


async def measure(url: str, quick: bool) -> dict[str, Any]:
    import aiohttp
    from aiobotocore.session import get_session

    from async_hooks import AsyncAwsHook, AsyncHttpHook

    rounds = 7 if quick else 15
    block = 60 if quick else 150  # calls per block of the cheap contenders
    new_per_round = 2 if quick else 5  # a new session and client costs ~100 ms
    keys = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
    session = get_session()

    async def new_client_per_call() -> None:
        async with get_session().create_client(
            "ecs", endpoint_url=url, region_name=REGION, **keys
        ) as client:
            await client.list_clusters()

    async with (
        session.create_client("ecs", endpoint_url=url, region_name=REGION, **keys) as raw,
        AsyncAwsHook(endpoint_url=url, region_name=REGION, **keys) as hook,
        aiohttp.ClientSession() as http,
        AsyncHttpHook(url) as http_hook,
    ):

        async def raw_get() -> None:
            async with http.get(f"{url}/ping") as answer:
                await answer.read()

        contenders: dict[str, tuple[int, Callable[[], Awaitable[Any]]]] = {
            "aiobotocore_cached_us": (block, lambda: raw.list_clusters()),
            "hook_call_us": (block, lambda: hook.call("ecs", "list_clusters")),
            "aiohttp_raw_us": (block * 2, raw_get),
            "http_hook_us": (block * 2, lambda: http_hook.request("GET", "/ping")),
            "new_session_per_call_us": (new_per_round, new_client_per_call),
        }
        for calls, call in contenders.values():  # warm-up: clients, connections, caches
            await _timed(min(calls, 20), call)
        walls: dict[str, list[float]] = {name: [] for name in contenders}
        cpus: dict[str, list[float]] = {name: [] for name in contenders}
        order = list(contenders)
        for _ in range(rounds):
            for name in order:
                calls, call = contenders[name]
                wall, cpu = await _timed(calls, call, fresh=name not in NATURAL_GC)
                walls[name].append(wall)
                cpus[name].append(cpu)
            order.reverse()
    results: dict[str, Any] = {name: statistics.median(s) for name, s in walls.items()}
    for key, numerator, denominator in RATIOS:
        for suffix, samples in (("", walls), ("_cpu", cpus)):
            per_round = [
                a / b for a, b in zip(samples[numerator], samples[denominator], strict=True) if b
            ]
            results[f"{key}{suffix}"] = statistics.median(per_round)
            if not suffix:
                results[f"{key}_range"] = [min(per_round), max(per_round)]
    results["rounds"] = rounds
    return results


def run(url: str, quick: bool) -> dict[str, Any]:
    return asyncio.run(measure(url, quick))

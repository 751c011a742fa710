"""``async-hooks demo --kind http``: a local REST job service, N concurrent waits on one event
loop with their progress, then one wait from a plain thread through the sync facade."""

from __future__ import annotations

import asyncio
import resource
import statistics
import sys
import threading
import time
from typing import Any, TextIO

from async_hooks._cli.display import Tracker, make_display
from async_hooks._cli.interrupt import run_interruptibly
from async_hooks._demo.narrate import Narrator

__all__ = ["run_http_demo"]


async def _loop_lag(samples: list[float], every: float = 0.01) -> None:
    """How late the loop wakes a sleeper: the cost every other task pays."""
    loop = asyncio.get_running_loop()
    while True:
        expected = loop.time() + every
        await asyncio.sleep(every)
        samples.append(max(0.0, loop.time() - expected))


async def _create(hook: Any, jobs: int, polls: int) -> list[str]:
    created = await asyncio.gather(
        *(
            hook.request(
                "POST",
                "/jobs",
                json={
                    "polls": polls,
                    "outcome": "FAILED" if n % 20 == 19 else "SUCCEEDED",
                    "reason": "exit code 137 (out of memory)",
                },
            )
            for n in range(jobs)
        )
    )
    return [str(answer.json()["id"]) for answer in created]


async def _wait_on_jobs(
    url: str, jobs: int, polls: int, poll_interval: float, out: TextIO, quiet: bool
) -> dict[str, Any]:
    from async_hooks import AsyncHttpHook, JobFailedError

    lag: list[float] = []
    monitor = asyncio.create_task(_loop_lag(lag))
    async with AsyncHttpHook(url) as hook:
        started = time.perf_counter()
        ids = await _create(hook, jobs, polls)
        paths = [f"/jobs/{job}" for job in ids]
        tracker = Tracker("http", paths, lambda: int(hook.stats()["calls"]), poll_interval)

        def on_status(result: Any) -> None:
            tracker.update(result.job_id, result.status)

        async def one(path: str) -> Any:
            try:
                return await hook.wait_for_job(
                    path, poll_interval=poll_interval, on_status=on_status
                )
            finally:
                tracker.end(path)

        async with make_display(tracker, out, quiet=quiet, per_job=False):
            outcomes = await asyncio.gather(*(one(p) for p in paths), return_exceptions=True)
        elapsed = time.perf_counter() - started
        stats = hook.stats()
    monitor.cancel()
    failed = [o for o in outcomes if isinstance(o, JobFailedError)]
    errors = [o for o in outcomes if isinstance(o, BaseException) and o not in failed]
    if errors:
        raise errors[0]
    return {
        "elapsed": elapsed,
        "succeeded": sum(1 for o in outcomes if not isinstance(o, BaseException)),
        "failed": len(failed),
        "reason": failed[0].reason if failed else None,
        "stats": stats,
        "lag_p99": statistics.quantiles(lag, n=100)[98] if len(lag) >= 2 else 0.0,
    }


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def run_http_demo(jobs: int, polls: int, poll_interval: float, out: TextIO, quiet: bool) -> int:
    """Run the HTTP demo; returns the exit code."""
    from async_hooks import AsyncHttpHook
    from async_hooks.testing import JobBoard, ThreadedServer, job_server_app

    say = Narrator(out, quiet=quiet)
    board = JobBoard()
    rss_before = _peak_rss_mib()
    with say.step("starting a local job service"):
        server = ThreadedServer(job_server_app(board)).start()
    try:
        say.say(f"job service on {server.url}; waiting on {jobs} jobs on one event loop ...")
        waiting = _wait_on_jobs(server.url, jobs, polls, poll_interval, out, quiet)
        report = run_interruptibly(waiting)
        stats = report["stats"]
        out.write(
            f"  {report['succeeded']} succeeded, {report['failed']} failed "
            f"(reason: {report['reason']!r}) in {report['elapsed']:.2f}s\n"
            f"  API calls {stats['calls']} ({stats['calls'] / jobs:.1f} per job), retries "
            f"{stats['retries']}, clients created {stats['clients_created']}, "
            f"threads {threading.active_count()}\n"
            f"  event-loop lag p99 {report['lag_p99'] * 1000:.1f} ms, peak RSS growth "
            f"{_peak_rss_mib() - rss_before:.1f} MiB\n"
            "  (threads: every thread of this process, the job service's included; peak RSS\n"
            "  growth: how much the process's peak resident memory rose since the service began;\n"
            "  event-loop lag: how late a 10 ms sleeper on the loop woke, 99th percentile)\n"
        )
        job = server.call(lambda: board.create(polls=1))
        hook = AsyncHttpHook(server.url)
        result = hook.sync.wait_for_job(f"/jobs/{job}", poll_interval=poll_interval)
        hook.sync.close()
        out.write(
            f"sync facade from a plain thread: {result.job_id} {result.status}"
            f" in {result.polls} polls\n"
        )
    finally:
        server.close()
    return 0

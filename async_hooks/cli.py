"""The ``async-hooks`` command. ``async-hooks demo`` is the main job: no cloud account needed."""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

__all__ = ["demo", "main"]


async def _loop_lag(samples: list[float], stop: asyncio.Event, every: float = 0.01) -> None:
    """Measure how late the loop wakes a sleeper: the cost every other task pays."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        expected = loop.time() + every
        await asyncio.sleep(every)
        samples.append(max(0.0, loop.time() - expected))


async def _wait_on_jobs(url: str, jobs: int, polls: int, poll_interval: float) -> dict[str, Any]:
    from async_hooks import AsyncHttpHook, JobFailedError

    lag: list[float] = []
    stop = asyncio.Event()
    monitor = asyncio.create_task(_loop_lag(lag, stop))
    async with AsyncHttpHook(url) as hook:
        started = time.perf_counter()
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
        ids = [answer.json()["id"] for answer in created]
        outcomes = await asyncio.gather(
            *(hook.wait_for_job(f"/jobs/{job}", poll_interval=poll_interval) for job in ids),
            return_exceptions=True,
        )
        elapsed = time.perf_counter() - started
        stats = hook.stats()
    stop.set()
    await monitor
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


def demo(jobs: int, polls: int, poll_interval: float) -> int:
    """Start a local job service, wait on ``jobs`` jobs concurrently, then once from a thread."""
    from async_hooks import AsyncHttpHook
    from async_hooks.testing import JobBoard, ThreadedServer, job_server_app

    board = JobBoard()
    rss_before = _peak_rss_mib()
    with ThreadedServer(job_server_app(board)) as server:
        print(f"job service on {server.url}; waiting on {jobs} jobs on one event loop ...")
        report = asyncio.run(_wait_on_jobs(server.url, jobs, polls, poll_interval))
        stats = report["stats"]
        print(
            f"  {report['succeeded']} succeeded, {report['failed']} failed "
            f"(reason: {report['reason']!r}) in {report['elapsed']:.2f}s"
        )
        print(
            f"  API calls {stats['calls']} ({stats['calls'] / jobs:.1f} per job), retries "
            f"{stats['retries']}, clients created {stats['clients_created']}, "
            f"threads {threading.active_count()}"
        )
        print(
            f"  event-loop lag p99 {report['lag_p99'] * 1000:.1f} ms, peak RSS growth "
            f"{_peak_rss_mib() - rss_before:.1f} MiB"
        )
        job = server.call(lambda: board.create(polls=1))
        hook = AsyncHttpHook(server.url)
        result = hook.sync.wait_for_job(f"/jobs/{job}", poll_interval=poll_interval)
        hook.sync.close()
        print(
            f"sync facade from a plain thread: {result.job_id} {result.status}"
            f" in {result.polls} polls"
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="async-hooks", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_demo = commands.add_parser("demo", help="wait on many jobs of a local job service")
    run_demo.add_argument("--jobs", type=int, default=1000)
    run_demo.add_argument("--polls", type=int, default=3, help="RUNNING polls before the end")
    run_demo.add_argument("--poll-interval", type=float, default=0.25)
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.polls < 0 or args.poll_interval <= 0:
        parser.error("--jobs must be >= 1, --polls >= 0 and --poll-interval > 0")
    return demo(args.jobs, args.polls, args.poll_interval)


if __name__ == "__main__":
    raise SystemExit(main())

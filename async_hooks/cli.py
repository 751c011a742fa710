"""The ``async-hooks`` command. ``async-hooks demo`` is the main job: no cloud account needed.

The providers it names, and the extra each needs, come from the provider registry
(``async_hooks._providers``), as the package's lazy loading and the Airflow adapter do.
"""

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

from async_hooks._providers import PROVIDERS, provider

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
    """``demo --kind http``: a local REST job service, ``jobs`` concurrent waits, then one
    from a plain thread through the sync facade."""
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


async def _wait_aws(args: argparse.Namespace, out: Any) -> int:
    from async_hooks import (
        AsyncAwsHook,
        HookConfigError,
        HookError,
        JobFailedError,
        JobTimeoutError,
    )

    identifiers = {
        name: value
        for name, value in (
            ("cluster", args.cluster),
            ("job_name", args.job_name),
            ("cluster_id", args.cluster_id),
        )
        if value is not None
    }
    hook = AsyncAwsHook(
        endpoint_url=args.endpoint_url, region_name=args.region, conn_id=args.conn_id
    )
    async with hook:
        outcomes = await asyncio.gather(
            *(
                hook.wait_for_job(
                    args.kind,
                    job,
                    poll_interval=args.poll_interval,
                    timeout=args.timeout,
                    **identifiers,
                )
                for job in args.job_ids
            ),
            return_exceptions=True,
        )
    failed = 0
    for job, outcome in zip(args.job_ids, outcomes, strict=True):
        if isinstance(outcome, JobFailedError):
            failed += 1
            out.write(
                f"{job}: FAILED ({outcome.result.status if outcome.result else '?'}): "
                f"{outcome.reason or 'no reason given'}\n"
            )
        elif isinstance(outcome, JobTimeoutError):
            failed += 1
            out.write(f"{job}: TIMED OUT, last status {outcome.last_status}\n")
        elif isinstance(outcome, HookConfigError):
            raise outcome
        elif isinstance(outcome, HookError):
            failed += 1
            out.write(f"{job}: ERROR: {outcome}\n")
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            out.write(f"{job}: {outcome.status} after {outcome.polls} polls\n")
    return 1 if failed else 0


def _providers_epilog() -> str:
    """The registry's rows, for ``--help``: each provider's hook and what installs it."""
    rows = [
        f"  {row.name:<6} {row.hook:<14} {row.install or 'installed with async-hooks'}"
        for row in PROVIDERS.values()
    ]
    return "providers:\n" + "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """The ``async-hooks`` command; returns the exit code (2 for bad arguments)."""
    parser = argparse.ArgumentParser(
        prog="async-hooks",
        description=(__doc__ or "").split("\n\n", 1)[0],
        epilog=_providers_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run_demo = commands.add_parser(
        "demo", help="wait on many jobs on an embedded moto server, beside the blocking way"
    )
    run_demo.add_argument("--jobs", type=int, default=200)
    run_demo.add_argument("--kind", choices=["ecs", "glue", "batch", "http"], default="ecs")
    run_demo.add_argument("--poll-interval", type=float, default=0.5)
    run_demo.add_argument("--polls", type=int, default=3, help="http only: RUNNING polls")
    run_demo.add_argument(
        "--no-baseline", action="store_true", help="skip the boto3 thread-per-job baseline"
    )
    wait = commands.add_parser("wait", help="wait on real jobs until they end")
    providers = wait.add_subparsers(dest="provider", required=True)
    aws_row = provider("aws")
    aws = providers.add_parser(
        aws_row.name, help=f"{aws_row.hook} job kinds (needs: {aws_row.install})"
    )
    aws.add_argument("kind", help="batch, glue, athena, ecs, stepfunctions, emr-step, ...")
    aws.add_argument("job_ids", nargs="+", metavar="JOB_ID")
    aws.add_argument("--endpoint-url")
    aws.add_argument("--region")
    aws.add_argument("--conn-id")
    aws.add_argument("--timeout", type=float, default=3600.0)
    aws.add_argument("--poll-interval", type=float, default=30.0)
    aws.add_argument("--cluster", help="ecs: the cluster")
    aws.add_argument("--job-name", help="glue: the job name")
    aws.add_argument("--cluster-id", help="emr-step: the cluster id")
    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.jobs < 1 or args.poll_interval <= 0 or args.polls < 0:
            parser.error("--jobs must be >= 1, --polls >= 0 and --poll-interval > 0")
        if args.kind == "http":
            return demo(args.jobs, args.polls, args.poll_interval)
        try:
            from async_hooks._demo.run import run_demo as run_aws_demo
        except ImportError as error:
            parser.error(f"the AWS demo needs 'async-hooks[demo]' ({error.name} is missing)")
        return run_aws_demo(args.kind, args.jobs, args.poll_interval, not args.no_baseline)
    if args.timeout <= 0 or args.poll_interval <= 0:
        parser.error("--timeout and --poll-interval must be > 0")
    from async_hooks import HookConfigError

    try:
        module = provider(args.provider).load()
    except ImportError as error:  # the registry's message names the extra to install
        parser.error(str(error))
    try:
        module.get_job_kind(args.kind)
        return asyncio.run(_wait_aws(args, sys.stdout))
    except HookConfigError as error:
        parser.error(str(error))


if __name__ == "__main__":
    raise SystemExit(main())

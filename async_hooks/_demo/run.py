"""The demo: wait on N AWS jobs on an embedded moto server with async_hooks, then the same with
the blocking pattern (boto3, a thread per job), and show both side by side."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, TextIO

from async_hooks.aws import AsyncAwsHook
from async_hooks.testing.aws_jobs import TERMINAL, JobSet, launch, prepare
from async_hooks.testing.memory import RssSampler

__all__ = ["Phase", "run_demo"]


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    calls: int = 0
    threads: int = 0
    rss_mib: float = 0.0
    succeeded: int = 0
    failed: int = 0


class _Progress(logging.Handler):
    """Reads the waiting engine's status-change log records (kind, id, old, new)."""

    def __init__(self, total: int) -> None:
        super().__init__()
        self.total = total
        self.states: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if record.msg == "%s job %s: %s -> %s" and isinstance(args, tuple) and len(args) == 4:
            self.states[str(args[1])] = str(args[3])

    def line(self, calls: int) -> str:
        counts = Counter(self.states.values())
        shown = "  ".join(f"{state} {n}" for state, n in sorted(counts.items()))
        return f"  {len(self.states)}/{self.total} seen  {shown}  | API calls {calls}"


async def _launch_both(url: str, kind: str, count: int) -> tuple[JobSet, JobSet]:
    """Start both sets before measuring anything: launching is not waiting."""
    async with AsyncAwsHook(endpoint_url=url, region_name="us-east-1") as hook:
        first = await launch(hook, kind, count, "async")
        second = await launch(hook, kind, count, "threads")
    return first, second


async def _async_phase(
    url: str, jobs: JobSet, poll_interval: float, out: TextIO
) -> tuple[Phase, list[Any]]:
    kind = jobs.kind
    hook = AsyncAwsHook(endpoint_url=url, region_name="us-east-1")
    async with hook:
        before = hook.stats()["calls"]
        progress = _Progress(len(jobs.ids))
        logger = logging.getLogger("async_hooks")
        logger.addHandler(progress)
        previous_level = logger.level
        logger.setLevel(logging.INFO)
        tty = out.isatty()
        peak_threads = threading.active_count()

        async def show() -> None:
            nonlocal peak_threads
            while True:
                await asyncio.sleep(0.25 if tty else 2.0)
                peak_threads = max(peak_threads, threading.active_count())
                line = progress.line(hook.stats()["calls"] - before)
                out.write(f"\r{line}\033[K" if tty else f"{line}\n")
                out.flush()

        display = asyncio.create_task(show())
        started = time.perf_counter()
        try:
            results = await asyncio.gather(
                *(
                    hook.wait_for_job(
                        kind, job, poll_interval=poll_interval, timeout=600, **jobs.identifiers
                    )
                    for job in jobs.ids
                ),
                return_exceptions=True,
            )
        finally:
            elapsed = time.perf_counter() - started
            display.cancel()
            logger.removeHandler(progress)
            logger.setLevel(previous_level)
        final = progress.line(hook.stats()["calls"] - before)
        out.write(f"\r{final}\033[K\n" if tty else f"{final}\n")
        phase = Phase(
            "async_hooks: one loop, shared polls",
            seconds=elapsed,
            calls=hook.stats()["calls"] - before,
            threads=peak_threads,
            succeeded=sum(1 for r in results if not isinstance(r, BaseException)),
            failed=sum(1 for r in results if isinstance(r, BaseException)),
        )
    return phase, results


def _boto3_client(url: str, kind: str, count: int) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        kind,
        endpoint_url=url,
        region_name="us-east-1",
        config=Config(max_pool_connections=min(count, 100), retries={"mode": "standard"}),
    )


def _blocking_phase(client: Any, jobs: JobSet, poll_interval: float) -> Phase:
    """What operators do today: a thread per job, each polling boto3 and sleeping."""
    kind = jobs.kind
    calls = 0
    lock = threading.Lock()
    outcomes: list[str] = []

    def wait(job_id: str) -> None:
        nonlocal calls
        while True:
            answer = getattr(client, jobs.describe)(**jobs.describe_params(job_id))
            with lock:
                calls += 1
            status = JobSet.status_of(kind, answer)
            if status in TERMINAL[kind]:
                with lock:
                    outcomes.append(status)
                return
            time.sleep(poll_interval)

    threads = [threading.Thread(target=wait, args=(job,)) for job in jobs.ids]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    peak_threads = threading.active_count()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    good = {"ecs": {"STOPPED"}, "glue": {"SUCCEEDED"}, "batch": {"SUCCEEDED"}}[kind]
    return Phase(
        "boto3: a thread per job",
        seconds=elapsed,
        calls=calls,
        threads=peak_threads,
        succeeded=sum(1 for o in outcomes if o in good),
        failed=sum(1 for o in outcomes if o not in good),
    )


def run_demo(
    kind: str, count: int, poll_interval: float, baseline: bool, out: TextIO = sys.stdout
) -> int:
    """Run the demo; returns the exit code."""
    from async_hooks.testing.moto import MotoServer

    for name in [n for n in os.environ if n.startswith("AWS_")]:
        del os.environ[name]
    os.environ.update(
        AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo", AWS_EC2_METADATA_DISABLED="true"
    )
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with MotoServer() as moto:
        prepare(moto, kind)
        out.write(f"moto on {moto.url}: {count} {kind} jobs, each polled every {poll_interval}s\n")
        ours, theirs = asyncio.run(_launch_both(moto.url, kind, count))
        client = _boto3_client(moto.url, kind, count) if baseline else None
        with RssSampler() as rss:
            phase, results = asyncio.run(_async_phase(moto.url, ours, poll_interval, out))
        phase.rss_mib = rss.growth_mib
        phases = [phase]
        if client is not None:
            out.write("the same with boto3, a thread per job ...\n")
            with RssSampler() as rss:
                blocking = _blocking_phase(client, theirs, poll_interval)
            blocking.rss_mib = rss.growth_mib
            phases.append(blocking)
    _summary(phases, out)
    failures = [r for r in results if isinstance(r, BaseException)]
    for failure in failures[:5]:
        out.write(f"  failed: {failure}\n")
    return 1 if failures else 0


def _summary(phases: list[Phase], out: TextIO) -> None:
    out.write(
        f"\n{'approach':38} {'wall':>8} {'API calls':>10} {'threads':>8} {'peak RSS +':>11}"
        f" {'ok/failed':>10}\n"
    )
    for p in phases:
        out.write(
            f"{p.name:38} {p.seconds:7.2f}s {p.calls:10d} {p.threads:8d} {p.rss_mib:8.1f} MiB"
            f" {p.succeeded:>5}/{p.failed}\n"
        )
    if len(phases) == 2 and phases[0].calls:
        ours, theirs = phases
        calls = (
            f"{theirs.calls / ours.calls:.0f}x fewer API calls (polls shared)"
            if theirs.calls >= 1.5 * ours.calls
            else "as many API calls (this kind has no batch describe to share)"
        )
        out.write(f"\nasync_hooks: {calls}, {theirs.threads - ours.threads} fewer threads.\n")

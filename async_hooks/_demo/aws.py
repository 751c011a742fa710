"""The AWS demo: N jobs of a kind on an embedded moto server, waited on three ways.

1. async_hooks: one ``wait_for_job`` per job on one event loop; the hook shares their polls.
2. boto3, a thread per job, one describe per job per poll: what operators write first.
3. boto3, one thread describing up to 100 ids a call: what a careful hand-written poller does.

The third is the honest baseline: async_hooks makes about as few calls as it, but each wait is
written for one job (an Airflow trigger, a task of its own), and the hook does the batching.
Every set-up step and every phase shows its progress.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO, TypeVar

from async_hooks._cli.display import Tracker, make_display
from async_hooks._cli.interrupt import run_interruptibly
from async_hooks._demo import baselines
from async_hooks._demo.narrate import Narrator
from async_hooks._demo.report import Phase, conclusion, table
from async_hooks.aws import AsyncAwsHook
from async_hooks.testing.aws_jobs import JobSet, launch, prepare
from async_hooks.testing.memory import RssSampler

__all__ = ["run_demo"]

T = TypeVar("T")
APPROACHES = ("async", "threads", "batched")


def _threads() -> int:
    """Threads alive, but for the embedded moto server's (a thread per request it serves)."""
    return sum(1 for t in threading.enumerate() if "process_request_thread" not in t.name)


class _ThreadPeak:
    """The most threads alive during a phase, beyond those alive before it (moto's aside)."""

    def __init__(self) -> None:
        self.before = _threads()
        self.peak = self.before

    def seen(self) -> None:
        self.peak = max(self.peak, _threads())

    async def watch(self) -> None:
        while True:
            self.seen()
            await asyncio.sleep(0.05)

    def added(self) -> int:
        return self.peak - self.before


async def _launch(url: str, kind: str, count: int, tag: str) -> JobSet:
    async with AsyncAwsHook(endpoint_url=url, region_name="us-east-1") as hook:
        return await launch(hook, kind, count, tag)


async def _shown(tracker: Tracker, out: TextIO, quiet: bool, work: Callable[[], T]) -> T:
    """Run blocking ``work`` on a thread while the display shows the tracker."""
    async with make_display(tracker, out, quiet=quiet, per_job=False):
        return await asyncio.to_thread(work)


async def _async_phase(
    url: str, jobs: JobSet, poll_interval: float, out: TextIO, quiet: bool
) -> tuple[Phase, list[Any]]:
    hook = AsyncAwsHook(endpoint_url=url, region_name="us-east-1")
    async with hook:
        before = hook.stats()["calls"]
        tracker = Tracker(
            f"async_hooks {jobs.kind}", jobs.ids, lambda: int(hook.stats()["calls"]), poll_interval
        )
        display = make_display(tracker, out, quiet=quiet, per_job=False)

        def on_status(result: Any) -> None:
            tracker.update(result.job_id, result.status)

        async def one(job_id: str) -> Any:
            try:
                return await hook.wait_for_job(
                    jobs.kind,
                    job_id,
                    poll_interval=poll_interval,
                    timeout=600,
                    on_status=on_status,
                    **jobs.identifiers,
                )
            finally:
                tracker.end(job_id)

        peak = _ThreadPeak()
        watcher = asyncio.create_task(peak.watch())
        started = time.perf_counter()
        async with display:
            results = await asyncio.gather(*(one(j) for j in jobs.ids), return_exceptions=True)
        elapsed = time.perf_counter() - started
        watcher.cancel()
        calls = hook.stats()["calls"] - before
    phase = Phase(
        "async_hooks: one loop, polls shared",
        seconds=elapsed,
        calls=calls,
        threads=peak.added() + 1,  # and the loop's own
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


def _blocking_phase(
    name: str,
    client: Any,
    jobs: JobSet,
    poll_interval: float,
    out: TextIO,
    quiet: bool,
    per_job: bool,
) -> Phase:
    calls = baselines.Calls()
    tracker = Tracker(name.split(":")[0] + f" {jobs.kind}", jobs.ids, calls, poll_interval)
    peak = _ThreadPeak()

    def work() -> list[str]:
        if per_job:
            return baselines.thread_per_job(client, jobs, poll_interval, tracker, calls, peak.seen)
        return baselines.batched(client, jobs, poll_interval, tracker, calls)

    async def run() -> list[str]:
        watcher = asyncio.create_task(peak.watch())
        try:
            return await _shown(tracker, out, quiet, work)
        finally:
            watcher.cancel()

    started = time.perf_counter()
    outcomes = run_interruptibly(run())
    good = baselines.GOOD[jobs.kind]
    return Phase(
        name,
        seconds=time.perf_counter() - started,
        calls=calls.value,
        threads=peak.added(),  # the worker thread it runs on, and those it starts
        succeeded=sum(1 for o in outcomes if o in good),
        failed=sum(1 for o in outcomes if o not in good),
    )


def _clean_environment() -> None:
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        del os.environ[name]
    os.environ.update(
        AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo", AWS_EC2_METADATA_DISABLED="true"
    )
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


def run_demo(
    kind: str, count: int, poll_interval: float, baseline: bool, out: TextIO, quiet: bool = False
) -> int:
    """Run the demo; returns the exit code (1 when an async_hooks wait did not succeed)."""
    from async_hooks.testing.moto import MotoServer

    _clean_environment()
    say = Narrator(out, quiet=quiet)
    with say.step("starting a moto server (a local AWS)"):
        moto = MotoServer().start()
    try:
        prepare(moto, kind)
        say.say(
            f"moto on {moto.url}: {count} {kind} jobs per approach, polled every {poll_interval}s"
        )
        sets: dict[str, JobSet] = {}
        for tag in APPROACHES if baseline else APPROACHES[:1]:
            with say.step(f"launching {count} {kind} jobs for {tag}"):
                sets[tag] = run_interruptibly(_launch(moto.url, kind, count, tag))
        client = None
        if baseline:
            with say.step("loading boto3 and its service model"):
                client = _boto3_client(moto.url, kind, count)
        say.say("waiting with async_hooks: a wait_for_job per job on one event loop ...")
        with RssSampler() as rss:
            ours, results = run_interruptibly(
                _async_phase(moto.url, sets["async"], poll_interval, out, quiet)
            )
        ours.rss_mib = rss.growth_mib
        phases = [ours]
        if client is not None:
            for name, tag, per_job in (
                ("boto3: a thread per job", "threads", True),
                (baselines.batched_name(kind), "batched", False),
            ):
                say.say(f"waiting with {name} ...")
                with RssSampler() as rss:
                    phase = _blocking_phase(
                        name, client, sets[tag], poll_interval, out, quiet, per_job
                    )
                phase.rss_mib = rss.growth_mib
                phases.append(phase)
    finally:
        moto.stop()
    out.write(table(phases))
    out.write(conclusion(phases))
    failures = [r for r in results if isinstance(r, BaseException)]
    for failure in failures[:5]:
        out.write(f"  failed: {failure}\n")
    out.flush()
    return 1 if failures else 0

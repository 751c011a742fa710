"""Run the waits of one command on one hook, feed the display, and report each job's end.

Progress comes from each wait's ``on_status=`` callback, called once per status change with
the ``JobResult`` so far.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from async_hooks._cli.display import Tracker, make_display
from async_hooks._cli.report import Outcome, classify, exit_code, json_line, summary, text_line
from async_hooks._cli.translate import in_flags
from async_hooks._result import JobResult
from async_hooks.errors import HookConfigError

__all__ = ["Output", "run_waits"]

StatusCallback = Callable[[JobResult], None]
#: ``wait(job_id, on_status)``: the hook's wait for one job.
WaitOne = Callable[[str, StatusCallback], Awaitable[JobResult]]


@dataclass(frozen=True)
class Output:
    """Where and how much to show: ``-q`` and ``--json``."""

    quiet: bool = False
    json: bool = False
    verbose: bool = False  # -v: the log says each status change
    out: TextIO | None = None  # None: sys.stdout when written to (tests replace it)
    err: TextIO | None = None

    @property
    def stdout(self) -> TextIO:
        return self.out or sys.stdout

    @property
    def stderr(self) -> TextIO:
        return self.err or sys.stderr

    @property
    def progress_stream(self) -> TextIO:
        """With ``--json`` stdout is for the results alone; progress goes to stderr."""
        return self.stderr if self.json else self.stdout


async def run_waits(
    hook: Any,
    title: str,
    job_ids: Sequence[str],
    wait: WaitOne,
    poll_interval: float,
    output: Output,
    explain: Callable[[str], str] = in_flags,
) -> int:
    """Wait on every job on ``hook`` (entered here), show progress, print the results; the exit
    code (0 all succeeded, 1 otherwise). Raises ``UsageError`` on a configuration error, worded
    by ``explain``.

    The display opens once the configuration has proven itself: a job's first status, a wait
    that ended, or a call being retried (it reached the service). A configuration error (no
    region, no credentials), found by the first calls, is the command's only output then: exit
    2 means nothing was waited on, and no progress was shown for it."""
    job_ids = list(dict.fromkeys(job_ids))  # the same id twice is one wait
    async with hook:
        tracker = Tracker(title, job_ids, lambda: int(hook.stats()["calls"]), poll_interval)
        display = make_display(
            tracker, output.progress_stream, quiet=output.quiet, logged=output.verbose
        )
        early: list[tuple[str, str, str]] = []  # changes before the display opened
        opened = False
        answered = asyncio.Event()

        def on_status(result: JobResult) -> None:
            job_id, status = result.job_id, result.status
            if job_id in tracker.statuses and tracker.statuses[job_id] != status:
                previous = tracker.update(job_id, status)
                answered.set()
                if opened:
                    display.changed(job_id, previous, status)
                else:
                    early.append((job_id, previous, status))

        took: dict[str, float] = {}

        async def one(job_id: str) -> JobResult:
            started = time.monotonic()
            try:
                return await wait(job_id, on_status)
            finally:
                took[job_id] = time.monotonic() - started
                tracker.end(job_id)

        waits = [asyncio.ensure_future(one(j)) for j in job_ids]
        try:
            await _first_answer(waits, answered, hook)
            for job_id, task in zip(job_ids, waits, strict=True):
                error = task.exception() if task.done() and not task.cancelled() else None
                if isinstance(error, HookConfigError):
                    classify(title, job_id, error, None, explain)  # raises UsageError
            async with display:
                opened = True
                for change in early:
                    display.changed(*change)
                ended = await asyncio.gather(*waits, return_exceptions=True)
        finally:
            for task in waits:
                task.cancel()
            await asyncio.gather(*waits, return_exceptions=True)
        calls = tracker.snapshot().calls
    outcomes = [
        classify(title, j, e, took.get(j), explain) for j, e in zip(job_ids, ended, strict=True)
    ]
    _report(outcomes, tracker.elapsed(), calls, output)
    return exit_code(outcomes)


#: How often the first round looks for a retried call (the display's own redraw pace).
RETRY_LOOK_EVERY = 0.25


async def _first_answer(
    waits: Sequence[asyncio.Future[JobResult]], answered: asyncio.Event, hook: Any
) -> None:
    """Until a job's first status, a wait's end, or a retried call (the service was reached:
    region, credentials and endpoint are set, and the display may show the retries)."""

    async def retried() -> None:
        # The hook's counters have no event to wait on: looked at as often as a redraw.
        while not (hook.stats()["retries"] or hook.stats()["throttled"]):  # noqa: ASYNC110
            await asyncio.sleep(RETRY_LOOK_EVERY)

    watchers: list[asyncio.Future[Any]] = [
        asyncio.ensure_future(answered.wait()),
        asyncio.ensure_future(retried()),
    ]
    every: list[asyncio.Future[Any]] = [*waits, *watchers]
    try:
        await asyncio.wait(every, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)


def _report(outcomes: list[Outcome], elapsed: float, calls: int, output: Output) -> None:
    if output.json:
        for outcome in outcomes:
            output.stdout.write(json_line(outcome) + "\n")
        output.stdout.flush()
        return
    for outcome in outcomes:
        if not (output.quiet and outcome.succeeded):
            output.stdout.write(text_line(outcome) + "\n")
    if not output.quiet:
        output.stdout.write(summary(outcomes, elapsed, calls) + "\n")
    output.stdout.flush()

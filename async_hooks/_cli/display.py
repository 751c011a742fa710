"""Progress while jobs run: a live summary on a terminal, plain status-change lines otherwise.

The ``Tracker`` holds what is known (each job's last status, the API calls made); a display
shows it. On a terminal, rich redraws one line per status with its count, the elapsed time,
the calls and the next poll; in a pipe or a CI log, each status change is one line, so the
log reads as a history. ``-q`` shows nothing while waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TextIO

__all__ = [
    "CountsDisplay",
    "Display",
    "LiveDisplay",
    "PlainDisplay",
    "Snapshot",
    "Tracker",
    "make_display",
]

#: The status of a job not described yet.
PENDING = "(not seen yet)"


@dataclass(frozen=True)
class Snapshot:
    """What the display shows at one moment."""

    title: str
    counts: list[tuple[str, int]]
    elapsed: float
    calls: int
    next_poll: float | None


class Tracker:
    """Each job's last status and the calls made; ``next_poll`` is estimated from the moment
    the call count last moved (polls of one schedule go out together)."""

    def __init__(
        self,
        title: str,
        job_ids: Sequence[str],
        calls: Callable[[], int],
        poll_interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.title = title
        self.statuses = dict.fromkeys(job_ids, PENDING)
        self.ended: set[str] = set()
        self._calls = calls
        self._poll_interval = poll_interval
        self._clock = clock
        self.started = clock()
        self._seen_calls = calls()
        self._base_calls = self._seen_calls
        self._last_call: float | None = None

    def update(self, job_id: str, status: str) -> str:
        """Record ``status``; returns the previous one."""
        previous = self.statuses.get(job_id, PENDING)
        self.statuses[job_id] = status
        return previous

    def end(self, job_id: str) -> None:
        self.ended.add(job_id)

    def elapsed(self) -> float:
        return self._clock() - self.started

    def snapshot(self) -> Snapshot:
        now = self._clock()
        calls = self._calls()
        if calls != self._seen_calls:
            self._seen_calls, self._last_call = calls, now
        waiting = len(self.ended) < len(self.statuses)
        next_poll = None
        if waiting and self._last_call is not None:
            next_poll = max(0.0, self._last_call + self._poll_interval - now)
        counts = Counter(self.statuses.values())
        ordered = sorted(counts.items(), key=lambda item: (item[0] != PENDING, item[0]))
        return Snapshot(
            self.title, ordered, now - self.started, calls - self._base_calls, next_poll
        )


def _clock_text(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def footer(snapshot: Snapshot) -> str:
    """``elapsed 0:12 · API calls 34 · next poll in 18s``."""
    parts = [f"elapsed {_clock_text(snapshot.elapsed)}", f"API calls {snapshot.calls}"]
    if snapshot.next_poll is not None:
        wait = snapshot.next_poll
        parts.append(f"next poll in {wait:.1f}s" if wait < 10 else f"next poll in {wait:.0f}s")
    return " · ".join(parts)


class Display:
    """Shows nothing (``-q``); the base of the others. Use as ``async with display:``."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker

    def changed(self, job_id: str, previous: str, status: str) -> None:
        """A job's status changed (called by the wait's ``on_status``)."""

    async def __aenter__(self) -> Display:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class PlainDisplay(Display):
    """One line per status change, with the seconds since the start: for logs and pipes."""

    def __init__(self, tracker: Tracker, stream: TextIO) -> None:
        super().__init__(tracker)
        self.stream = stream

    def changed(self, job_id: str, previous: str, status: str) -> None:
        before = "new" if previous == PENDING else previous
        text = f"{self.tracker.title} {job_id}: {before} -> {status}"
        self.stream.write(f"{self.tracker.elapsed():7.1f}s  {text}\n")
        self.stream.flush()


def counts_text(snapshot: Snapshot) -> str:
    """``ecs: RUNNING 150 · STOPPED 50 | elapsed 0:03 · API calls 9``."""
    counts = " · ".join(f"{status} {n}" for status, n in snapshot.counts)
    return f"{snapshot.title}: {counts} | {footer(snapshot)}"


class _Ticking(Display):
    """A display redrawn by a task of its own while the waits run: ``_tick`` loops, started on
    entry; on exit it is stopped and ``_finish`` draws the last state."""

    _ticker: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        raise NotImplementedError

    def _open(self) -> None:
        """Before the first tick."""

    def _finish(self) -> None:
        """After the last tick."""

    async def __aenter__(self) -> Display:
        self._open()
        self._ticker = asyncio.create_task(self._tick())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        self._finish()


class CountsDisplay(_Ticking):
    """A line of counts whenever they change, at most every ``every`` seconds, and at the end:
    many jobs in a log without a line per change. Reads the tracker only, so threads may
    update it."""

    def __init__(self, tracker: Tracker, stream: TextIO, every: float = 1.0) -> None:
        super().__init__(tracker)
        self.stream = stream
        self.every = every
        self._shown: list[tuple[str, int]] | None = None

    def _show(self, force: bool = False) -> None:
        snapshot = self.tracker.snapshot()
        if force or snapshot.counts != self._shown:
            self._shown = snapshot.counts
            self.stream.write(f"  {counts_text(snapshot)}\n")
            self.stream.flush()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            self._show()

    def _finish(self) -> None:
        self._show(force=True)


class LiveDisplay(_Ticking):
    """rich's ``Live`` on a terminal, redrawn four times a second from the event loop."""

    refresh_every = 0.25

    def __init__(self, tracker: Tracker, stream: TextIO) -> None:
        from rich.console import Console
        from rich.live import Live

        super().__init__(tracker)
        self.console = Console(file=stream, highlight=False)
        self._live = Live(console=self.console, auto_refresh=False, transient=False)

    def render(self) -> Any:
        """The title and job count, a row per status with its count, then the footer."""
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        snapshot = self.tracker.snapshot()
        table = Table.grid(padding=(0, 2))
        table.add_column()
        table.add_column(justify="right")
        table.add_row(
            Text(snapshot.title, style="bold"), f"{sum(n for _, n in snapshot.counts)} jobs"
        )
        for status, count in snapshot.counts:
            table.add_row(Text(f"  {status}", style="dim" if status == PENDING else ""), str(count))
        return Group(table, Text(footer(snapshot), style="dim"))

    def changed(self, job_id: str, previous: str, status: str) -> None:
        """Redraw now (on the loop's thread; threads only update the tracker)."""
        self._live.update(self.render(), refresh=True)

    async def _tick(self) -> None:
        while True:
            self._live.update(self.render(), refresh=True)
            await asyncio.sleep(self.refresh_every)

    def _open(self) -> None:
        self._live.start()

    def _finish(self) -> None:
        self._live.update(self.render(), refresh=True)
        self._live.stop()


def make_display(
    tracker: Tracker,
    stream: TextIO,
    *,
    quiet: bool = False,
    per_job: bool = True,
    logged: bool = False,
) -> Display:
    """The live display on a terminal; elsewhere a line per status change (``per_job``) or
    a line of counts when they change; nothing with ``quiet``. ``logged`` (``-v``): the log
    already has a line per status change, so a per-job display off a terminal shows none."""
    if quiet:
        return Display(tracker)
    if stream.isatty():
        return LiveDisplay(tracker, stream)
    if not per_job:
        return CountsDisplay(tracker, stream)
    return Display(tracker) if logged else PlainDisplay(tracker, stream)

"""Trigger log lines written by one worker thread, never awaited on the triggerer's loop.

In a triggerer every log line goes down one socket to the supervisor, which reads it only
between its own loop iterations and not at all while it persists a burst of events (~20 ms an
event on two busy cores). A line logged on the loop then blocks the loop every trigger shares
until the supervisor drains the socket; a line awaited through ``asyncio.to_thread`` makes the
trigger's event wait for the same backlog (and, under Airflow 3.1-3.2.1's greenback portal, a
thread's wake-up can corrupt the runner's channel: apache/airflow#67380). So a trigger hands its
lines to a queue and goes on; one daemon thread writes them in order, each in the context that
was current when it was logged (Airflow routes a line to its trigger's log by context variables).

The queue is bounded: past ``MAX_PENDING`` lines a flood is counted, not kept, and one line says
how many were dropped once the backlog has drained.
"""

from __future__ import annotations

import atexit
import contextvars
import logging
import queue
import threading
from typing import Any

from async_hooks._result import JobResult

__all__ = ["MAX_PENDING", "StatusLog", "flush", "log"]

logger = logging.getLogger("async_hooks")

#: Lines waiting for the writer, at most; more are dropped and counted.
MAX_PENDING = 20_000

_Record = tuple[contextvars.Context, int, str, tuple[Any, ...]]
_lines: queue.Queue[_Record | threading.Event] = queue.Queue()
_lock = threading.Lock()
_state = {"pending": 0, "dropped": 0}
_writer: threading.Thread | None = None


def log(level: int, message: str, *args: Any) -> None:
    """Log ``message % args`` at ``level`` on the ``async_hooks`` logger from the writer thread,
    in the caller's context; returns at once."""
    if not logger.isEnabledFor(level):
        return
    with _lock:
        if _state["pending"] >= MAX_PENDING:
            _state["dropped"] += 1
            return
        _state["pending"] += 1
    _start()
    _lines.put((contextvars.copy_context(), level, message, args))


def flush(timeout: float = 5.0) -> bool:
    """Wait until every line logged so far is written; False if ``timeout`` passed first."""
    if _writer is None:
        return True
    done = threading.Event()
    _lines.put(done)
    return done.wait(timeout)


def _start() -> None:
    global _writer
    if _writer is not None:
        return
    with _lock:
        if _writer is None:
            _writer = threading.Thread(target=_write, name="async_hooks-log", daemon=True)
            _writer.start()
            atexit.register(flush, 2.0)


def _write() -> None:
    while True:
        item = _lines.get()
        if isinstance(item, threading.Event):
            item.set()
            continue
        context, level, message, args = item
        try:
            context.run(logger.log, level, message, *args)
        except Exception:  # a broken handler must not end the writer for every trigger
            pass
        with _lock:
            _state["pending"] -= 1
            dropped = _state["dropped"] if _state["pending"] == 0 else 0
            _state["dropped"] -= dropped
        if dropped:
            logger.warning("%d trigger log lines dropped: the log channel was full", dropped)


class StatusLog:
    """A wait's ``on_status``: the changes that tell something, logged from the writer thread
     in the trigger's context, never awaited. Not the first status (the job was
    found as it was) nor a success (Airflow's own "Trigger fired event" line says it)."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last: str | None = None

    def __call__(self, job: JobResult) -> None:
        before, self.last = self.last, job.status
        if before is None or job.succeeded:
            return
        log(logging.INFO, "%s job %s: %s -> %s", job.kind, job.job_id, before, job.status)

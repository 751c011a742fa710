"""Waiting, on the loop, for work done in a thread of our own.

Normally the thread wakes the loop when it is done (``asyncio.wrap_future``). Where a thread's
wake-up is unsafe (a trigger in Airflow 3.1.0-3.2.1's triggerer, where a wake-up under
greenback's portal crosses the runner's requests to its supervisor: apache/airflow #67380), the
caller sets ``THREAD_WAKEUPS`` to False in its own context and the loop looks at the thread's
result every ``LOOK_EVERY`` seconds instead: a few hundred looks once per process (a provider's
import, a service's models), against a triggerer that dies.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
from typing import TypeVar

__all__ = ["LOOK_EVERY", "THREAD_WAKEUPS", "finished"]

T = TypeVar("T")

#: Whether a thread may wake this context's loop when its work is done.
THREAD_WAKEUPS: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "async_hooks_thread_wakeups", default=True
)
#: How often the loop looks at a thread's result where the thread may not wake it.
LOOK_EVERY = 0.01


async def finished(future: concurrent.futures.Future[T]) -> T:
    """The result of ``future``, completed by another thread."""
    if THREAD_WAKEUPS.get():
        return await asyncio.wrap_future(future)
    while not future.done():  # noqa: ASYNC110 - an Event set from the thread is the wake-up
        await asyncio.sleep(LOOK_EVERY)
    return future.result()

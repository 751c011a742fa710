"""Ctrl-C as one line on every Python: the command's coroutine is cancelled, not interrupted.

Python 3.11's ``asyncio.run`` turns SIGINT into a cancellation of the main task; 3.10's lets the
``KeyboardInterrupt`` fly out of whatever the loop was running (an aiohttp request's task), which
then logs "Task exception was never retrieved" with a traceback on the way out. Here SIGINT
cancels the main task on every version, and the cancellation comes back as one
``KeyboardInterrupt``, which ``main`` prints as ``interrupted``. The cancellation is repeated
until the command has ended, so one that a racing result swallows cannot leave it running.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_interruptibly"]

T = TypeVar("T")


def run_interruptibly(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)``, a SIGINT cancelling it and raising ``KeyboardInterrupt``."""
    return asyncio.run(_guarded(coro))


async def _guarded(coro: Coroutine[Any, Any, T]) -> T:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    interrupted = False

    def on_sigint() -> None:
        nonlocal interrupted
        interrupted = True
        cancel()

    def cancel() -> None:
        # Again each second until the task ends: a cancellation that meets a result in the same
        # loop iteration can be lost (asyncio.wait_for before 3.12), and a lost one must not
        # leave the command waiting on jobs that never end.
        if not task.done():
            task.cancel()
            loop.call_later(1.0, cancel)

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        return await coro  # started ignoring Ctrl-C (a shell's background job): so it stays
    try:
        loop.add_signal_handler(signal.SIGINT, on_sigint)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
        return await coro
    try:
        return await coro
    except asyncio.CancelledError:
        if interrupted:
            raise KeyboardInterrupt from None
        raise
    finally:
        with contextlib.suppress(Exception):
            loop.remove_signal_handler(signal.SIGINT)

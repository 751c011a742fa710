"""The shared background event loop that every blocking facade runs its coroutines on."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["LoopThread", "shared_loop"]

T = TypeVar("T")
logger = logging.getLogger("async_hooks")

#: How long interpreter exit waits for calls still running on the shared loop.
EXIT_GRACE = 5.0


def _new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when asked for with ``ASYNC_HOOKS_LOOP=uvloop`` and installed, else asyncio's."""
    if os.environ.get("ASYNC_HOOKS_LOOP", "").lower() == "uvloop":
        try:
            import uvloop
        except ImportError:
            logger.warning("ASYNC_HOOKS_LOOP=uvloop but uvloop is not installed; using asyncio")
        else:
            loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
            return loop
    return asyncio.new_event_loop()


class LoopThread:
    """An event loop running forever on a daemon thread.

    Daemon, because interpreter shutdown joins non-daemon threads *before* ``atexit`` runs,
    and the loop must stay up until ``atexit`` has drained it and closed its clients.
    """

    def __init__(self) -> None:
        self.loop = _new_event_loop()
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="async_hooks-loop", daemon=True)
        self.thread.start()
        self._ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        self.loop.run_forever()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro``; the caller's contextvars are copied into the task."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self, grace: float = EXIT_GRACE) -> None:
        """Let running calls finish for ``grace`` seconds, cancel the rest, close every client."""
        if self.loop.is_closed() or not self.thread.is_alive():
            return
        try:
            self.submit(self._drain(grace)).result(timeout=grace + 10)
        except Exception:
            logger.warning("the shared loop did not drain cleanly", exc_info=True)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        if not self.thread.is_alive():
            self.loop.close()

    async def _drain(self, grace: float) -> None:
        current = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not current]
        if pending:
            _, still_running = await asyncio.wait(pending, timeout=grace)
            for task in still_running:
                task.cancel()
            await asyncio.gather(*still_running, return_exceptions=True)
        await self.loop.shutdown_asyncgens()


_lock = threading.Lock()
_shared: LoopThread | None = None
_owner_pid = os.getpid()
#: Loop threads inherited across os.fork(): the thread is gone in the child and their sockets
#: are the parent's, so they are kept referenced (never collected, never closed).
_abandoned: list[LoopThread] = []


def shared_loop() -> LoopThread:
    """The process's shared loop thread, started on first use (and anew in a forked child)."""
    global _shared
    loop_thread = _shared
    if loop_thread is not None:
        return loop_thread
    with _lock:
        if _shared is None:
            _shared = LoopThread()
        return _shared


def stop_shared_loop() -> None:
    """Drain and close the shared loop; the next blocking call starts a new one."""
    global _shared
    with _lock:
        loop_thread, _shared = _shared, None
    if loop_thread is not None and os.getpid() == _owner_pid:
        loop_thread.stop()


def _after_fork_in_child() -> None:
    global _shared, _owner_pid, _lock
    _lock = threading.Lock()
    if _shared is not None:
        _abandoned.append(_shared)
    _shared = None
    _owner_pid = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(stop_shared_loop)

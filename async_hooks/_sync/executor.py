"""``AsyncExecutor``: a ``concurrent.futures.Executor`` for code that mixes coroutines and calls."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from async_hooks._sync.awaitables import is_async_callable
from async_hooks._sync.loop_thread import shared_loop
from async_hooks.errors import HookConfigError

__all__ = ["AsyncExecutor"]

T = TypeVar("T")


class AsyncExecutor(concurrent.futures.Executor):
    """Runs coroutine functions on the shared loop, at most ``max_workers`` at once, and plain
    functions on a thread pool of ``max_workers`` threads.

    The AIP's AsyncExecutor, as a standard executor: existing code that submits work and waits on
    ``concurrent.futures`` futures gets thousands of cheap waits for the price of a few threads.
    """

    def __init__(self, max_workers: int = 100) -> None:
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
            raise HookConfigError("AsyncExecutor.max_workers must be an int >= 1")
        self.max_workers = max_workers
        self._lock = threading.Lock()
        self._shutdown = False
        self._threads: concurrent.futures.ThreadPoolExecutor | None = None
        self._semaphores: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}
        self._pending: set[concurrent.futures.Future[Any]] = set()

    def submit(
        self, fn: Callable[..., T], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            if not is_async_callable(fn):
                if self._threads is None:
                    self._threads = concurrent.futures.ThreadPoolExecutor(
                        self.max_workers, thread_name_prefix="async_hooks-executor"
                    )
                return self._threads.submit(fn, *args, **kwargs)
            loop_thread = shared_loop()
            future = loop_thread.submit(self._bounded(loop_thread.loop, fn, args, kwargs))
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return future

    async def _bounded(
        self,
        loop: asyncio.AbstractEventLoop,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.max_workers)
        async with semaphore:
            return await fn(*args, **kwargs)

    def _forget(self, future: concurrent.futures.Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True
            pending = list(self._pending)
            threads = self._threads
        if cancel_futures:
            for future in pending:
                future.cancel()
        if threads is not None:
            threads.shutdown(wait=wait, cancel_futures=cancel_futures)
        if wait:
            concurrent.futures.wait(pending)

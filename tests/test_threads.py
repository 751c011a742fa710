"""Waiting on a thread's work without letting the thread wake the loop (Airflow 3.1.0-3.2.1's
triggerer, apache/airflow #67380), and with it everywhere else."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading

import pytest

from async_hooks._core.threads import THREAD_WAKEUPS, finished


class CountingLoop(asyncio.SelectorEventLoop):
    """A real loop that counts the wake-ups other threads ask of it."""

    wakeups = 0

    def call_soon_threadsafe(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.wakeups += 1
        return super().call_soon_threadsafe(*args, **kwargs)


@pytest.mark.parametrize(("may_wake", "woken"), [(True, True), (False, False)])
def test_a_threads_result_reaches_the_loop_with_or_without_a_wake_up(may_wake, woken):
    done_by_thread = threading.Event()

    async def main() -> int:
        THREAD_WAKEUPS.set(may_wake)
        future: concurrent.futures.Future[int] = concurrent.futures.Future()

        def work() -> None:
            future.set_result(42)
            done_by_thread.set()

        threading.Thread(target=work).start()
        return await finished(future)

    loop = CountingLoop()
    try:
        assert loop.run_until_complete(main()) == 42
    finally:
        loop.close()
    assert done_by_thread.is_set()
    assert (loop.wakeups > 0) is woken


def test_an_error_in_the_thread_is_raised_to_the_waiter():
    async def main() -> None:
        THREAD_WAKEUPS.set(False)
        future: concurrent.futures.Future[int] = concurrent.futures.Future()
        threading.Thread(target=future.set_exception, args=(ValueError("no models"),)).start()
        await finished(future)

    with pytest.raises(ValueError, match="no models"):
        asyncio.run(main())

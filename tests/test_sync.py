"""The sync bridge: run_sync, hook.sync, AsyncExecutor and delay, on the shared loop thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import inspect
import os
import subprocess
import sys
import threading
import time

import pytest
from conftest import in_forked_child

import async_hooks
from async_hooks import (
    AsyncBaseHook,
    AsyncExecutor,
    AsyncHttpHook,
    SyncInAsyncError,
    delay,
    run_sync,
)
from async_hooks._sync.awaitables import is_async_callable
from async_hooks._sync.facade import blocking

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


async def _add(a: int, b: int) -> int:
    await asyncio.sleep(0)
    return a + b


async def _boom() -> None:
    raise KeyError("from the loop")


def test_run_sync_with_an_async_function_and_arguments():
    assert run_sync(_add, 2, b=3) == 5


def test_run_sync_with_a_coroutine_object():
    assert run_sync(_add(1, 1)) == 2


def test_run_sync_raises_the_coroutines_exception():
    with pytest.raises(KeyError, match="from the loop"):
        run_sync(_boom)


def test_run_sync_runs_on_one_shared_loop_thread():
    async def where() -> tuple[int, asyncio.AbstractEventLoop]:
        return threading.get_ident(), asyncio.get_running_loop()

    first, second = run_sync(where), run_sync(where)
    assert first == second
    assert first[0] != threading.get_ident()


def test_run_sync_from_many_plain_threads():
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda n: run_sync(_add, n, n), range(50)))
    assert results == [n * 2 for n in range(50)]


def test_contextvars_are_copied_to_the_loop():
    async def read() -> str:
        return request_id.get()

    token = request_id.set("abc-123")
    try:
        assert run_sync(read) == "abc-123"
    finally:
        request_id.reset(token)


async def test_run_sync_inside_a_loop_raises_and_leaves_no_unawaited_coroutine():
    with pytest.raises(SyncInAsyncError, match="await"):
        run_sync(_add(1, 2))  # the coroutine is closed: no "never awaited" warning follows
    with pytest.raises(SyncInAsyncError):
        run_sync(_add, 1, 2)


async def test_the_sync_facade_inside_a_loop_names_the_method(job_server):
    server = job_server()
    hook = AsyncHttpHook(server.url)
    with pytest.raises(
        SyncInAsyncError, match=r"AsyncHttpHook\.sync\.get_json\(\).*await hook\.get_json"
    ):
        hook.sync.get_json("/ping")
    assert server.board.requests == 0


def test_the_sync_facade_from_a_plain_thread(job_server):
    server = job_server()
    job = server.create(polls=1)
    hook = AsyncHttpHook(server.url)
    assert hook.sync.get_json("/ping") == {"ok": True}
    result = hook.sync.wait_for_job(f"/jobs/{job}", poll_interval=0.01)
    assert result.succeeded
    assert hook.run_sync(hook.get_json, "/ping") == {"ok": True}
    hook.sync.close()
    assert hook.stats()["clients_created"] == 1


def _public_coroutine_methods(cls: type) -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and is_async_callable(member)
    }


@pytest.mark.parametrize(
    "hook_class", [AsyncHttpHook, async_hooks.AsyncAwsHook, async_hooks.AsyncGcpHook]
)
def test_every_public_coroutine_method_has_its_blocking_twin(hook_class):
    facade_class = type(hook_class.sync.fget(object.__new__(hook_class)))  # type: ignore[attr-defined]
    for name in _public_coroutine_methods(hook_class):
        twin = inspect.getattr_static(facade_class, name, None)
        assert isinstance(twin, blocking), f"{hook_class.__name__}.sync.{name} is missing"
        assert twin.name == name


def test_the_base_facade_covers_the_base_methods():
    assert _public_coroutine_methods(AsyncBaseHook) == {"close", "wait_for_job"}


def test_shared_loop_survives_fork(job_server):
    server = job_server()
    hook = AsyncHttpHook(server.url)
    assert hook.sync.get_json("/ping") == {"ok": True}  # parent's loop and session exist

    def child() -> bool:  # a new loop and session; the parent's are left untouched
        ok = hook.sync.get_json("/ping") == {"ok": True}
        return ok and hook.stats()["clients_created"] == 2

    code, reported = in_forked_child(child)
    assert code == 0, reported
    # The parent's cached session still works: the child closed none of its sockets.
    assert hook.sync.get_json("/ping") == {"ok": True}
    assert hook.stats()["clients_created"] == 1
    hook.sync.close()


def test_executor_runs_coroutines_on_the_loop_within_max_workers():
    running = 0
    peak = 0
    full = asyncio.Event()  # set on the loop thread when three run at once

    async def work(n: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 3:
            full.set()
        # The first three wait for each other (a fourth, were it let in, would make peak 4);
        # then each does its bit of work.
        await asyncio.wait_for(full.wait(), 30)
        await asyncio.sleep(0.02)
        running -= 1
        return n

    with AsyncExecutor(max_workers=3) as executor:
        futures = [executor.submit(work, n) for n in range(12)]
        assert [f.result(timeout=10) for f in futures] == list(range(12))
    assert peak == 3


def test_executor_runs_plain_functions_in_threads():
    with AsyncExecutor(max_workers=2) as executor:
        names = list(executor.map(lambda _: threading.current_thread().name, range(4)))
    assert all(name.startswith("async_hooks-executor") for name in names)


def test_executor_shutdown_cancels_pending_futures_and_refuses_new_work():
    executor = AsyncExecutor(max_workers=1)
    started = threading.Event()

    async def hold() -> None:
        started.set()
        await asyncio.sleep(30)

    futures = [executor.submit(hold) for _ in range(3)]
    assert started.wait(30)  # one is running, two are pending
    executor.shutdown(wait=True, cancel_futures=True)
    assert all(f.cancelled() for f in futures)
    with pytest.raises(RuntimeError):
        executor.submit(hold)


def test_executor_rejects_bad_max_workers():
    with pytest.raises(async_hooks.HookConfigError):
        AsyncExecutor(max_workers=0)


async def test_delay_async_branch_lets_other_tasks_run():
    ticked = asyncio.Event()

    async def ticker() -> None:
        for _ in range(5):
            await asyncio.sleep(0.01)
        ticked.set()

    waiting = asyncio.create_task(delay(60, use_async=True))
    task = asyncio.create_task(ticker())
    await asyncio.wait_for(ticked.wait(), 30)  # five ticks while delay() waits
    assert not waiting.done()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await task
    loop = asyncio.get_running_loop()
    started = loop.time()
    await delay(0.05, use_async=True)
    assert loop.time() - started >= 0.05  # and it waits as long as asked


async def test_delay_blocking_branch_blocks_the_loop(monkeypatch):
    monkeypatch.setenv("ASYNC_HOOKS_USE_ASYNC", "false")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    started = time.monotonic()
    await delay(0.2)  # use_async=None: read from ASYNC_HOOKS_USE_ASYNC
    assert time.monotonic() - started >= 0.19
    assert ticks <= 1
    task.cancel()


def test_uvloop_is_used_when_asked_for():
    pytest.importorskip("uvloop")
    code = (
        "import asyncio, async_hooks\n"
        "async def kind(): return type(asyncio.get_running_loop()).__module__\n"
        "print(async_hooks.run_sync(kind))\n"
    )
    env = {**os.environ, "ASYNC_HOOKS_LOOP": "uvloop"}
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.strip().startswith("uvloop")

"""What a sleeping wait in a shared schedule holds: its task, and one small object (the wait is
its own state, its task's awaitable and what the task sleeps on), not a coroutine frame, a
future, its iterator and a set entry besides. Measured with tracemalloc at an event: all waits
asleep after the first tick told them their status."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc

from test_shared_schedule import Board, schedule_of, schedules

from async_hooks._core.plan import PollTiming
from async_hooks._core.waiting import wait_until_done
from async_hooks.testing.jobserver import until

WAITS = 2000
#: Bytes a sleeping wait may hold, its task included (an asyncio task is about 530 with its
#: entry in the loop's task set and its wake-up callback; the wait about 500 with its place in
#: its group, its deadline's bucket and its packed payload). The coroutine frame, future,
#: iterator and per-hook set it replaced made 1,740.
MAX_BYTES_PER_WAIT = 1300


async def test_a_sleeping_shared_wait_holds_its_task_and_one_small_object():
    board = Board()
    ids = [board.add(f"j{n}", "RUNNING") for n in range(WAITS)]
    board.seen.update(ids)  # the board's own counters, made before measuring
    plans = [board.plan(job_id) for job_id in ids]  # the provider's part, made per wait
    # A long interval: the first tick comes after the gathering window, the next an hour on.
    timing = PollTiming(poll_interval=3600.0, timeout=7200.0)
    owner = object()

    def asleep() -> bool:
        if schedules().get(board.batch.key) is None:
            return False
        states = list(schedule_of(board)._states())
        return len(states) == WAITS and all(
            state.polls and state._waker is not None for state in states
        )

    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        waits = [
            asyncio.ensure_future(wait_until_done(plan, timing, schedules=schedules(), owner=owner))
            for plan in plans
        ]
        await until(asleep)
        gc.collect()
        held = (tracemalloc.get_traced_memory()[0] - before) / WAITS
    finally:
        tracemalloc.stop()
    for task in waits:
        task.cancel()
    await asyncio.gather(*waits, return_exceptions=True)
    assert all(task.cancelled() for task in waits)
    assert schedules().get(board.batch.key) is None  # every wait left, and its schedule with it
    assert held < MAX_BYTES_PER_WAIT, f"{held:.0f} bytes per sleeping wait"

"""The core's shared schedule, driven through its own interface: a ``PollPlan`` with a
``BatchDescribe`` whose fetchers are plain async functions over a board of job states, and the
loop's memo (``LoopState.shared``). Nothing here is timed: every step waits on what the fetchers
saw."""

from __future__ import annotations

import asyncio
import json
import math
import textwrap
from collections import Counter
from typing import Any

import pytest
from conftest import run_dev_mode

from async_hooks import JobFailedError, JobTimeoutError, TransientError
from async_hooks._core.loopstate import LoopState, current_state
from async_hooks._core.plan import BatchDescribe, PollPlan, PollTiming
from async_hooks._core.schedule import Schedules
from async_hooks._core.schedule.schedule import PollSchedule
from async_hooks._core.waiting import wait_until_done
from async_hooks.testing.jobserver import until

FAST = 0.01  # seconds between ticks: the schedule's cadence, never asserted on


class Board:
    """Jobs whose states advance one step per describe; what the fetchers were asked."""

    def __init__(self, key: str = "board") -> None:
        self.scripts: dict[str, list[str]] = {}
        self.seen: Counter[str] = Counter()
        self.batches: list[list[str]] = []
        self.singles: list[str] = []
        self.hold: set[str] = set()  # ids that stay in their current state while held
        self.unlisted: set[str] = set()  # ids the batch answer leaves out
        self.failures: list[BaseException] = []  # raised by the next batch calls, in order
        self.finished: Counter[str] = Counter()  # ``finish`` calls: one per wake-up
        self.batch = BatchDescribe(
            key=("test", key), batch_max=100, fetch_many=self.fetch_many, fetch_one=self.fetch_one
        )

    def add(self, job_id: str, *states: str) -> str:
        self.scripts[job_id] = list(states)
        return job_id

    def _item(self, job_id: str) -> dict[str, Any]:
        script = self.scripts[job_id]
        if job_id not in self.hold:
            self.seen[job_id] += 1
        status = script[min(max(self.seen[job_id], 1), len(script)) - 1]
        return {"id": job_id, "status": status, "reason": f"{job_id} broke"}

    async def fetch_many(self, job_ids: list[str]) -> dict[str, Any]:
        self.batches.append(list(job_ids))
        if self.failures:
            raise self.failures.pop(0)
        return {i: self._item(i) for i in job_ids if i not in self.unlisted}

    async def fetch_one(self, job_id: str) -> dict[str, Any]:
        self.singles.append(job_id)
        return self._item(job_id)

    async def finish(self, payload: dict[str, Any], status: str) -> dict[str, Any]:
        self.finished[payload["id"]] += 1
        return payload

    def plan(self, job_id: str) -> PollPlan:
        async def alone() -> dict[str, Any]:
            return await self.fetch_one(job_id)

        return PollPlan(
            "fake",
            job_id,
            alone,
            lambda payload: str(payload["status"]),
            frozenset({"DONE"}),
            frozenset({"FAILED"}),
            lambda payload: payload.get("reason"),
            batch=self.batch,
            finish=self.finish,
        )

    def calls_with(self, *job_ids: str) -> int:
        return sum(1 for batch in self.batches if set(job_ids) <= set(batch))


OWNER = object()  # the hook whose waits these are


def schedules() -> Schedules:
    return current_state().memo(("poll-schedules",), Schedules)


def wait(board: Board, job_id: str, owner: object = OWNER, **timing: Any) -> asyncio.Task[Any]:
    plan = board.plan(job_id)
    timing = {"poll_interval": FAST, **timing}
    wait = wait_until_done(plan, PollTiming(**timing), schedules=schedules(), owner=owner)
    return asyncio.ensure_future(wait)


def schedule_of(board: Board) -> PollSchedule:
    schedule = schedules().get(board.batch.key)
    assert schedule is not None, "no wait of this board is in a schedule"
    return schedule


async def test_a_wait_wakes_only_when_its_status_changes():
    board = Board()
    ids = [board.add(f"j{n}", *["PENDING"] * 3, *["RUNNING"] * 4, "DONE") for n in range(30)]
    results = await asyncio.gather(*(wait(board, job_id) for job_id in ids))
    assert all(r.succeeded and r.status == "DONE" for r in results)
    assert [r.polls for r in results] == [8] * 30  # every tick that described it counts
    # Woken three times each: PENDING (new), RUNNING, DONE; never for the five polls between.
    assert board.finished == dict.fromkeys(ids, 3)
    assert len(board.batches) == 8  # started together: one call per tick for all 30


async def test_waits_started_at_different_times_join_the_running_ticks():
    board = Board()
    ids = [board.add(f"j{n}", "RUNNING") for n in range(12)]
    board.hold.update(ids)  # RUNNING until released
    tasks = []
    for job_id in ids:  # one new wait per tick of the schedule
        calls = len(board.batches)
        tasks.append(wait(board, job_id))
        await until(lambda calls=calls: len(board.batches) > calls)
    await until(lambda: board.calls_with(*ids) >= 2)  # every wait in one call per tick
    for job_id in ids:
        board.scripts[job_id] = ["DONE"]
    results = await asyncio.gather(*tasks)
    assert all(r.succeeded for r in results)
    # 12 arrivals, one per tick, then ticks of all 12: never a call per wait.
    polls = sum(r.polls for r in results)
    assert len(board.batches) <= polls / 4
    assert max(len(batch) for batch in board.batches) == 12


async def test_a_back_off_wait_moves_to_the_tick_of_its_longer_interval():
    board = Board()
    stretching = board.add("stretching", "RUNNING")
    steady = board.add("steady", "RUNNING")
    board.hold.update({stretching, steady})
    tasks = [
        wait(board, stretching, backoff=2.0, max_poll_interval=4 * FAST),
        wait(board, steady, poll_interval=4 * FAST),
    ]
    # The back-off wait polls at FAST, 2 FAST, then 4 FAST: in the steady wait's ticks.
    await until(lambda: board.calls_with(stretching, steady) >= 2)
    schedule = schedule_of(board)
    groups = schedule._groups
    assert list(groups) == [4 * FAST]
    assert set(groups[4 * FAST].members) == {stretching, steady}
    board.scripts[stretching] = board.scripts[steady] = ["DONE"]
    results = await asyncio.gather(*tasks)
    assert all(r.succeeded for r in results)
    assert not schedule._groups  # the last wait left: the timer stopped
    assert schedules().get(board.batch.key) is None  # ... and the schedule is forgotten


async def test_a_wait_keeps_its_own_timeout_inside_a_shared_tick():
    board = Board()
    stuck, other = board.add("stuck", "RUNNING"), board.add("other", "RUNNING")
    board.hold.add(other)
    timing_out = wait(board, stuck, timeout=2.0)
    waiting_on = wait(board, other)
    with pytest.raises(JobTimeoutError) as caught:
        await timing_out
    assert caught.value.last_status == "RUNNING"
    result = caught.value.result
    assert result is not None and result.response["id"] == "stuck"
    assert result.polls == board.seen["stuck"] >= 1  # polls are ticks that described it
    calls = len(board.batches)
    await until(lambda: len(board.batches) > calls + 1)  # the schedule goes on without it
    assert board.batches[-1] == ["other"]
    board.scripts[other] = ["DONE"]
    assert (await waiting_on).succeeded


async def test_deadlines_share_timers_and_an_ended_wait_leaves_no_timer_behind():
    board = Board()
    ids = [board.add(f"j{n}", "RUNNING", "DONE") for n in range(50)]
    stuck = board.add("stuck", "RUNNING")
    timing_out = wait(board, stuck, timeout=1.0)
    tasks = [wait(board, job_id, timeout=3600.0) for job_id in ids]
    await until(lambda: board.calls_with(*ids) >= 1)
    deadlines = schedule_of(board)._deadlines
    # 51 deadlines set within one loop turn fall in a few buckets (one timer each), not 51
    assert 1 <= len(deadlines) < 10
    results = await asyncio.gather(*tasks)
    assert all(result.succeeded for result in results)
    with pytest.raises(JobTimeoutError):
        await timing_out
    assert len(deadlines) == 0  # the ended waits took their deadlines with them


async def test_a_cancelled_wait_leaves_at_once_and_an_empty_group_stops():
    board = Board()
    ids = [board.add(f"j{n}", "RUNNING") for n in range(3)]
    tasks = [wait(board, job_id) for job_id in ids]
    await until(lambda: board.calls_with(*ids) >= 1)
    tasks[0].cancel()
    with pytest.raises(asyncio.CancelledError):
        await tasks[0]
    schedule = schedule_of(board)
    group = schedule._groups[FAST]
    assert set(group.members) == {"j1", "j2"}  # left at once, not at its next tick
    calls = len(board.batches)
    await until(lambda: len(board.batches) > calls + 1)
    assert "j0" not in board.batches[-1]
    for task in tasks[1:]:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert schedule._groups == {}
    assert group.handle is None or group.handle.cancelled()
    assert len(schedules()) == 0


async def test_poll_errors_wake_the_wait_and_failures_keep_their_reason(caplog):
    caplog.set_level("WARNING", logger="async_hooks")
    board = Board()
    ok, bad = board.add("ok", "RUNNING", "DONE"), board.add("bad", "RUNNING", "FAILED")
    board.failures = [
        TransientError("the batch call failed", provider="test", operation="describe")
    ]
    results = await asyncio.gather(wait(board, ok), wait(board, bad), return_exceptions=True)
    assert results[0].succeeded and results[0].polls == 3  # the failed poll counts
    assert isinstance(results[1], JobFailedError) and results[1].reason == "bad broke"
    assert sum("poll 1 failed (TransientError)" in r.getMessage() for r in caplog.records) == 2


async def test_an_id_the_batch_answer_leaves_out_is_polled_alone():
    board = Board()
    listed, unlisted = board.add("listed", "RUNNING", "DONE"), board.add("unlisted", "DONE")
    board.unlisted.add(unlisted)
    results = await asyncio.gather(wait(board, listed), wait(board, unlisted))
    assert all(r.succeeded for r in results)
    assert board.singles == ["unlisted"]


async def test_closing_the_schedule_stops_its_timers_and_ticks():
    board = Board()
    job = board.add("j", "RUNNING")
    task = wait(board, job)
    await until(lambda: len(board.batches) >= 1)
    schedule = schedule_of(board)
    await schedule.aclose()
    assert not schedule._ticks
    assert all(group.handle is None for group in schedule._groups.values())
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


SHUTDOWN_SCRIPT = textwrap.dedent(
    """
    import asyncio
    from async_hooks._core.loopstate import current_state
    from async_hooks._core.plan import BatchDescribe, PollPlan, PollTiming
    from async_hooks._core.schedule import Schedules
    from async_hooks._core.waiting import wait_until_done

    calls = []

    async def fetch_many(ids):
        calls.append(len(ids))
        await asyncio.sleep(0.01 if len(calls) < 3 else 3600)  # the third call never answers
        return {i: {"status": "RUNNING"} for i in ids}

    async def fetch_one(job_id):
        return {"status": "RUNNING"}

    batch = BatchDescribe(key="k", batch_max=10, fetch_many=fetch_many, fetch_one=fetch_one)

    async def main():
        for n in range(25):
            plan = PollPlan(
                "fake", f"j{n}", lambda: fetch_one(""), lambda p: p["status"],
                frozenset({"DONE"}), frozenset(), lambda p: None, batch=batch,
            )
            timing = PollTiming(poll_interval=0.01, timeout=None)
            schedules = current_state().memo(("poll-schedules",), Schedules)
            asyncio.ensure_future(wait_until_done(plan, timing, schedules=schedules, owner=1))
        while len(calls) < 3:
            await asyncio.sleep(0.005)
        # main returns with 25 waits asleep and a tick's call in flight: asyncio.run cancels
        # the tasks, then the loop state closes the schedules

    asyncio.run(main())
    print("done", len(calls) >= 3)
    """
)


def test_loop_shutdown_stops_the_shared_schedule_without_warnings():
    out = run_dev_mode(SHUTDOWN_SCRIPT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "done True", out.stdout
    for complaint in ("never retrieved", "destroyed but it is pending", "Unclosed", "Warning"):
        assert complaint not in out.stderr, out.stderr


# ---------------------------------------------------------------------- the loop's memo


async def test_the_memo_builds_once_for_hundreds_of_callers():
    state = LoopState()
    release = asyncio.Event()
    builds = []

    async def build() -> object:
        builds.append(1)
        await release.wait()
        return object()

    callers = [asyncio.ensure_future(state.shared("k", build)) for _ in range(300)]
    await until(lambda: builds)
    callers[0].cancel()  # one caller gives up: nobody else fails, the build goes on
    release.set()
    values = await asyncio.gather(*callers[1:])
    assert builds == [1]
    assert len({id(v) for v in values}) == 1
    assert await state.shared("k", build) is values[0]  # remembered: no second build
    assert callers[0].cancelled()
    await state.aclose()


async def test_the_synchronous_memo_builds_at_once_and_is_closed_with_the_rest():
    state = LoopState()
    closed = []

    class Schedule:
        async def aclose(self) -> None:
            closed.append(self)

    builds = []

    def build() -> Schedule:
        builds.append(1)
        return Schedule()

    first = state.memo("k", build)
    assert all(state.memo("k", build) is first for _ in range(1000))
    assert builds == [1]
    assert await state.shared("k", build_async_never) is first  # one memo for both
    await state.aclose()
    assert closed == [first]


async def build_async_never() -> object:
    raise AssertionError("the memo has the value: no async build")


async def test_a_failed_build_is_not_remembered():
    state = LoopState()
    attempts = []

    async def build() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("first build fails")
        return "built"

    first = await asyncio.gather(
        state.shared("k", build), state.shared("k", build), return_exceptions=True
    )
    assert [type(e) for e in first] == [RuntimeError, RuntimeError]  # one build, both told
    await until(lambda: "k" not in state._memo)
    assert await state.shared("k", build) == "built"
    assert attempts == [1, 1]
    await state.aclose()


async def test_closing_the_loop_state_closes_what_it_shares():
    state = LoopState()
    closed = []

    class Resource:
        async def aclose(self) -> None:
            closed.append(self)

    async def resource() -> Resource:
        return Resource()

    async def plain() -> dict[str, int]:
        return {"no": 1}

    async def never() -> None:
        await asyncio.Event().wait()

    held = await state.shared("resource", resource)
    await state.shared("plain", plain)
    pending = asyncio.ensure_future(state.shared("pending", never))
    await until(lambda: "pending" in state._memo)
    await state.aclose()
    assert closed == [held]
    with pytest.raises(asyncio.CancelledError):
        await pending  # a build still running at shutdown is cancelled


def test_a_kept_payload_is_packed_and_read_back_equal():
    from datetime import datetime, timezone

    from async_hooks._core.schedule.payloads import PayloadStore

    store = PayloadStore()
    answer = '{"id": "j", "status": "RUNNING", "n": [1, 2.5, null, true], "arn": "arn:aws:x/j"}'
    plain = json.loads(answer)
    kept = store.pack(plain)
    assert isinstance(kept, bytes) and len(kept) < len(answer)
    assert store.unpack(kept) == plain and store.unpack(kept) is not plain
    tupled = store.pack({**plain, "t": (1, "x")})  # a tuple stays a tuple
    assert store.unpack(tupled)["t"] == (1, "x")
    dated = {**plain, "createdAt": datetime(2026, 12, 1, tzinfo=timezone.utc)}  # marshal can't
    assert store.unpack(store.pack(dated)) == dated
    assert type(store.unpack(store.pack(dated))["createdAt"]) is datetime
    unpicklable = {"callback": lambda: None}
    assert store.unpack(store.pack(unpicklable)) is unpicklable  # kept as it is
    assert store.unpack(None) is None  # nothing kept yet


async def test_a_newcomer_whose_deadline_comes_before_the_next_tick_is_polled_first():
    # A resumed Airflow trigger: its remaining timeout (here 30 s) is shorter than the running
    # group's interval (an hour), so waiting for the group's next tick would time it out
    # without a single poll. It gets an extra tick of its own instead.
    board = Board()
    running = board.add("running", "RUNNING")
    board.hold.add(running)
    first = wait(board, running, poll_interval=3600.0)
    await until(lambda: board.calls_with(running) >= 1)
    done = board.add("done", "DONE")
    result = await wait(board, done, poll_interval=3600.0, timeout=30.0)
    assert result.succeeded and result.polls == 1
    assert board.calls_with(running) == 1  # the extra tick polled the newcomer only
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)


async def test_status_changes_are_logged_in_the_waits_own_context():
    # Airflow routes a triggerer's log lines by the trigger bound in the context: a tick (one
    # task for all waits) must not log another wait's status change in its own context.
    import contextvars
    import logging

    trigger: contextvars.ContextVar[str | None] = contextvars.ContextVar("trigger", default=None)
    lines: list[tuple[str, str | None]] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append((record.getMessage(), trigger.get()))

    board = Board()
    ids = [board.add(name, "RUNNING", "DONE") for name in ("a", "b")]

    async def wait_as(name: str) -> Any:
        trigger.set(name)
        return await wait(board, name)

    handler = Capture()
    logger = logging.getLogger("async_hooks")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        results = await asyncio.gather(*(wait_as(name) for name in ids))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert all(result.succeeded for result in results)
    changes = [(message, where) for message, where in lines if " -> " in message]
    assert len(changes) == 4  # (new) -> RUNNING and RUNNING -> DONE, for each wait
    for message, where in changes:
        assert message.startswith(f"fake job {where}: ")


async def test_a_value_shared_for_hooks_goes_with_the_last_of_them():
    state = LoopState()
    closed = []

    class Session:
        async def aclose(self) -> None:
            closed.append(self)

    async def build() -> Session:
        return Session()

    first, second = object(), object()
    session = await state.shared("session", build, user=first)
    assert await state.shared("session", build, user=second) is session
    await state.release(first)
    assert closed == [] and "session" in state._memo  # the second hook still uses it
    await state.release(second)
    assert closed == [session] and "session" not in state._memo
    await state.aclose()


class _Member:
    """What ``Deadlines`` reads and calls of a ``WaitState``."""

    def __init__(self) -> None:
        self.bucket: object = None
        self.place = 0
        self.expired = asyncio.Event()

    def expire(self) -> None:
        self.expired.set()


async def test_a_bucket_leaver_anywhere_leaves_the_others_to_expire_and_is_never_expired():
    from async_hooks._core.schedule.deadlines import RESOLUTION, Deadlines

    deadlines = Deadlines()
    loop = asyncio.get_running_loop()
    due = (math.ceil(loop.time() / RESOLUTION) + 4) * RESOLUTION  # one bucket for all
    members = [_Member() for _ in range(9)]
    for member in members:
        deadlines.add(member, due)  # type: ignore[arg-type]
    assert len(deadlines) == 1
    leavers = [members[0], members[4], members[8], members[5]]  # first, middle, last, moved
    for leaver in leavers:
        deadlines.remove(leaver)  # type: ignore[arg-type]
        deadlines.remove(leaver)  # type: ignore[arg-type]  # idempotent
    stayers = [member for member in members if member not in leavers]
    await asyncio.wait_for(asyncio.gather(*(m.expired.wait() for m in stayers)), 60)
    assert not any(leaver.expired.is_set() for leaver in leavers)
    assert len(deadlines) == 0 and all(member.bucket is None for member in members)


async def test_a_full_bucket_is_followed_by_another_and_every_place_is_a_small_int():
    """600 deadlines in one slot: three buckets (256, 256, 88), each with its timer, so no wait's
    place is an int object of its own, nor its ``keep_from`` a float of its own; a filled bucket
    emptied by leavers cancels its timer."""
    from async_hooks._core.schedule.deadlines import BUCKET_MAX, RESOLUTION, Deadlines

    deadlines = Deadlines()
    loop = asyncio.get_running_loop()
    due = (math.ceil(loop.time() / RESOLUTION) + 4) * RESOLUTION
    members = [_Member() for _ in range(600)]
    for n, member in enumerate(members):
        deadlines.add(member, due, keep_from=due - 30 - n % 7)  # type: ignore[arg-type]
    assert len(deadlines) == 3
    assert max(member.place for member in members) == BUCKET_MAX - 1
    # A bucket keeps payloads from the earliest time any of its waits asked (one float each).
    assert {member.bucket.keep_from for member in members} == {due - 36}  # type: ignore[attr-defined]
    first_bucket = members[0].bucket
    handle = first_bucket.handle  # type: ignore[attr-defined]
    for member in members[:BUCKET_MAX]:  # the first, filled bucket empties
        deadlines.remove(member)  # type: ignore[arg-type]
    assert handle.cancelled() and len(deadlines) == 2
    stayers = members[BUCKET_MAX:]
    await asyncio.wait_for(asyncio.gather(*(m.expired.wait() for m in stayers)), 60)
    assert not any(member.expired.is_set() for member in members[:BUCKET_MAX])
    assert len(deadlines) == 0
    for member in members:  # close() cancels the filled buckets' timers too
        deadlines.add(member, due + 3600)  # type: ignore[arg-type]
    handles = {member.bucket.handle for member in members}  # type: ignore[attr-defined]
    deadlines.close()
    assert len(handles) == 3 and all(h.cancelled() for h in handles) and len(deadlines) == 0


def test_a_wait_keeps_payloads_from_its_buckets_time_and_always_once_expired():
    """Its bucket says from when a wait keeps payloads; a fired bucket is gone, and what an
    expired wait still reads (a slow ``on_status`` let news pile up) is its time-out's payload."""
    from types import SimpleNamespace

    from async_hooks._core.schedule.state import WaitState

    state = SimpleNamespace(bucket=None, expired=False)  # what ``keep_from`` reads
    assert WaitState.keep_from(state) == math.inf  # type: ignore[arg-type]  # no deadline
    state.bucket = SimpleNamespace(keep_from=12.5)
    assert WaitState.keep_from(state) == 12.5  # type: ignore[arg-type]
    state.bucket, state.expired = None, True  # ``Deadlines._fire``, then ``expire``
    assert WaitState.keep_from(state) == -math.inf  # type: ignore[arg-type]

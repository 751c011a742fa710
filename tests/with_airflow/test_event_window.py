"""The window of events on their way to Airflow's supervisor follows what it spends per event.

``Supervisor`` below plays Airflow 3.3's triggerer in time, as read in its source: the runner
takes every queued event into a message once per cycle and waits for the answer; the supervisor
answers a message once it has persisted the previous message's events (``handle_requests``,
then ``handle_events``, in one iteration of its loop), at ``cost`` seconds an event. No sleep
here is shorter than the model's, so a measured cost is never below the true one: the bounds
asserted hold on a busy machine. (tests/deployment/test_triggerer_floor.py runs the real one.)
"""

from __future__ import annotations

import asyncio
import collections

import pytest

from async_hooks.airflow._persist_cost import PersistCost
from async_hooks.airflow._release import PER_EVENT_SECONDS, EventGate, window

#: The runner's cycle between an answer and its next message (Airflow's is about a second).
CYCLE = 0.2


class Supervisor:
    """The runner's queue, taken once per cycle, each message answered once the previous
    message's events are persisted at ``cost`` seconds each; the messages' sizes, in order."""

    def __init__(self, cost: float) -> None:
        self.cost = cost
        self.queue: collections.deque[int] = collections.deque()
        self.messages: list[int] = []
        self.delivered: list[int] = []

    async def serve(self, events: int) -> None:
        loop = asyncio.get_running_loop()
        persisted_by = loop.time()
        while len(self.delivered) < events:
            await asyncio.sleep(CYCLE)
            taken = list(self.queue)
            self.queue.clear()
            if taken:
                self.messages.append(len(taken))
                self.delivered += taken
            await asyncio.sleep(max(0.0, persisted_by - loop.time()))  # the answer
            persisted_by = loop.time() + self.cost * len(taken)


async def burst(events: int, cost: float, budget: float) -> tuple[Supervisor, EventGate]:
    """``events`` triggers whose waits end together, through a gate with ``budget`` seconds a
    message (its first window sized at ``PER_EVENT_SECONDS``)."""
    supervisor = Supervisor(cost)
    gate = EventGate(supervisor.queue, window(budget, PER_EVENT_SECONDS), budget)

    async def trigger(index: int) -> None:
        await gate.turn()
        supervisor.queue.append(index)  # Airflow's run_trigger queues the yielded event
        gate.sent()

    triggers = [asyncio.ensure_future(trigger(index)) for index in range(events)]
    await asyncio.wait_for(supervisor.serve(events), timeout=120)
    await asyncio.gather(*triggers)
    assert sorted(supervisor.delivered) == list(range(events))
    return supervisor, gate


async def test_a_fast_supervisor_gets_fewer_larger_messages_each_within_the_budget() -> None:
    """5 ms an event, 1.5 s a message: the window starts at 100 (15 ms an event, the typical
    cost) and, once three messages have shown the cost, grows toward 300, never past it."""
    assert window(1.5, PER_EVENT_SECONDS) == 100
    supervisor, gate = await burst(900, cost=0.005, budget=1.5)
    assert supervisor.messages[:3] == [100, 100, 100], supervisor.messages
    assert max(supervisor.messages) > 100, supervisor.messages
    assert max(supervisor.messages) <= window(1.5, 0.005) == 300, supervisor.messages
    assert len(supervisor.messages) < 900 // 100, supervisor.messages
    assert gate.size <= 300


async def test_a_slow_supervisor_gets_smaller_messages_each_within_the_budget() -> None:
    """40 ms an event (dearer than the 15 ms the first window assumes), 0.4 s a message: the
    first three messages carry 26, every one after them at most 10."""
    assert window(0.4, PER_EVENT_SECONDS) == 26
    supervisor, gate = await burst(120, cost=0.04, budget=0.4)
    assert supervisor.messages[:3] == [26, 26, 26], supervisor.messages
    assert len(supervisor.messages[3:]) >= 4, supervisor.messages
    assert max(supervisor.messages[3:]) <= window(0.4, 0.04) == 10, supervisor.messages
    assert gate.size <= 10


def test_the_cost_is_the_time_between_the_next_two_takes_over_a_take() -> None:
    """Takes of 100, 93 and 7 events seen at 0.05, 2 and 5 s by looks 50 ms apart: the first
    100 cost at most the time from the look before the second take (1.95 s) to the look that
    saw the third (5 s); the queue's other, uncounted events only make a take look smaller."""
    cost = PersistCost()
    cost.restart(queued=0, entered=0)
    cost.look(0.0, queued=100, entered=100, least=50)  # queued, not yet taken
    cost.look(0.05, queued=0, entered=100, least=50)  # taken: 100
    cost.look(1.95, queued=100, entered=200, least=50)  # 100 more queued
    assert cost.per_event is None
    cost.look(2.0, queued=7, entered=200, least=50)  # 93 of them taken
    cost.look(4.95, queued=7, entered=200, least=50)
    assert cost.per_event is None
    cost.look(5.0, queued=0, entered=200, least=50)  # the last 7 taken
    assert cost.per_event == pytest.approx((5.0 - 1.95) / 100)
    assert "30.5 ms" in repr(cost)


def test_a_held_loop_makes_a_take_look_later_never_the_cost_look_smaller() -> None:
    """The look after the second take comes 3 s late (the loop was held): the take happened
    any time since the look before it, so the bound runs from there."""
    cost = PersistCost()
    cost.restart(queued=0, entered=0)
    for now, queued, entered in ((0.0, 100, 100), (0.05, 0, 100), (1.0, 100, 200)):
        cost.look(now, queued=queued, entered=entered, least=50)
    cost.look(4.0, queued=0, entered=200, least=50)  # taken at 1.0-4.0 s: seen at 4.0
    cost.look(4.05, queued=0, entered=200, least=50)
    cost.look(6.0, queued=0, entered=300, least=50)  # 100 more, taken by 6.0
    assert cost.per_event == pytest.approx((6.0 - 1.0) / 100)


def test_a_large_takes_tight_bound_is_not_undone_by_the_small_takes_after_it() -> None:
    """Takes of 60, 400, 60 and 60 events at 0, 2, 4, 13 and 15 s (the runner's cycle split the
    burst's arrivals): the 400 cost at most 9 s (22.5 ms an event), the 60s around them at most
    2 s (33 ms), mostly the supervisor's fixed work. Each is an upper bound; the cost is the
    least of them, not the last one seen."""
    cost = PersistCost()
    cost.restart(queued=0, entered=0)
    entered = 0
    for taken_at, events in ((0.0, 60), (2.0, 400), (4.0, 60), (13.0, 60), (15.0, 60)):
        entered += events
        cost.look(taken_at - 0.05, queued=events, entered=entered, least=50)
        cost.look(taken_at, queued=0, entered=entered, least=50)
    assert cost.per_event == pytest.approx((13.0 - 4.0 + 0.05) / 400)
    assert window(15.0, cost.per_event) > window(15.0, (15.0 - 13.0 + 0.05) / 60)


def test_small_takes_measure_nothing_and_a_restart_forgets_the_takes_not_the_cost() -> None:
    cost = PersistCost()
    for second, entered in enumerate((0, 10, 20, 30, 40)):
        cost.look(float(second), queued=0, entered=entered, least=50)
    assert cost.per_event is None  # takes of 10: the runner's cycle spaced them
    for second, entered in enumerate((140, 240, 340)):
        cost.look(10.0 + second, queued=0, entered=entered, least=50)
    assert cost.per_event == pytest.approx(2 / 100)  # from the look at 10 s to the one at 12
    cost.restart(queued=5, entered=340)
    cost.look(20.0, queued=5, entered=340, least=50)  # nothing taken
    assert cost.per_event == pytest.approx(2 / 100)


def test_the_window_is_bounded_however_cheap_events_look() -> None:
    from async_hooks.airflow._release import LEAST_PER_EVENT_SECONDS

    assert window(15.0, 0.0001) == int(15.0 / LEAST_PER_EVENT_SECONDS)
    assert window(0.01, 1.0) == 10

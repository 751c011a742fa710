"""What a trigger costs Airflow's triggerer: the size of its event, the round trips it makes, the
templates it has rendered, and how many events it hands over in one runner cycle."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from typing import Any

import pytest

from async_hooks.airflow import WaitForJobSensor, WaitForJobTrigger, _quietlog, _release

from ._support import needs_airflow_3_3, only_event, rebuilt

QUICK = {"poll_interval": 0.05, "jitter": 0.0}


async def test_an_event_stays_under_a_kilobyte_whatever_the_provider_answered(job_server, caplog):
    """A 10 KB failure reason (also in the describe answer): the event carries the summary and
    the reason's start; the whole reason is in the trigger's log."""
    server = job_server()
    reason = "stack frame " * 900
    job = server.create(polls=1, outcome="FAILED", reason=reason)
    trigger = rebuilt(
        WaitForJobTrigger(
            "http",
            hook_kwargs={"base_url": server.url},
            wait_args=[f"/jobs/{job}"],
            wait_kwargs=QUICK,
        )
    )
    with caplog.at_level(logging.WARNING, logger="async_hooks"):
        payload = await only_event(trigger)
        assert _quietlog.flush()
    assert len(json.dumps(payload)) <= 1024
    result = payload["result"]
    assert result["response"] is None
    assert set(result) == {
        "kind",
        "job_id",
        "status",
        "succeeded",
        "reason",
        "polls",
        "elapsed",
        "response",
    }
    assert payload["reason"] == result["reason"]
    assert payload["reason"].startswith("stack frame stack frame")
    assert payload["reason"].endswith(" more characters)")
    assert len(payload["reason"]) < 350
    assert any(reason.strip() in r.getMessage() for r in caplog.records)


async def test_include_response_carries_the_whole_answer(job_server):
    server = job_server()
    job = server.create(polls=1)
    trigger = rebuilt(
        WaitForJobTrigger(
            "http",
            hook_kwargs={"base_url": server.url},
            wait_args=[f"/jobs/{job}"],
            wait_kwargs=QUICK,
            include_response=True,
        )
    )
    payload = await only_event(trigger)
    assert payload["result"]["response"]["id"] == job


async def test_push_result_false_ends_the_task_with_a_bare_success_event(job_server):
    from airflow.triggers.base import TaskSuccessEvent

    server = job_server()
    job = server.create(polls=1)
    trigger = rebuilt(
        WaitForJobTrigger(
            "http",
            hook_kwargs={"base_url": server.url},
            wait_args=[f"/jobs/{job}"],
            wait_kwargs=QUICK,
            end_from_trigger=True,
            push_result=False,
        )
    )
    (event,) = [event async for event in trigger.run()]
    assert isinstance(event, TaskSuccessEvent)
    assert event.xcoms is None


def test_the_sensor_passes_do_xcom_push_and_include_response_to_its_trigger():
    sensor = WaitForJobSensor(
        task_id="w",
        provider="http",
        job_id="/jobs/1",
        hook_kwargs={"base_url": "http://example.invalid"},
        do_xcom_push=False,
        include_response=True,
    )
    kwargs = sensor.start_trigger_args.trigger_kwargs
    assert (kwargs["push_result"], kwargs["include_response"]) == (False, True)


def test_the_sensor_stores_only_the_trigger_kwargs_that_differ_from_the_defaults():
    """Every trigger the scheduler starts carries its whole DAG, each sensor's trigger kwargs
    among it: defaults are left to the trigger's signature."""
    sensor = WaitForJobSensor(
        task_id="w",
        provider="http",
        job_id="/jobs/1",
        hook_kwargs={"base_url": "http://example.invalid"},
        wait_kwargs={"timeout": 600},
    )
    kwargs = sensor.start_trigger_args.trigger_kwargs
    assert set(kwargs) == {
        "provider",
        "hook_kwargs",
        "wait_args",
        "wait_kwargs",
        "end_from_trigger",
        "deferral_span",
    }
    trigger = WaitForJobTrigger(**kwargs)
    assert (trigger.method, trigger.polls, trigger.push_result) == ("wait_for_job", 0, True)
    assert (trigger.cancel_on_kill, trigger.include_response) == (False, False)


@pytest.mark.parametrize(
    ("wait_kwargs", "execution_timeout", "span"),
    [
        ({"timeout": 600}, None, 900.0),  # the wait's timeout and the grace
        ({"timeout": 600}, dt.timedelta(minutes=5), 300.0),  # Airflow takes the shorter
        ({}, None, 3650 * 86400.0),  # no deadline: far away, but known
        pytest.param(  # rendered later: the same
            {"timeout": "{{ params.t }}"}, None, 3650 * 86400.0, marks=needs_airflow_3_3
        ),
    ],
)
def test_the_sensor_gives_airflow_a_timeout_whose_span_the_trigger_knows(
    wait_kwargs, execution_timeout, span
):
    sensor = WaitForJobSensor(
        task_id="w",
        provider="http",
        job_id="/jobs/1",
        hook_kwargs={"base_url": "http://example.invalid"},
        wait_kwargs=wait_kwargs,
        execution_timeout=execution_timeout,
    )
    args = sensor.start_trigger_args
    assert args.trigger_kwargs["deferral_span"] == span
    assert args.timeout == dt.timedelta(seconds=span)


async def test_a_triggerer_started_wait_takes_its_start_from_timeout_after(job_server, monkeypatch):
    """As the scheduler starts it: no ``started_at``; the runner sets ``timeout_after`` (the
    task's ``trigger_timeout``). Its try began 59.5 s ago, so a 60 s wait times out half a
    second later, without looking anything up in Airflow."""
    from async_hooks.airflow import _start

    def no_lookup(ti, now):
        raise AssertionError("the start was looked up although timeout_after gives it")

    monkeypatch.setattr(_start, "kept_start_bounded", no_lookup)
    server = job_server()
    job = server.create(polls=10_000)  # running whenever it is polled
    trigger = WaitForJobTrigger(  # on a running loop, with no started_at
        "http",
        hook_kwargs={"base_url": server.url},
        wait_args=[f"/jobs/{job}"],
        wait_kwargs={"poll_interval": 0.05, "timeout": 60},
        deferral_span=360.0,
    )
    began = time.time()
    trigger.timeout_after = dt.datetime.fromtimestamp(began - 59.5 + 360.0, dt.timezone.utc)
    payload = await only_event(trigger)
    assert payload["status"] == "timeout"
    assert payload["result"]["elapsed"] >= 59.5
    assert time.time() - began < 30


def test_only_fields_that_hold_a_template_are_rendered_and_airflow_keeps_that():
    """Airflow compiles every string of a templated field per trigger: a plain ``conn_id``
    must not be one. The per-sensor list survives Airflow's DAG serialization."""
    from airflow.sdk import DAG
    from airflow.serialization.serialized_objects import DagSerialization

    with DAG("templates", schedule=None) as dag:
        WaitForJobSensor(
            task_id="w",
            provider="aws",
            kind="glue",
            job_id="{{ params.run }}",
            hook_kwargs={"conn_id": "aws"},
            wait_kwargs={"job_name": "etl", "timeout": 60},
        )
    assert dag.get_task("w").template_fields == ("wait_args",)
    again = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    assert tuple(again.get_task("w").template_fields) == ("wait_args",)


async def test_events_that_end_together_reach_the_runner_in_slices(job_server, monkeypatch):
    """Airflow's own runner (``TriggerRunner.run_trigger``, with greenback's portal, as in a
    triggerer: it hides the runner from the task) runs 60 triggers whose jobs end at the same
    poll; its ``process_trigger_events`` drains its queue once per cycle, as it does
    before each message to the supervisor. With a 0.45 s health threshold a slice is 15 events:
    no cycle carries more, and every event arrives."""
    from airflow.jobs.triggerer_job_runner import TriggerRunner

    monkeypatch.setenv("AIRFLOW__TRIGGERER__RUNNER_HEALTH_CHECK_THRESHOLD", "0.45")
    assert _release.slice_size() == 15
    server = job_server()
    jobs = [server.create(polls=2) for _ in range(60)]
    runner = TriggerRunner()
    tasks = []
    for trigger_id, job in enumerate(jobs):
        trigger = WaitForJobTrigger(
            "http",
            hook_kwargs={"base_url": server.url},
            wait_args=[f"/jobs/{job}"],
            wait_kwargs=QUICK,
        )
        runner.triggers[trigger_id] = {
            "task": None,
            "name": f"t{trigger_id}",
            "events": 0,
            "is_watcher": False,
        }
        tasks.append(asyncio.ensure_future(runner.run_trigger(trigger_id, trigger)))
    cycles: list[int] = []
    while not all(task.done() for task in tasks) or runner.events:
        await asyncio.sleep(0.2)  # a runner cycle
        message = runner.process_trigger_events([])
        cycles.append(len(message.events or ()))
    await asyncio.gather(*tasks)
    assert sum(cycles) == 60
    assert max(cycles) <= 15
    assert len([n for n in cycles if n]) >= 4


async def test_on_kill_questions_of_one_cycle_share_one_round_trip(monkeypatch):
    """A user marks 30 deferred tasks failed at once: their triggers' ``on_kill`` ask Airflow
    for 30 task states. No test process has a triggerer's supervisor, so this stands a
    recording channel where the runner's ``SUPERVISOR_COMMS`` would be (the deployment tests
    run the real one)."""
    from airflow.sdk.execution_time import task_runner
    from airflow.sdk.execution_time.comms import TaskStatesResult

    from async_hooks.airflow._comms import task_state

    asked: list[Any] = []

    class Channel:
        async def asend(self, message: Any) -> Any:
            asked.append(message)
            states = {run: dict.fromkeys(message.task_ids, "failed") for run in message.run_ids}
            return TaskStatesResult(task_states=states)

    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", Channel(), raising=False)

    class TI:
        def __init__(self, index: int) -> None:
            self.dag_id, self.task_id = "d", f"t{index % 3}"
            self.run_id, self.map_index = f"r{index}", -1

    states = await asyncio.gather(*(task_state(TI(i)) for i in range(30)))
    assert states == ["failed"] * 30
    assert len(asked) == 1
    assert (asked[0].dag_id, len(asked[0].run_ids), len(asked[0].task_ids)) == ("d", 30, 3)


@pytest.mark.parametrize("unsafe", [True, False])
async def test_on_airflow_3_1_to_3_2_1_a_trigger_lets_no_thread_wake_its_loop(
    job_server, monkeypatch, unsafe
):
    """Where a thread's wake-up can kill the triggerer's runner (apache/airflow #67380), the
    trigger's own context says so, and the waits it runs poll their threads' results."""
    from async_hooks._core.threads import THREAD_WAKEUPS
    from async_hooks.airflow import _trigger

    seen: list[bool] = []

    def log(level: int, message: str, *args: Any) -> None:
        seen.append(THREAD_WAKEUPS.get())

    monkeypatch.setattr(_trigger, "thread_wakeups_unsafe", lambda: unsafe)
    monkeypatch.setattr(_quietlog, "log", log)
    server = job_server()
    job = server.create(polls=1)
    trigger = WaitForJobTrigger(
        "http", hook_kwargs={"base_url": server.url}, wait_args=[f"/jobs/{job}"], wait_kwargs=QUICK
    )
    # In a task of its own, as Airflow's runner runs each trigger.
    assert (await asyncio.ensure_future(only_event(trigger)))["status"] == "success"
    assert seen and set(seen) == {not unsafe}
    assert THREAD_WAKEUPS.get() is True  # no other task's context is touched


@needs_airflow_3_3
def test_a_template_many_triggers_share_is_compiled_once_and_renders_each_context():
    """The triggerer renders each trigger's templated fields with a fresh environment; ours
    shares one that keeps compiled templates, so 2,000 sensors of one DAG compile a few
    strings, not 4,000."""
    from async_hooks.airflow import _templates

    def started(run: str) -> WaitForJobTrigger:
        trigger = WaitForJobTrigger(
            "http",
            hook_kwargs={"base_url": "http://example.invalid"},
            wait_args=["{{ params.job }}"],
            wait_kwargs={"timeout": 60},
        )
        trigger.template_fields = ("wait_args",)
        trigger.render_template_fields(context={"params": {"job": run}})
        return trigger

    before = _templates._template_env.from_string.cache_info() if _templates._template_env else None
    first, second = started("/jobs/1"), started("/jobs/2")
    assert (first.wait_args, second.wait_args) == (["/jobs/1"], ["/jobs/2"])
    info = _templates._template_env.from_string.cache_info()
    assert info.hits >= (before.hits if before else 0) + 1

"""``cancel_on_kill=True``: the trigger stops the remote job when the wait's deadline passes, and
on Airflow's ``on_kill`` only once the task really left ``deferred`` — never when Airflow cannot
tell (here: no triggerer around the trigger). moto's Step Functions executions stay RUNNING until
stopped, so what moto shows afterwards is what the trigger did. The user's "mark failed" and the
failover in a real deployment are in tests/deployment."""

from __future__ import annotations

import asyncio
import contextlib
from types import SimpleNamespace
from typing import Any

import pytest

from async_hooks.airflow import JobWait, WaitForJobTrigger
from async_hooks.aws import AsyncAwsHook
from async_hooks.testing.aws_jobs import start_executions

from ._support import needs_trigger_on_kill, only_event, rebuilt


async def execution_status(aws_conn: str, arn: str) -> str:
    async with AsyncAwsHook(conn_id=aws_conn) as hook:
        answer = await hook.call("stepfunctions", "describe_execution", executionArn=arn)
    return str(answer["status"])


async def long_execution(aws_conn: str) -> str:
    async with AsyncAwsHook(conn_id=aws_conn) as hook:
        runs = await start_executions(hook, {f"long-{id(hook)}": None})
    return next(iter(runs.values()))


def wait_on(aws_conn: str, arn: str, **wait_kwargs) -> JobWait:
    return JobWait(
        "aws",
        {"conn_id": aws_conn},
        ["stepfunctions", arn],
        {"poll_interval": 0.05, "jitter": 0.0, **wait_kwargs},
        cancel_on_kill=True,
    )


async def test_a_wait_past_its_deadline_stops_its_job(aws_conn, moto_server):
    arn = await long_execution(aws_conn)
    trigger = rebuilt(wait_on(aws_conn, arn, timeout=0.5).trigger())
    assert trigger.cancel_on_kill  # it travelled through Airflow's trigger row
    payload = await only_event(trigger)
    assert payload["status"] == "timeout"
    assert await execution_status(aws_conn, arn) == "ABORTED"


async def test_without_cancel_on_kill_the_deadline_leaves_the_job_running(aws_conn, moto_server):
    arn = await long_execution(aws_conn)
    timing = {"poll_interval": 0.05, "timeout": 0.5}
    plain = JobWait("aws", {"conn_id": aws_conn}, ["stepfunctions", arn], timing)
    payload = await only_event(rebuilt(plain.trigger()))
    assert payload["status"] == "timeout"
    assert await execution_status(aws_conn, arn) == "RUNNING"


async def test_on_kill_stops_nothing_when_the_tasks_state_cannot_be_read(
    aws_conn, moto_server, caplog
):
    arn = await long_execution(aws_conn)
    trigger = rebuilt(wait_on(aws_conn, arn, timeout=60).trigger())
    await trigger.on_kill()  # no triggerer: Airflow cannot be asked whether the task ended
    assert await execution_status(aws_conn, arn) == "RUNNING"
    assert "the task's state is unknown" in caplog.text


def test_the_trigger_row_carries_only_what_differs_from_the_defaults(aws_conn):
    classpath, kwargs = WaitForJobTrigger(
        "aws", hook_kwargs={"conn_id": aws_conn}, wait_args=["batch", "j-1"]
    ).serialize()
    assert classpath == "async_hooks.airflow.WaitForJobTrigger"
    assert {"method", "cancel_on_kill", "end_from_trigger"}.isdisjoint(kwargs)


@needs_trigger_on_kill
async def test_on_kill_stops_the_job_though_airflow_cancels_it_again_each_cycle(
    aws_conn, moto_server, monkeypatch
):
    """A user marks the task failed: Airflow's runner cancels the trigger's task "by user
    action", which calls ``on_kill``, and sends that cancel again on each of its cycles (about
    a second) until the trigger has ended. An ``on_kill`` still asking the task's state then
    (a busy triggerer) is cancelled with it, and Airflow says nothing: the job must be stopped
    all the same. Airflow's own runner drives the trigger; a channel that answers when told
    stands where its supervisor would be."""
    from airflow.jobs.triggerer_job_runner import TriggerRunner
    from airflow.sdk.execution_time import task_runner
    from airflow.sdk.execution_time.comms import GetTaskStates, TaskStatesResult

    monkeypatch.setenv("AIRFLOW_DISABLE_GREENBACK_PORTAL", "true")
    asked, answer = asyncio.Event(), asyncio.Event()

    class Channel:
        async def asend(self, message: Any) -> Any:
            assert isinstance(message, GetTaskStates), message
            asked.set()
            await answer.wait()
            states = {run: dict.fromkeys(message.task_ids, "failed") for run in message.run_ids}
            return TaskStatesResult(task_states=states)

    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", Channel(), raising=False)
    arn = await long_execution(aws_conn)
    trigger = rebuilt(wait_on(aws_conn, arn, timeout=60).trigger())
    trigger.task_instance = SimpleNamespace(
        id="ti-1",
        dag_id="d",
        task_id="t",
        run_id="r",
        try_number=1,
        map_index=-1,
        context_carrier=None,
    )
    runner = TriggerRunner()
    task = asyncio.ensure_future(runner.run_trigger(1, trigger))
    runner.triggers[1] = {"task": task, "name": "t", "events": 0, "is_watcher": False}
    # Not a window to win: with greenback's portal off, the task's first step (at this sleep's
    # first loop iteration) takes run_trigger into its ``try``, where a cancel calls on_kill.
    await asyncio.sleep(0.5)
    runner.to_cancel.append(1)  # the user's "mark failed"
    await runner.cancel_triggers()
    await asyncio.wait_for(asked.wait(), 10)  # on_kill asks whether the task ended
    runner.to_cancel.append(1)  # the next cycle: the trigger has not ended yet
    await runner.cancel_triggers()
    answer.set()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    for _ in range(300):
        if await execution_status(aws_conn, arn) != "RUNNING":
            break
        await asyncio.sleep(0.1)
    assert await execution_status(aws_conn, arn) == "ABORTED"


@pytest.mark.parametrize(
    ("state", "ended"),
    [
        ("deferred", False),  # the trigger moved to another triggerer
        ("failed", True),  # marked failed
        ("success", True),  # marked succeeded
        (None, True),  # cleared, not yet scheduled again
        ("scheduled", True),  # cleared, and scheduled again before on_kill asked
        ("queued", True),
        ("running", True),
        ("up_for_retry", True),
        ("absent", True),  # its run deleted
    ],
)
async def test_on_kill_takes_every_state_but_deferred_for_a_users_action(monkeypatch, state, ended):
    """A cleared task may be scheduled or queued again by the time its old trigger's
    ``on_kill`` asks: its old try's job is no longer wanted all the same. Only ``deferred``
    means the trigger merely moved. A recording channel stands where the runner's supervisor
    would be (the deployment tests run the real one)."""
    from airflow.sdk.execution_time import task_runner
    from airflow.sdk.execution_time.comms import TaskStatesResult

    from async_hooks.airflow._cancel import task_ended

    class Channel:
        async def asend(self, message: Any) -> Any:
            found = {} if state == "absent" else {"t": state}
            return TaskStatesResult(task_states={"r": found})

    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", Channel(), raising=False)
    ti = SimpleNamespace(dag_id="d", task_id="t", run_id="r", map_index=-1)
    assert await task_ended(ti) is ended

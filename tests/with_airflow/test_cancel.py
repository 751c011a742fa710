"""``cancel_on_kill=True``: the trigger stops the remote job when the wait's deadline passes, and
on Airflow's ``on_kill`` only once the task really left ``deferred`` — never when Airflow cannot
tell (here: no triggerer around the trigger). moto's Step Functions executions stay RUNNING until
stopped, so what moto shows afterwards is what the trigger did. The user's "mark failed" and the
failover in a real deployment are in tests/deployment."""

from __future__ import annotations

from async_hooks.airflow import JobWait, WaitForJobTrigger
from async_hooks.aws import AsyncAwsHook
from async_hooks.testing.aws_jobs import start_executions

from ._support import only_event, rebuilt


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

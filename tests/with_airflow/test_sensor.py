"""``WaitForJobSensor`` and the trigger's other waits, through Airflow's own parts: the DAG's
serialization (what the scheduler starts the trigger from), the triggerer's template rendering,
``dag.test()``, against real servers. The deployment tests (tests/deployment) run the same
sensor in a real scheduler and triggerers."""

from __future__ import annotations

import asyncio
import os

import pytest
from aiohttp import web

from async_hooks.airflow import JobWaitError, WaitForJobSensor, WaitForJobTrigger
from async_hooks.errors import HookConfigError

from ._support import needs_airflow_3_3, only_event, rebuilt


def sense_dag(server, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("JOBS_URL", server.url)
    bag = DagBag(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    assert not bag.import_errors
    return bag.get_dag("sense_job")


@needs_airflow_3_3
def test_the_scheduler_starts_the_sensor_in_the_triggerer(airflow_db, job_server, monkeypatch):
    from airflow.serialization.serialized_objects import BaseSerialization, DagSerialization

    dag = sense_dag(job_server(), monkeypatch)
    # What the scheduler reads: the DAG as the dag-processor serialised it.
    task = DagSerialization.from_dict(DagSerialization.to_dict(dag)).get_task("sense")
    assert task.start_from_trigger
    args = task.start_trigger_args
    assert args.trigger_cls == "async_hooks.airflow.WaitForJobTrigger"
    assert args.next_method == "execute_complete"
    kwargs = BaseSerialization.deserialize(args.trigger_kwargs)  # as the trigger row holds them
    assert kwargs["wait_args"] == ["/jobs/{{ params.job }}"]  # rendered in the triggerer
    assert "started_at" not in kwargs  # kept by the trigger's first run, not the parse
    assert kwargs["end_from_trigger"] is True
    assert args.timeout is not None and args.timeout.total_seconds() > 30  # after its own


@needs_airflow_3_3
async def test_the_rendered_trigger_ends_a_successful_task_in_the_triggerer(
    airflow_db, job_server, monkeypatch
):
    from airflow.triggers.base import TaskSuccessEvent

    server = job_server()
    job = server.create(polls=1)
    sensor = sense_dag(server, monkeypatch).get_task("sense")
    # The triggerer's steps: build the trigger from the stored kwargs on its loop, render the
    # operator's templated fields that are trigger kwargs, run it.
    trigger = WaitForJobTrigger(**sensor.start_trigger_args.trigger_kwargs)
    trigger.template_fields = ("hook_kwargs", "wait_args", "wait_kwargs")
    trigger.render_template_fields(context={"params": {"job": job}})
    events = [event async for event in trigger.run()]
    assert len(events) == 1 and isinstance(events[0], TaskSuccessEvent)
    result = events[0].xcoms["return_value"]
    assert (result["job_id"], result["status"], result["succeeded"]) == (
        f"/jobs/{job}",
        "SUCCEEDED",
        True,
    )


@pytest.mark.parametrize("outcome", ["SUCCEEDED", "FAILED"])
def test_dag_test_runs_the_sensor(outcome, airflow_db, job_server, monkeypatch):
    server = job_server()
    job = server.create(polls=1, outcome=outcome, reason="quota exceeded")
    dag = sense_dag(server, monkeypatch)
    run = dag.test(run_conf={"job": job})
    (ti,) = run.get_task_instances()
    expected = "success" if outcome == "SUCCEEDED" else "failed"
    assert (run.state, ti.state) == (expected, expected)


def test_a_failed_job_fails_the_sensor_with_the_providers_reason(job_server):
    server = job_server()
    job = server.create(polls=1, outcome="FAILED", reason="quota exceeded")
    sensor = WaitForJobSensor(
        task_id="s",
        provider="http",
        job_id=f"/jobs/{job}",
        hook_kwargs={"base_url": server.url},
        wait_kwargs={"poll_interval": 0.05},
        start_from_trigger=False,
    )
    from airflow.sdk.exceptions import TaskDeferred

    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    trigger = rebuilt(deferred.value.trigger)
    import asyncio

    payload = asyncio.run(only_event(trigger))  # a failure resumes on a worker: a plain event
    with pytest.raises(JobWaitError, match="quota exceeded"):
        sensor.execute_complete({}, event=payload)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"provider": "http"}, "needs job_id="),
        ({"provider": "http", "job_id": "/j", "wait_args": ["/j"]}, "not both"),
        ({"provider": "nope", "job_id": "x"}, "unknown provider 'nope'"),
        ({"provider": "aws", "kind": "batch", "job_id": "x", "method": "wait"}, "no wait 'wait'"),
    ],
)
def test_a_sensor_given_the_wrong_arguments_says_which(kwargs, message):
    with pytest.raises(HookConfigError, match=message):
        WaitForJobSensor(task_id="s", **kwargs)


async def test_a_trigger_waits_for_an_s3_key_with_the_same_machinery(aws_conn, moto_server):
    from async_hooks.aws import AsyncAwsHook

    async with AsyncAwsHook(conn_id=aws_conn) as hook:
        await hook.call("s3", "create_bucket", Bucket="landing")
        await hook.call("s3", "put_object", Bucket="landing", Key="day=1/_SUCCESS", Body=b"")
    trigger = rebuilt(
        WaitForJobTrigger(
            "aws",
            hook_kwargs={"conn_id": aws_conn},
            method="wait_for_s3_key",
            wait_args=["landing", "day=1/_SUCCESS"],
            wait_kwargs={"poll_interval": 0.05},
        )
    )
    assert trigger.method == "wait_for_s3_key"
    payload = await only_event(trigger)
    assert payload["status"] == "success"
    assert (payload["result"]["kind"], payload["result"]["job_id"]) == (
        "s3-key",
        "s3://landing/day=1/_SUCCESS",
    )


def test_a_wait_the_hook_does_not_have_is_refused_with_the_ones_it_has():
    with pytest.raises(HookConfigError, match="it has wait_for_job, wait_for_s3_key"):
        WaitForJobTrigger("aws", method="wait_for_everything", wait_args=["b", "k"])


def test_cancel_on_kill_is_refused_for_a_wait_with_nothing_to_stop():
    with pytest.raises(HookConfigError, match="wait_for_s3_key waits on nothing it can stop"):
        WaitForJobTrigger(
            "aws", method="wait_for_s3_key", wait_args=["b", "k"], cancel_on_kill=True
        )


async def test_a_timeout_whose_polls_all_failed_names_the_last_error(threaded_server):
    seen = []

    async def unavailable(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.json_response({"message": "down for maintenance"}, status=503)

    app = web.Application()
    app.router.add_get("/jobs/{job}", unavailable)
    server = threaded_server(app)
    trigger = WaitForJobTrigger(
        "http",
        hook_kwargs={"base_url": server.url, "retry": {"max_attempts": 1}},
        wait_args=["/jobs/1"],
        wait_kwargs={"poll_interval": 0.05, "timeout": 1.0, "jitter": 0.0},
    )
    payload = await only_event(trigger)
    assert payload["status"] == "timeout"
    assert seen  # the server saw the polls
    assert "still without a status" in payload["reason"]
    assert "the last poll failed: " in payload["reason"]
    assert "503" in payload["reason"]


async def test_a_bad_row_in_the_triggerer_is_a_failed_event_not_a_crash(job_server):
    """Airflow's trigger runner stops on any error but a TypeError from a trigger's
    ``__init__``; a sensor's row is never checked in a worker, so the trigger must survive it."""
    import async_hooks.http  # noqa: F401  (imported already, as after a first trigger)

    trigger = WaitForJobTrigger(  # on a running loop: as the triggerer builds it
        "http", hook_kwargs={"base_urll": job_server().url}, wait_args=["/jobs/1"]
    )
    payload = await only_event(trigger)
    assert payload["status"] == "failed"
    assert "http hook has no setting 'base_urll'" in payload["reason"]


async def test_a_rendered_timeout_is_read_as_seconds(job_server):
    server = job_server()
    job = server.create(polls=1)
    trigger = WaitForJobTrigger(
        "http",
        hook_kwargs={"base_url": server.url},
        wait_args=[f"/jobs/{job}"],
        wait_kwargs={"poll_interval": "0.05", "timeout": "30"},  # as a template renders them
    )
    payload = await only_event(trigger)
    assert payload["status"] == "success"
    assert trigger.deadline == trigger.started_at + 30.0


async def test_a_timing_value_that_is_not_seconds_fails_the_wait_naming_it(job_server):
    trigger = WaitForJobTrigger(
        "http",
        hook_kwargs={"base_url": job_server().url},
        wait_args=["/jobs/1"],
        wait_kwargs={"timeout": "an hour"},
    )
    payload = await only_event(trigger)
    assert payload["status"] == "failed"
    assert "wait_kwargs['timeout'] is 'an hour', not seconds" in payload["reason"]


async def test_a_start_kept_by_an_earlier_trigger_moves_the_deadline_back(job_server, monkeypatch):
    """A triggerer-started wait polls at once and looks its kept start up meanwhile; here the
    look-up (an XCom through the triggerer's supervisor, which no test process has) answers
    that the try began 59.5 s ago, so a 60 s wait ends half a second later."""
    import time

    from async_hooks.airflow import _start

    server = job_server()
    job = server.create(polls=10_000)  # still running whenever it is polled

    async def long_ago(now):
        return now - 59.5

    def kept_long_ago(ti, now):  # as the real one: a future the trigger never cancels
        return asyncio.ensure_future(long_ago(now))

    monkeypatch.setattr(_start, "kept_start_bounded", kept_long_ago)
    trigger = WaitForJobTrigger(  # no started_at, on a running loop: as the scheduler starts it
        "http",
        hook_kwargs={"base_url": server.url},
        wait_args=[f"/jobs/{job}"],
        wait_kwargs={"poll_interval": 0.05, "timeout": 60},
    )
    began = time.time()
    payload = await only_event(trigger)
    assert payload["status"] == "timeout"
    assert payload["result"]["elapsed"] >= 59.5  # counted from the kept start
    assert time.time() - began < 30  # it did not wait its own 60 s


async def test_a_triggers_status_changes_are_logged_off_the_loop(job_server, caplog):
    """A blocking log handler (the runner's stderr, a pipe to a busy supervisor) must not hold
    the loop every trigger shares: the trigger hands the changes that tell something to one
    writer thread and goes on, and the core's own line for each is DEBUG. Not the first status
    (the job was found so) nor the success (Airflow's "Trigger fired event" says it)."""
    import logging
    import threading

    from async_hooks.airflow import _quietlog

    server = job_server()
    job = server.create(polls=2)
    trigger = WaitForJobTrigger(
        "http",
        hook_kwargs={"base_url": server.url},
        wait_args=[f"/jobs/{job}"],
        wait_kwargs={"poll_interval": 0.05, "jitter": 0.0},
    )
    with caplog.at_level(logging.INFO, logger="async_hooks"):
        payload = await only_event(trigger)
        assert _quietlog.flush()
    assert payload["status"] == "success"
    changes = [r for r in caplog.records if " -> " in r.getMessage()]
    assert [r.getMessage().rsplit(": ", 1)[1] for r in changes] == ["PENDING -> RUNNING"]
    assert all(r.thread != threading.get_ident() for r in changes)  # none from the loop's thread
